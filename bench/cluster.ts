/**
 * The cluster run (`BENCH_ONLY=cluster`, or with the full run unless BENCH_CLUSTER=off): one
 * Basalt node against several behind nginx, on PostgreSQL and Redis (issue 12 §5). On the seeded
 * 10,000-post dataset in a fresh PostgreSQL database, three `basalt serve` processes (A, B, C,
 * `--redis`, `--trust-proxy`) and two nginx processes configured from examples/nginx/basalt.conf
 * (the cluster suite's config: one over A alone, one over A, B and C) answer the getOne and create
 * scenarios. Variants:
 *
 * - `direct`: node A, no proxy;
 * - `nginx-1`: node A behind nginx (what the proxy hop costs);
 * - `nginx-3`: the three nodes behind nginx;
 * - `pgbouncer-3`: three more nodes behind their own nginx, whose database connections go
 *   through PgBouncer in transaction mode (when pgbouncer is installed; BENCH_CLUSTER_PGBOUNCER=off skips).
 *
 * On a 2-core machine three nodes, nginx, PostgreSQL and the load generator share two cores, so
 * the figures show the overhead of the topology, not scaling. Rounds rotate the order of the
 * variants; each variant's figure is the median of its rounds, each ratio the median of the
 * rounds' own ratios against `direct`. Reported, never asserted.
 *
 * BENCH_CLUSTER_ROUNDS (3), BENCH_CLUSTER_SECONDS (5), BENCH_CLUSTER_CONNECTIONS (32),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { nginxPath, startNginx } from '../test/cluster/cluster-harness.js';
import { pgbouncerPath, startPgBouncer } from '../test/cluster/pgbouncer.js';
import { interrupted, onCleanup } from './cleanup.js';
import { seedDataset } from './dataset.js';
import { runLoad, type LoadResult } from './load.js';
import { freePort, startServer, type ServerProcess } from './processes.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { createTarget, isReachable } from './targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export type ClusterVariant = 'direct' | 'nginx-1' | 'nginx-3' | 'pgbouncer-3';
const LABELS: Record<ClusterVariant, string> = {
  direct: '1 node, direct',
  'nginx-1': '1 node behind nginx',
  'nginx-3': '3 nodes behind nginx',
  'pgbouncer-3': '3 nodes behind nginx, via PgBouncer',
};

export interface ClusterBenchOptions {
  rounds: number;
  seconds: number;
  connections: number;
  pgbouncer: boolean;
  redisUrl: string;
}

export interface ClusterMeasurement {
  reqPerSec: number;
  p50: number;
  p99: number;
}

export interface ClusterBenchRow {
  scenario: string;
  variants: ClusterVariant[];
  /** Per variant: median req/s, p50 and p99 (ms) over the rounds. */
  median: Partial<Record<ClusterVariant, ClusterMeasurement>>;
  /** Per variant: median over the rounds of that round's req/s / direct's. */
  ratio: Partial<Record<ClusterVariant, number>>;
  rounds: Partial<Record<ClusterVariant, ClusterMeasurement>>[];
  notes: string[];
}

export function clusterOptionsFromEnv(env: NodeJS.ProcessEnv): ClusterBenchOptions {
  const int = (name: string, fallback: number) => {
    const n = Number(env[name] ?? fallback);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}="${env[name]}": a positive whole number`);
    return n;
  };
  return {
    rounds: int('BENCH_CLUSTER_ROUNDS', 3),
    seconds: int('BENCH_CLUSTER_SECONDS', 5),
    connections: int('BENCH_CLUSTER_CONNECTIONS', 32),
    pgbouncer: env.BENCH_CLUSTER_PGBOUNCER !== 'off',
    redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
  };
}

/** Why the run cannot happen here, or '' when it can. */
async function missingPrerequisite(pgAdminUrl: string, redisUrl: string): Promise<string> {
  if (!nginxPath()) return 'nginx is not installed (apt-get install -y nginx)';
  if (!(await isReachable(pgAdminUrl))) return `PostgreSQL is not reachable (BENCH_PG_URL)`;
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await r.connect();
    await r.ping();
    return '';
  } catch (e) {
    return `Redis is not reachable at ${redisUrl} (BENCH_REDIS_URL): ${(e as Error).message}`;
  } finally {
    r.disconnect();
  }
}

async function setDatabaseTimeout(pgAdminUrl: string, database: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgAdminUrl });
  await c.connect();
  try {
    // PgBouncer drops the statement_timeout Basalt sends at connect (README "Scaling"): the
    // database carries it for the pooled connections. Direct nodes still set their own.
    await c.query(`ALTER DATABASE "${database}" SET statement_timeout = 5000`);
  } finally {
    await c.end();
  }
}

function describe(r: LoadResult): ClusterMeasurement {
  return { reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99 };
}

export async function runClusterBench(options: ClusterBenchOptions & { pgAdminUrl: string }, logDir: string): Promise<ClusterBenchRow[]> {
  const missing = await missingPrerequisite(options.pgAdminUrl, options.redisUrl);
  if (missing) {
    console.log(`cluster: skipped: ${missing}`);
    return [];
  }
  const target = await createTarget('postgres', options.pgAdminUrl);
  if (target.engine !== 'postgres') throw new Error('unreachable');
  const data = await seedDataset(target, { users: 100, posts: 10_000 });
  const withPgBouncer = options.pgbouncer && pgbouncerPath() !== '';
  if (options.pgbouncer && !withPgBouncer) console.log('cluster: pgbouncer is not installed: the PgBouncer variant is skipped (apt-get install -y pgbouncer)');

  const node = async (name: string, dbUrl: string): Promise<ServerProcess> => {
    const port = await freePort();
    const dir = join(target.dir, name);
    mkdirSync(dir, { recursive: true });
    return startServer({
      name: `basalt-cluster-${name}`,
      cwd: ROOT,
      port,
      logFile: join(logDir, `cluster-${name}.log`),
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BASALT_'))),
      nodeArgs: ['bin/basalt.js', 'serve', '--http', `127.0.0.1:${port}`, '--dir', dir, '--db', dbUrl, '--redis', options.redisUrl, '--trust-proxy', '--log-level', 'warn'],
    });
  };
  const nginx = async (name: string, servers: ServerProcess[]) => {
    const n = await startNginx(join(target.dir, `nginx-${name}`), servers.map((s) => Number(new URL(s.url).port)));
    onCleanup(`stop nginx ${name}`, () => n.stop(), () => n.proc.kill('SIGKILL'));
    return n.url;
  };

  const urls: Partial<Record<ClusterVariant, string>> = {};
  const nodes = [await node('A', target.url)];
  nodes.push(...(await Promise.all([node('B', target.url), node('C', target.url)])));
  urls.direct = nodes[0]!.url;
  urls['nginx-1'] = await nginx('1', [nodes[0]!]);
  urls['nginx-3'] = await nginx('3', nodes);
  if (withPgBouncer) {
    await setDatabaseTimeout(options.pgAdminUrl, new URL(target.url).pathname.slice(1));
    const bouncer = await startPgBouncer({ upstreamUrl: options.pgAdminUrl, port: await freePort(), poolSize: 10 });
    onCleanup('stop pgbouncer', () => bouncer.stop());
    const via = bouncer.via(target.url);
    const pooled = await Promise.all(['D', 'E', 'F'].map((n) => node(n, via)));
    nodes.push(...pooled);
    urls['pgbouncer-3'] = await nginx('pgbouncer', pooled);
  }
  const variants = (Object.keys(LABELS) as ClusterVariant[]).filter((v) => urls[v]);

  try {
    const rows: ClusterBenchRow[] = [];
    // Reads first: create adds rows.
    for (const scenario of ['getOne', 'create'].map((id) => SCENARIOS.find((s) => s.id === id)!) as Scenario[]) {
      const next = scenario.requests(data);
      const notes: string[] = [];
      // A warm-up per variant, not counted: JIT, nginx's keep-alive connections, the pools.
      for (const v of variants) await runLoad({ url: urls[v]!, connections: options.connections, seconds: 2, next });
      const rounds: ClusterBenchRow['rounds'] = [];
      for (let r = 0; r < options.rounds && !interrupted(); r++) {
        const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
        const round: ClusterBenchRow['rounds'][number] = {};
        for (const v of order) {
          const result = await runLoad({ url: urls[v]!, connections: options.connections, seconds: options.seconds, next });
          if (result.non2xx > 0 || result.errors > 0) notes.push(`${scenario.id} ${v} round ${r + 1}: ${JSON.stringify(result.statusCodes)}, ${result.errors} errors`);
          round[v] = describe(result);
        }
        rounds.push(round);
        console.log(`cluster ${scenario.id} round ${r + 1}: ${order.map((v) => `${v} ${Math.round(round[v]!.reqPerSec)} req/s`).join(', ')}`);
      }
      const med: ClusterBenchRow['median'] = {};
      const ratio: ClusterBenchRow['ratio'] = {};
      for (const v of variants) {
        med[v] = { reqPerSec: median(rounds.map((x) => x[v]!.reqPerSec)), p50: median(rounds.map((x) => x[v]!.p50)), p99: median(rounds.map((x) => x[v]!.p99)) };
        ratio[v] = median(rounds.map((x) => x[v]!.reqPerSec / x.direct!.reqPerSec));
      }
      rows.push({ scenario: scenario.id, variants, median: med, ratio, rounds, notes });
    }
    return rows;
  } finally {
    for (const n of nodes) await n.stop();
  }
}

export function formatClusterTable(rows: ClusterBenchRow[], options: ClusterBenchOptions): string {
  if (rows.length === 0) return '';
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const variants = rows[0]!.variants;
  const cell = (m: ClusterMeasurement | undefined) => (m ? `${fmt(m.reqPerSec)} (${m.p50.toFixed(1)} / ${m.p99.toFixed(1)} ms)` : '—');
  const lines = [
    `Cluster (PostgreSQL + Redis, seeded 10,000 posts, ${options.connections} connections, ${options.rounds} rounds of ${options.seconds} s, order rotating; median req/s (p50 / p99)):`,
    `| scenario | ${variants.map((v) => LABELS[v]).join(' | ')} | ${variants.filter((v) => v !== 'direct').map((v) => `${v} / direct`).join(' | ')} |`,
    `|---|${variants.map(() => '---:').join('|')}|${variants.filter((v) => v !== 'direct').map(() => '---:').join('|')}|`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${variants.map((v) => cell(r.median[v])).join(' | ')} | ${variants
          .filter((v) => v !== 'direct')
          .map((v) => `${(100 * (r.ratio[v] ?? 0)).toFixed(1)} %`)
          .join(' | ')} |`,
    ),
    ...rows.map((r) => `${r.scenario} rounds (req/s): ${r.rounds.map((x, i) => `${i + 1}: ${variants.map((v) => `${v} ${fmt(x[v]?.reqPerSec ?? 0)}`).join(', ')}`).join('; ')}`),
    ...rows.flatMap((r) => r.notes.map((n) => `note: ${n}`)),
    'Every process shares this machine\'s cores: the figures show the topology\'s overhead, not scaling (README "Scaling").',
  ];
  return lines.join('\n');
}
