/**
 * The stored-logs run (`BENCH_ONLY=logs`, or with the full run unless BENCH_LOGS=off): what
 * storing every request in the logs store costs a read. On the seeded 10,000-post dataset,
 * `basalt serve` (its own process, autocannon here) answers the benchmark's getOne scenario with
 * stored logs on (`settings.logs.maxDays` 5, the default: every request queued and written in
 * batches to auxiliary.db / `_logs`) and off (maxDays 0), switched through `PATCH /api/settings`
 * on the same server between measurements. The machine is shared and noisy, so the variants run
 * in rounds, their order alternating (on/off, off/on…); on / off is the median of each round's
 * own ratio. Goal: on ≥ 90 % of off. Reported, never asserted.
 *
 * A control runs in each round too: logs off again, beside a process burning the CPU the server's
 * other threads (the log writer's, mostly) used beyond the logs-off measurement while logs were
 * on (bench/cpu-burner.ts). On a machine whose cores the server and the load generator already
 * fill, that CPU costs throughput wherever it runs; "burner / off" is what it costs by itself,
 * and the gap to "on / off" what logging costs beyond its CPU (the request path's share).
 *
 * BENCH_LOGS_ROUNDS (5), BENCH_LOGS_SECONDS (8), BENCH_LOGS_CONNECTIONS (32).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localAdapters } from '../src/adapters/local-adapters.js';
import { createApp } from '../src/core/app.js';
import { defaultConfig } from '../src/core/config.js';
import { silentLogger } from '../src/core/ports.js';
import { systemCaller } from '../src/core/records/caller.js';
import { createDatabase } from '../src/db/create-database.js';
import { interrupted } from './cleanup.js';
import { seedDataset } from './dataset.js';
import { runLoad } from './load.js';
import { SCENARIOS } from './scenarios.js';
import { freePort, startServer } from './processes.js';
import { createTarget } from './targets.js';
import { watchCpu } from './cpu-monitor.js';
import { startBurner } from './cpu-burner.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** CPU seconds of a process's threads other than its main one (Linux; 0 elsewhere). */
function backgroundSeconds(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (tid === String(pid)) continue;
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(rest[11]) + Number(rest[12])) / 100;
    }
  } catch {
    // not Linux, or the process is gone
  }
  return total;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export interface LogsBenchOptions {
  rounds: number;
  seconds: number;
  connections: number;
}

export interface LogsBenchRow {
  engine: 'sqlite' | 'postgres';
  /** Median req/s of each variant. */
  on: number;
  off: number;
  /** Median over the rounds of that round's on / off. */
  ratio: number;
  /** Median over the rounds of that round's burner / off (the control, see above). */
  burnerRatio: number;
  rounds: { on: number; off: number; burner: number; burnerCores: number; otherCpuOn: number | null; otherCpuOff: number | null }[];
  /** Entries the store held after the run (proof that "on" stored). */
  stored: number;
  /**
   * The reads of the logs after each logs-on run: `entries` it added to the store, `ms` the read
   * took, `cpu` the worker seconds it cost. Entries the server expanded while it had room (between
   * runs) are counted but cost this read nothing: ms / entries is a lower bound of the cost.
   */
  expansions: { entries: number; ms: number; cpu: number }[];
}

export function logsOptionsFromEnv(env: NodeJS.ProcessEnv): LogsBenchOptions {
  const int = (name: string, fallback: number) => {
    const n = Number(env[name] ?? fallback);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}="${env[name]}": a positive whole number`);
    return n;
  };
  return { rounds: int('BENCH_LOGS_ROUNDS', 5), seconds: int('BENCH_LOGS_SECONDS', 8), connections: int('BENCH_LOGS_CONNECTIONS', 32) };
}

async function benchEngine(engine: 'sqlite' | 'postgres', options: LogsBenchOptions, pgAdminUrl: string, logDir: string): Promise<LogsBenchRow> {
  const target = await createTarget(engine, pgAdminUrl);
  const url = target.engine === 'postgres' ? target.url : '';
  const data = await seedDataset(target, { users: 100, posts: 10_000 });
  const config = defaultConfig({ dataDir: target.dir, databaseUrl: url, logLevel: 'silent' });
  const db = await createDatabase(engine === 'postgres' ? { type: 'postgres', url, maxConnections: 2 } : { type: 'sqlite', file: join(target.dir, 'data.db') });
  const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
  let token: string;
  try {
    const su = await app.records.writer.create(app.registry.find('_superusers')!, { data: { email: 'bench-logs@example.com', password: 'benchpass123', passwordConfirm: 'benchpass123' } }, systemCaller());
    token = await app.auth.issueToken(su);
  } finally {
    await app.close();
  }
  const port = await freePort();
  const server = await startServer({
    name: `basalt-logs-${engine}`,
    nodeArgs: ['bin/basalt.js', 'serve', '--http', `127.0.0.1:${port}`, '--dir', target.dir, ...(url ? ['--db', url] : []), '--log-level', 'warn'],
    port,
    logFile: join(logDir, `logs-${engine}.log`),
    cwd: ROOT,
  });
  const getOne = SCENARIOS.find((s) => s.id === 'getOne')!;
  const next = getOne.requests(data);
  const setMaxDays = async (maxDays: number) => {
    const res = await fetch(`${server.url}/api/settings`, { method: 'PATCH', headers: { authorization: token, 'content-type': 'application/json' }, body: JSON.stringify({ logs: { maxDays } }) });
    if (!res.ok) throw new Error(`cannot change the log settings: ${res.status} ${await res.text()}`);
  };
  /**
   * Reads the logs (one entry): the read first expands every raw batch (core/logs/log-expansion.ts).
   * Returns how long that took, the entries stored, and the server's worker CPU it cost.
   */
  const readLogs = async () => {
    const cpu = server.pid ? backgroundSeconds(server.pid) : 0;
    const started = performance.now();
    const res = await fetch(`${server.url}/api/logs?perPage=1`, { headers: { authorization: token } });
    const ms = performance.now() - started;
    if (!res.ok) throw new Error(`cannot read the logs: ${res.status} ${await res.text()}`);
    const total = Number(((await res.json()) as { totalItems: number }).totalItems);
    return { ms, total, cpu: server.pid ? backgroundSeconds(server.pid) - cpu : 0 };
  };
  try {
    // A warm-up run, not counted: the first seconds of a fresh server would fall on whichever variant goes first.
    await setMaxDays(5);
    await runLoad({ url: server.url, connections: options.connections, seconds: 2, next });
    const rounds: LogsBenchRow['rounds'] = [];
    /** The reads that expanded a round's raw entries: entries, wall ms, worker CPU seconds. */
    const expansions: LogsBenchRow['expansions'] = [];
    let storedBefore = (await readLogs()).total;
    for (let r = 0; r < options.rounds && !interrupted(); r++) {
      const round = { on: 0, off: 0, burner: 0, burnerCores: 0, otherCpuOn: null as number | null, otherCpuOff: null as number | null };
      /** Cores the server's threads other than the main one kept busy, per variant. */
      const background = { on: 0, off: 0 };
      for (const variant of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        // Each logs-on run starts with no raw backlog: the previous run's entries were expanded
        // (a read of the logs), as on a server that had room between two peaks.
        if (variant === 'on') {
          const read = await readLogs();
          if (r > 0) expansions.push({ entries: read.total - storedBefore, ms: read.ms, cpu: read.cpu });
          storedBefore = read.total;
        }
        await setMaxDays(variant === 'on' ? 5 : 0);
        // The previous variant's last batch is written before this one is measured.
        await sleep(500);
        const cpu = watchCpu(server.pid);
        const threads = server.pid ? backgroundSeconds(server.pid) : 0;
        const started = performance.now();
        const result = await runLoad({ url: server.url, connections: options.connections, seconds: options.seconds, next });
        const other = cpu.stop();
        background[variant] = server.pid ? (backgroundSeconds(server.pid) - threads) / ((performance.now() - started) / 1000) : 0;
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`getOne failed: ${JSON.stringify(result.statusCodes)}, ${result.errors} errors`);
        round[variant] = result.reqPerSec;
        round[variant === 'on' ? 'otherCpuOn' : 'otherCpuOff'] = other;
      }
      // The control: logs off, beside a burner of the extra background CPU logs-on used.
      round.burnerCores = Math.max(0, background.on - background.off);
      await sleep(500);
      const burner = await startBurner(round.burnerCores);
      try {
        await sleep(200);
        const result = await runLoad({ url: server.url, connections: options.connections, seconds: options.seconds, next });
        round.burner = result.reqPerSec;
      } finally {
        await burner.stop();
      }
      console.log(
        `logs ${engine} round ${r + 1}: on ${Math.round(round.on)} req/s, off ${Math.round(round.off)} req/s (${((100 * round.on) / round.off).toFixed(1)} %), off beside a burner of ${round.burnerCores.toFixed(2)} cores ${Math.round(round.burner)} req/s (${((100 * round.burner) / round.off).toFixed(1)} %)`,
      );
      rounds.push(round);
    }
    await sleep(500);
    const last = await readLogs();
    expansions.push({ entries: last.total - storedBefore, ms: last.ms, cpu: last.cpu });
    const stored = last.total;
    return {
      engine,
      on: median(rounds.map((x) => x.on)),
      off: median(rounds.map((x) => x.off)),
      ratio: median(rounds.map((x) => x.on / x.off)),
      burnerRatio: median(rounds.map((x) => x.burner / x.off)),
      rounds,
      stored,
      expansions,
    };
  } finally {
    await server.stop();
  }
}

export async function runLogsBench(options: LogsBenchOptions & { engines: ('sqlite' | 'postgres')[]; pgAdminUrl: string }, logDir: string): Promise<LogsBenchRow[]> {
  const rows: LogsBenchRow[] = [];
  for (const engine of options.engines) {
    if (interrupted()) break;
    console.log(`logs: ${engine}…`);
    rows.push(await benchEngine(engine, options, options.pgAdminUrl, logDir));
  }
  return rows;
}

export function formatLogsTable(rows: LogsBenchRow[], options: LogsBenchOptions): string {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const cores = (n: number | null) => (n === null ? '?' : n.toFixed(2));
  const lines = [
    `Stored logs: getOne on the seeded 10,000-post dataset, ${options.connections} connections, ${options.rounds} rounds of ${options.seconds} s (order alternating), median`,
    '| engine | req/s, logs off (maxDays 0) | req/s, logs on (maxDays 5) | on / off | control: off beside a burner of the writer\'s CPU / off | entries stored |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.engine} | ${fmt(r.off)} | ${fmt(r.on)} | ${(100 * r.ratio).toFixed(1)} % | ${(100 * r.burnerRatio).toFixed(1)} % (${median(r.rounds.map((x) => x.burnerCores)).toFixed(2)} cores) | ${fmt(r.stored)} |`,
    ),
    ...rows.map(
      (r) =>
        `${r.engine} rounds (off → on req/s; other programs' CPU in cores, off / on): ${r.rounds.map((x) => `${fmt(x.off)} → ${fmt(x.on)} (${((100 * x.on) / x.off).toFixed(1)} %; ${cores(x.otherCpuOff)} / ${cores(x.otherCpuOn)})`).join('; ')}`,
    ),
    ...rows.map((r) => {
      const entries = r.expansions.reduce((n, x) => n + x.entries, 0);
      const ms = r.expansions.reduce((n, x) => n + x.ms, 0);
      const cpu = r.expansions.reduce((n, x) => n + x.cpu, 0);
      return `${r.engine}: each logs-on run's entries were made queryable later, by the next read of the logs: ${fmt(entries)} entries in ${r.expansions.length} reads, ${fmt(ms)} ms in all (${entries > 0 ? ((1000 * ms) / entries).toFixed(2) : '?'} µs an entry, ${entries > 0 ? ((1e6 * cpu) / entries).toFixed(2) : '?'} µs of the writer thread's CPU; lower bounds: some entries were expanded between runs, while the server had room)`;
    }),
    'Goal: on / off ≥ 90 %.',
  ];
  return lines.join('\n');
}
