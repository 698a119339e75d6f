/**
 * `npm run bench`: seeds the dataset on each engine, then for each scenario runs Basalt (the
 * built server, `node bin/basalt.js serve`) and the raw-driver floor one after the other on the
 * same database, under the same autocannon load, and prints Basalt's share of the floor.
 *
 * Environment: BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (10),
 * BENCH_ENGINES (sqlite,postgres), BENCH_SCENARIOS (all), BENCH_PG_URL, BENCH_LOG_LEVEL (warn),
 * BENCH_PROFILE=1 or --cpu-prof, BENCH_REALTIME (1000,5000,10000 subscribers, or off), BENCH_FILES (off to skip),
 * BENCH_JOBS (off to skip the job-queue runs), BENCH_HOOKS (off to skip the hooks runs),
 * BENCH_HOOKS_ROUNDS (3), BENCH_WEBHOOKS (off to skip the outbound-webhook runs), BENCH_LOGS (off to
 * skip the stored-logs runs; BENCH_LOGS_ROUNDS, BENCH_LOGS_SECONDS, BENCH_LOGS_CONNECTIONS), BENCH_CLUSTER
 * (off to skip the cluster runs; BENCH_CLUSTER_ROUNDS, BENCH_CLUSTER_SECONDS, BENCH_CLUSTER_CONNECTIONS,
 * BENCH_CLUSTER_PGBOUNCER, BENCH_REDIS_URL), BENCH_LARGE (0 to skip the large-collections runs; BENCH_LARGE_ROWS),
 * BENCH_ONLY=jobs, hooks, webhooks, logs, cluster or large (those alone).
 * See bench/README.md.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, installCleanupHandlers, interrupted } from './cleanup.js';
import bcrypt from 'bcrypt';
import { DEFAULT_PASSWORD_COST } from '../src/core/collections/fields/password-field.js';
import { seedDataset, USER_PASSWORD, type Dataset, type Target } from './dataset.js';
import { stopLoad } from './load.js';
import { measureSide, type Side } from './measure.js';
import { readOptions, type Engine, type Options } from './options.js';
import { printFileBench, runFileBench, seedFileBench, type FileBenchResult } from './files.js';
import { freePort, startServer } from './processes.js';
import { formatFanoutTable, runFanoutBench, type FanoutRow } from './realtime-fanout.js';
import { formatTable, loadProblems, type ScenarioResult } from './report.js';
import { formatJobsTable, jobsOptionsFromEnv, runJobsBench, type JobsBenchRow } from './jobs.js';
import { formatWebhooksTable, runWebhooksBench, webhooksOptionsFromEnv, type WebhooksBenchRow } from './webhooks.js';
import { formatLogsTable, logsOptionsFromEnv, runLogsBench, type LogsBenchRow } from './logs.js';
import { clusterOptionsFromEnv, formatClusterTable, runClusterBench, type ClusterBenchRow } from './cluster.js';
import { formatLargeTable, goalChecks, largeOptionsFromEnv, runLargeBench, type LargeBenchRow } from './large.js';
import { formatWorkflowsTable, runWorkflowsBench, type WorkflowsBenchRow } from './workflows.js';
import { formatHooksTable, HOOK_MARKER, HOOK_SCENARIOS, runHooksBench, type HooksRow, type HookVariant } from './hooks.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { compareSamples } from './shape.js';
import { createTarget, isReachable } from './targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, '.bench');
const SIZES = { users: 100, posts: 10_000 };

let options: Options;
try {
  options = readOptions(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(2);
}
const { settings, profile, pgAdminUrl, logLevel } = options;
const results: ScenarioResult[] = [];
const fanout: FanoutRow[] = [];
let files: FileBenchResult | null = null;
let jobRows: JobsBenchRow[] = [];
let webhookRows: WebhooksBenchRow[] = [];
let workflowRows: WorkflowsBenchRow[] = [];
const webhookOptions = webhooksOptionsFromEnv(process.env);
let logRows: LogsBenchRow[] = [];
const logOptions = logsOptionsFromEnv(process.env);
let clusterRows: ClusterBenchRow[] = [];
const clusterOptions = clusterOptionsFromEnv(process.env);
const largeRows: LargeBenchRow[] = [];
let largeOptions: ReturnType<typeof largeOptionsFromEnv>;
try {
  largeOptions = largeOptionsFromEnv(process.env);
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(2);
}
const hookRows: HooksRow[] = [];
const hookFailures: string[] = [];
const jobOptions = jobsOptionsFromEnv(process.env);

/** What `basalt serve` prints that is no log line: its address, and the first-run link while no superuser exists. */
const SERVE_BANNER = /^(Basalt is serving |\(!\) No superuser exists yet|\S+\/_\/#\/pbinstal\/|\(or create one with: |No superuser exists yet: )/;

/** The child's environment without BASALT_* (flags decide everything) plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BASALT_')) env[k] = v;
  return { ...env, ...extra };
}

const databaseName = (url: string) => new URL(url).pathname.slice(1);

/** Basalt's side; with `hooks`, started with `--hooks hooks.dir` (none when `dir` is null). */
function basaltSide(target: Target, scenario: Scenario, hooks?: { variant: HookVariant; dir: string | null }): Side {
  const label = hooks ? `-hooks-${hooks.variant}` : '';
  const profileFlags = profile ? ['--cpu-prof', '--cpu-prof-dir', join(OUT, 'profiles'), '--cpu-prof-name', `basalt-${target.engine}-${scenario.id}${label}.cpuprofile`] : [];
  const db = target.engine === 'postgres' ? ['--db', target.url] : [];
  const hooksFlag = hooks?.dir ? ['--hooks', hooks.dir] : [];
  return {
    name: hooks ? `Basalt (${hooks.variant})` : 'Basalt',
    // The no-op hook file prints one line when it is loaded (bench/hooks.ts checks it is there).
    quietLines: hooks ? new RegExp(`${SERVE_BANNER.source}|^${HOOK_MARKER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : SERVE_BANNER,
    database: target.engine === 'postgres' ? databaseName(target.url) : undefined,
    start: (port) => ({
      name: `basalt-${target.engine}`,
      cwd: ROOT,
      env: childEnv(),
      nodeArgs: [...profileFlags, 'bin/basalt.js', 'serve', '--http', `127.0.0.1:${port}`, '--dir', target.dir, ...db, ...hooksFlag, '--log-level', logLevel],
    }),
  };
}

function floorSide(target: Target, data: Dataset): Side {
  const file = target.engine === 'postgres' ? 'bench/floor-postgres.ts' : 'bench/floor-sqlite.ts';
  const db = target.engine === 'postgres' ? target.url : join(target.dir, 'data.db');
  return {
    name: 'floor',
    quietLines: /^floor-\w+ listening on /,
    database: target.engine === 'postgres' ? databaseName(target.url) : undefined,
    start: (port) => ({
      name: `floor-${target.engine}`,
      cwd: ROOT,
      env: childEnv({ FLOOR_PORT: String(port), FLOOR_DB: db, FLOOR_COLLECTION_ID: data.postsCollectionId }),
      nodeArgs: ['--import', 'tsx', file],
    }),
  };
}

async function runScenario(target: Target, data: Dataset, scenario: Scenario, connections: number): Promise<ScenarioResult> {
  const log = (who: string) => join(OUT, 'logs', `${target.engine}-${scenario.id}-${connections}-${who}.log`);
  const at = { ...settings, connections };
  // The same sample request and the same request sequence for both sides.
  const basalt = await measureSide(basaltSide(target, scenario), log('basalt'), scenario.requests(data)(), scenario.requests(data), at);
  const floor = await measureSide(floorSide(target, data), log('floor'), scenario.requests(data)(), scenario.requests(data), at);
  const ratio = floor.load.reqPerSec > 0 ? basalt.load.reqPerSec / floor.load.reqPerSec : 0;
  const notes = [
    ...loadProblems('Basalt', basalt.load),
    ...basalt.problems,
    ...loadProblems('floor', floor.load),
    ...floor.problems,
    ...compareSamples(basalt.sample, floor.sample, scenario.compare),
  ];
  return {
    engine: target.engine,
    scenario: scenario.id,
    connections,
    basalt: basalt.load,
    floor: floor.load,
    ratio,
    target: scenario.target,
    verdict: ratio >= scenario.target ? 'PASS' : 'MISS',
    notes,
    otherCpu: { basalt: basalt.otherCpu, floor: floor.otherCpu },
  };
}

async function benchEngine(engine: Engine): Promise<void> {
  const target = await createTarget(engine, pgAdminUrl);
  const started = Date.now();
  const data = await seedDataset(target, SIZES);
  console.log(`${engine}: seeded ${data.userIds.length} users and ${data.postIds.length} posts in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (options.only === 'hooks') return benchHooks(target, data);
  // Reads first: the create scenario adds rows, and both sides of a read must see the same ones.
  const scenarios = SCENARIOS.filter((s) => options.scenarios.includes(s.id)).sort((a, b) => Number(a.writes) - Number(b.writes));
  for (const scenario of scenarios) {
    for (const connections of options.connectionLevels) {
      const r = await runScenario(target, data, scenario, connections);
      if (interrupted()) return; // cut short by Ctrl-C: not a measurement
      results.push(r);
      console.log(`${engine} ${scenario.id} @${connections}: Basalt ${Math.round(r.basalt.reqPerSec)} req/s, floor ${Math.round(r.floor.reqPerSec)} req/s → ${(r.ratio * 100).toFixed(1)} % (target ${r.target * 100} %)`);
    }
  }
  if (options.hooks && !interrupted()) await benchHooks(target, data);
  // Fan-out is the same code on every engine (one rule check per group of subscribers): once, on SQLite.
  if (target.engine === 'sqlite' && options.realtimeLevels.length > 0 && !interrupted()) {
    fanout.push(...(await runFanoutBench(target, data, options.realtimeLevels, ROOT, join(OUT, 'logs'), logLevel)));
  }
  if (target.engine === 'sqlite' && options.files && !interrupted()) files = await benchFiles(target);
}

/** Basalt without --hooks, with an empty hooks directory and with one no-op create hook (bench/hooks.ts). */
async function benchHooks(target: Target, data: Dataset): Promise<void> {
  const scenarios = SCENARIOS.filter((s) => HOOK_SCENARIOS.includes(s.id) && options.scenarios.includes(s.id));
  if (scenarios.length === 0) return;
  try {
    hookRows.push(
      ...(await runHooksBench({
        target,
        data,
        scenarios,
        settings,
        rounds: options.hooksRounds,
        side: (scenario, variant, dir) => basaltSide(target, scenario, { variant, dir }),
        logDir: join(OUT, 'logs'),
      })),
    );
  } catch (err) {
    // A server that does not start with --hooks: its message is the result.
    if (interrupted()) return;
    const message = `hooks run on ${target.engine} failed: ${err instanceof Error ? err.message : String(err)}`;
    console.error(message);
    hookFailures.push(message);
  }
}

/** Uploads and thumbnails on local disk (SQLite): storage and sharp, not the engine, are what they measure. */
async function benchFiles(target: Target): Promise<FileBenchResult> {
  const data = await seedFileBench(target, { records: 20 });
  const port = await freePort();
  const server = await startServer({
    name: 'basalt-files',
    cwd: ROOT,
    port,
    logFile: join(OUT, 'logs', 'files-basalt.log'),
    env: childEnv(),
    nodeArgs: ['bin/basalt.js', 'serve', '--http', `127.0.0.1:${port}`, '--dir', target.dir, '--log-level', logLevel],
  });
  try {
    const result = await runFileBench({ url: server.url, data, seconds: settings.seconds, connections: settings.connections, print: false });
    console.log(`files: upload p50 ${result.upload.p50Ms.toFixed(1)} ms, first thumb p50 ${result.firstThumb.p50Ms.toFixed(1)} ms, cached thumb ${(result.ratio * 100).toFixed(1)} % of a plain file`);
    return result;
  } finally {
    await server.stop();
  }
}

async function enginesToRun(): Promise<Engine[]> {
  const { engines, enginesExplicit } = options;
  if (!engines.includes('postgres') || (await isReachable(pgAdminUrl))) return engines;
  const safeUrl = pgAdminUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  if (enginesExplicit) throw new Error(`PostgreSQL is not reachable at ${safeUrl} (BENCH_PG_URL)`);
  console.log(`PostgreSQL is not reachable at ${safeUrl}: running SQLite only (set BENCH_PG_URL).`);
  return engines.filter((e) => e !== 'postgres');
}

function report(): void {
  if (jobRows.length > 0) console.log(`\n${formatJobsTable(jobRows, jobOptions)}\n`);
  if (webhookRows.length > 0) console.log(`\n${formatWebhooksTable(webhookRows, webhookOptions)}\n`);
  if (workflowRows.length > 0) console.log(`\n${formatWorkflowsTable(workflowRows)}\n`);
  if (logRows.length > 0) console.log(`\n${formatLogsTable(logRows, logOptions)}\n`);
  if (clusterRows.length > 0) console.log(`\n${formatClusterTable(clusterRows, clusterOptions)}\n`);
  if (largeRows.length > 0) writeLarge();
  if (hookRows.length > 0) console.log(`\n${formatHooksTable(hookRows, options.hooksRounds)}\n`);
  if (hookFailures.length > 0) console.log(`\n${hookFailures.join('\n')}\n`);
  if (results.length === 0 && fanout.length === 0 && !files && hookRows.length === 0) return;
  if (results.length > 0) console.log(`\n${formatTable(results)}\n`);
  if (fanout.length > 0) console.log(`Realtime fan-out (SQLite; from sending one write until each subscriber has its event):\n${formatFanoutTable(fanout)}\n`);
  if (files) {
    console.log('Files (SQLite, local disk):');
    printFileBench(files);
    console.log('');
  }
  const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavg: loadavg(), settings, profile, logLevel, sizes: SIZES };
  writeFileSync(join(OUT, 'results.json'), JSON.stringify({ ...meta, results, hooks: hookRows, fanout, files: files && { ...files, cachedThumb: files.cachedThumb.reqPerSec, plainFile: files.plainFile.reqPerSec, original: files.original.reqPerSec } }, null, 2) + '\n');
  console.log(`Results written to ${join(OUT, 'results.json')}`);
  if (profile) console.log(`CPU profiles of Basalt (one per engine and scenario): ${join(OUT, 'profiles')}/basalt-<engine>-<scenario>.cpuprofile — open them in Chrome DevTools (Performance) or VS Code. Profiled runs are slower: do not compare their ratios with unprofiled ones.`);
}

async function main(): Promise<void> {
  installCleanupHandlers(stopLoad);
  rmSync(join(OUT, 'logs'), { recursive: true, force: true });
  mkdirSync(join(OUT, 'logs'), { recursive: true });
  if (profile) mkdirSync(join(OUT, 'profiles'), { recursive: true });
  const engines = await enginesToRun();
  console.log(
    `${options.only === 'hooks' ? 'Basalt without and with hook files' : options.only === 'large' ? 'Large collections' : 'Basalt vs floor'}: ${engines.join(', ')}; ${(options.only === 'large' ? [settings.connections] : options.connectionLevels).join(' and ')} connections, ${settings.warmupSeconds} s warm-up + ${settings.seconds} s per run; ` +
      `${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}${profile ? '; CPU profiling ON' : ''}`,
  );
  if (options.only !== 'jobs' && options.only !== 'webhooks' && options.only !== 'logs' && options.only !== 'cluster' && options.only !== 'large') {
    if (options.only === null && options.scenarios.includes('auth-with-password')) console.log(await passwordHashCost());
    for (const engine of engines) await benchEngine(engine);
  }
  if ((options.only === 'jobs' || (options.only === null && options.jobs)) && !interrupted()) jobRows = await runJobsBench({ ...jobOptions, engines, pgAdminUrl });
  if ((options.only === 'webhooks' || (options.only === null && options.webhooks)) && !interrupted()) webhookRows = await runWebhooksBench({ ...webhookOptions, engines, pgAdminUrl }, join(OUT, 'logs'));
  if ((options.only === 'webhooks' || (options.only === null && options.webhooks)) && !interrupted()) workflowRows = await runWorkflowsBench({ engines, pgAdminUrl, env: process.env });
  if ((options.only === 'logs' || (options.only === null && options.logs)) && !interrupted()) logRows = await runLogsBench({ ...logOptions, engines, pgAdminUrl }, join(OUT, 'logs'));
  if ((options.only === 'cluster' || (options.only === null && options.cluster)) && !interrupted()) clusterRows = await runClusterBench({ ...clusterOptions, pgAdminUrl }, join(OUT, 'logs'));
  if ((options.only === 'large' || (options.only === null && options.large)) && !interrupted()) await runLargeBench({ ...largeOptions, engines, pgAdminUrl, settings }, join(OUT, 'logs'), largeRows);
}

/** The large-collections table, and its figures in .bench/large.json (the other runs' file is written only when they ran). */
function writeLarge(): void {
  console.log(`\n${formatLargeTable(largeRows, settings)}\n`);
  const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavg: loadavg(), settings, largeRows: largeOptions.largeRows };
  const rows = largeRows.map((r) => ({ ...r, goals: goalChecks(r) }));
  writeFileSync(join(OUT, 'large.json'), JSON.stringify({ ...meta, large: rows }, null, 2) + '\n');
  console.log(`Large-collections results written to ${join(OUT, 'large.json')}`);
}

/** What one password check costs here (bcrypt at Basalt's default cost), for the closing notes. */
async function passwordHashCost(): Promise<string> {
  const hash = await bcrypt.hash(USER_PASSWORD, DEFAULT_PASSWORD_COST);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await bcrypt.compare(USER_PASSWORD, hash);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return `bcrypt cost ${DEFAULT_PASSWORD_COST}: ${times[2].toFixed(1)} ms per verify (median of 5, one thread); the thread pool runs 4 at once`;
}

main().then(
  async () => {
    report();
    await cleanupAll();
  },
  async (err: unknown) => {
    if (interrupted()) return; // the signal handler cleans up and exits
    console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
    report();
    await cleanupAll();
    process.exitCode = 1;
  },
);
