/**
 * The job-queue benchmark: Basalt's queue on SQLite and on PostgreSQL against graphile-worker 0.17
 * and pg-boss 10 on the same local PostgreSQL (a fresh database each, dropped at the end). All run
 * in this process, one after the other, with the same concurrency:
 *
 * - throughput: BENCH_JOBS_TOTAL (10,000) no-op jobs enqueued first (Basalt: in one transaction;
 *   the others: their bulk insert), then executed; jobs/s from the moment the workers may start
 *   until the last handler ran;
 * - start latency on an idle system: BENCH_JOBS_SAMPLES (50) jobs enqueued one at a time with a
 *   pause between, each measured from the enqueue call to its handler's start (p50, p99).
 *
 * `node --import tsx bench/jobs.ts`, or `BENCH_ONLY=jobs npm run bench`. BENCH_PG_URL as for the
 * HTTP benchmark; BENCH_ENGINES=sqlite skips everything PostgreSQL.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeWorkerUtils, run as runGraphile, Logger as GraphileLogger } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { localAdapters } from '../src/adapters/local-adapters.js';
import { createApp } from '../src/core/app.js';
import { defaultConfig } from '../src/core/config.js';
import { transact } from '../src/core/events/transaction.js';
import { silentLogger } from '../src/core/ports.js';
import { createDatabase } from '../src/db/create-database.js';
import { cleanupAll, installCleanupHandlers } from './cleanup.js';
import { createTarget as createAnyTarget, isReachable } from './targets.js';

/** A fresh SQLite directory, or a fresh PostgreSQL database (with its URL; `url` is '' on SQLite). */
async function createTarget(engine: 'sqlite' | 'postgres', adminUrl: string): Promise<{ dir: string; url: string }> {
  const target = await createAnyTarget(engine, adminUrl);
  return { dir: target.dir, url: target.engine === 'postgres' ? target.url : '' };
}

export interface JobsBenchOptions {
  pgAdminUrl: string;
  engines: ('sqlite' | 'postgres')[];
  total: number;
  concurrency: number;
  samples: number;
}

export interface JobsBenchRow {
  system: string;
  engine: string;
  /** Jobs executed per second, enqueue excluded. */
  jobsPerSec: number;
  /** Jobs enqueued per second (bulk or one transaction). */
  enqueuePerSec: number;
  p50Ms: number;
  p99Ms: number;
  notes: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A counter that resolves once it reaches `n`. */
function countTo(n: number) {
  let count = 0;
  let done!: () => void;
  const reached = new Promise<void>((r) => (done = r));
  return {
    reached,
    hit() {
      if (++count === n) done();
    },
  };
}

/** Enqueues `samples` jobs one at a time on an idle system; start latency of each. */
async function measureLatency(samples: number, enqueue: (i: number) => Promise<unknown>, starts: number[]): Promise<{ p50: number; p99: number }> {
  await sleep(500); // idle: every worker has gone to sleep
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const before = performance.now();
    await enqueue(i);
    const deadline = Date.now() + 10_000;
    while (starts.length <= i) {
      if (Date.now() > deadline) throw new Error('a latency job did not start within 10 s');
      await sleep(1);
    }
    latencies.push(starts[i] - before);
    await sleep(30 + Math.random() * 40);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function benchBasalt(engine: 'sqlite' | 'postgres', options: JobsBenchOptions): Promise<JobsBenchRow> {
  const target = await createTarget(engine, options.pgAdminUrl);
  const config = defaultConfig({ dataDir: target.dir, databaseUrl: target.url, logLevel: 'silent' });
  const db = await createDatabase(engine === 'postgres' ? { type: 'postgres', url: target.url, maxConnections: 10 } : { type: 'sqlite', file: join(target.dir, 'data.db') });
  const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
  try {
    const counter = countTo(options.total);
    app.jobs.define('noop', async () => counter.hit(), { concurrency: options.concurrency });
    const t0 = performance.now();
    let t1 = 0;
    // One transaction: the workers see the jobs at its commit (and on SQLite, may run them all
    // before `transact` returns: the clock starts just before the commit).
    await transact(app.db, async (tx) => {
      for (let i = 0; i < options.total; i++) await app.jobs.enqueue('noop', { i }, {}, tx);
      tx.beforeCommit(() => void (t1 = performance.now()));
    });
    await counter.reached;
    const t2 = performance.now();
    const starts: number[] = [];
    app.jobs.define('ping', async () => void starts.push(performance.now()), { concurrency: options.concurrency });
    const latency = await measureLatency(options.samples, (i) => app.jobs.enqueue('ping', { i }), starts);
    return { system: 'Basalt', engine, jobsPerSec: options.total / ((t2 - t1) / 1000), enqueuePerSec: options.total / ((t1 - t0) / 1000), p50Ms: latency.p50, p99Ms: latency.p99, notes: 'enqueue: one INSERT per job in one transaction' };
  } finally {
    await app.close();
  }
}

async function benchGraphile(options: JobsBenchOptions, tuned: boolean): Promise<JobsBenchRow> {
  const target = await createTarget('postgres', options.pgAdminUrl);
  const connectionString = target.url;
  const logger = new GraphileLogger(() => () => {});
  const utils = await makeWorkerUtils({ connectionString, logger });
  await utils.migrate();
  const counter = countTo(options.total);
  const starts: number[] = [];
  try {
    const t0 = performance.now();
    await utils.addJobs(Array.from({ length: options.total }, (_, i) => ({ identifier: 'noop', payload: { i } })));
    const t1 = performance.now();
    const runner = await runGraphile({
      connectionString,
      concurrency: options.concurrency,
      noHandleSignals: true,
      pollInterval: 2000,
      logger,
      taskList: { noop: async () => counter.hit(), ping: async () => void starts.push(performance.now()) },
      ...(tuned ? { preset: { worker: { localQueue: { size: 50 }, completeJobBatchDelay: 0 } } } : {}),
    });
    try {
      await counter.reached;
      const t2 = performance.now();
      const latency = await measureLatency(options.samples, (i) => utils.addJob('ping', { i }), starts);
      return {
        system: tuned ? 'graphile-worker (localQueue 50, batched completions)' : 'graphile-worker',
        engine: 'postgres',
        jobsPerSec: options.total / ((t2 - t1) / 1000),
        enqueuePerSec: options.total / ((t1 - t0) / 1000),
        p50Ms: latency.p50,
        p99Ms: latency.p99,
        notes: `0.17 ${tuned ? 'preset worker.localQueue.size 50, completeJobBatchDelay 0' : 'defaults'}; enqueue: addJobs (bulk)`,
      };
    } finally {
      await runner.stop();
    }
  } finally {
    await utils.release();
  }
}

async function benchPgBoss(options: JobsBenchOptions): Promise<JobsBenchRow> {
  const target = await createTarget('postgres', options.pgAdminUrl);
  const boss = new PgBoss({ connectionString: target.url, schema: 'pgboss', max: 10 });
  boss.on('error', () => {});
  await boss.start();
  try {
    await boss.createQueue('noop');
    await boss.createQueue('ping');
    const counter = countTo(options.total);
    const t0 = performance.now();
    await boss.insert(Array.from({ length: options.total }, (_, i) => ({ name: 'noop', data: { i } })));
    const t1 = performance.now();
    // pg-boss 10 workers poll (0.5 s at least) and fetch in batches: `concurrency` workers
    // fetching `concurrency` jobs each, as close to the others' concurrency as it gets.
    for (let w = 0; w < options.concurrency; w++) {
      await boss.work('noop', { batchSize: options.concurrency, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        for (let i = 0; i < jobs.length; i++) counter.hit();
      });
    }
    await counter.reached;
    const t2 = performance.now();
    const starts: number[] = [];
    await boss.work('ping', { pollingIntervalSeconds: 0.5 }, async () => void starts.push(performance.now()));
    const latency = await measureLatency(options.samples, (i) => boss.send('ping', { i }), starts);
    return {
      system: 'pg-boss',
      engine: 'postgres',
      jobsPerSec: options.total / ((t2 - t1) / 1000),
      enqueuePerSec: options.total / ((t1 - t0) / 1000),
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      notes: `10.x; ${options.concurrency} workers × batchSize ${options.concurrency}, polling every 0.5 s (its minimum); enqueue: insert (bulk)`,
    };
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 5000 }).catch(() => {});
  }
}

export async function runJobsBench(options: JobsBenchOptions, log: (line: string) => void = console.log): Promise<JobsBenchRow[]> {
  const rows: JobsBenchRow[] = [];
  const add = (row: JobsBenchRow) => {
    rows.push(row);
    log(`jobs: ${row.system} on ${row.engine}: ${Math.round(row.jobsPerSec)} jobs/s, start latency p50 ${row.p50Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms`);
  };
  const pg = options.engines.includes('postgres') && (await isReachable(options.pgAdminUrl));
  if (options.engines.includes('sqlite')) add(await benchBasalt('sqlite', options));
  if (pg) {
    add(await benchBasalt('postgres', options));
    add(await benchGraphile(options, false));
    add(await benchGraphile(options, true));
    add(await benchPgBoss(options));
  } else if (options.engines.includes('postgres')) {
    log('jobs: PostgreSQL is not reachable: Basalt on SQLite only');
  }
  return rows;
}

export function formatJobsTable(rows: JobsBenchRow[], options: Pick<JobsBenchOptions, 'total' | 'concurrency' | 'samples'>): string {
  const header = ['System', 'Engine', 'Executed jobs/s', 'Enqueue jobs/s', 'Start p50 (ms)', 'Start p99 (ms)', 'Notes'];
  const body = rows.map((r) => [r.system, r.engine, String(Math.round(r.jobsPerSec)), String(Math.round(r.enqueuePerSec)), r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), r.notes]);
  const lines = [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
  return `Jobs: ${options.total} no-op jobs at concurrency ${options.concurrency}; start latency over ${options.samples} jobs enqueued one at a time on an idle system\n${lines.join('\n')}`;
}

export function jobsOptionsFromEnv(env: NodeJS.ProcessEnv): Omit<JobsBenchOptions, 'engines' | 'pgAdminUrl'> {
  const number = (name: string, fallback: number) => {
    const n = env[name] ? Number(env[name]) : fallback;
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}="${env[name]}" must be a positive integer`);
    return n;
  };
  return { total: number('BENCH_JOBS_TOTAL', 10_000), concurrency: number('BENCH_JOBS_CONCURRENCY', 10), samples: number('BENCH_JOBS_SAMPLES', 50) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  installCleanupHandlers(() => {});
  const engines = (process.env.BENCH_ENGINES || 'sqlite,postgres').split(',').map((s) => s.trim()) as ('sqlite' | 'postgres')[];
  const options: JobsBenchOptions = { ...jobsOptionsFromEnv(process.env), engines, pgAdminUrl: process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test' };
  runJobsBench(options)
    .then((rows) => console.log(`\n${formatJobsTable(rows, options)}\n`))
    .catch((err: unknown) => {
      console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    })
    .finally(() => cleanupAll());
}
