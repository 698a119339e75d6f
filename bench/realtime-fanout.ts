/**
 * Realtime fan-out: N SSE subscribers on `posts/*` (guests; the posts list rule is a filter, so
 * Basalt checks it — once for the whole group of guests), then one record write per round. For
 * each round: the time from sending the write until each subscriber has the event. Reported:
 * p50 and p99 over every (subscriber, round) arrival, the median over rounds of the time until
 * the last subscriber had it, and the server's memory per connection (RSS growth / N).
 * The floor (floor-realtime.ts) writes the same frame to every stream with no database or rule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, Target } from './dataset.js';
import { freePort, startServer, type ServerProcess } from './processes.js';
import { openSwarm } from './sse-swarm.js';

export interface FanoutRow {
  side: 'Basalt' | 'floor';
  subscribers: number;
  p50: number;
  p99: number;
  /** Median over rounds of the time until every subscriber had the event. */
  all: number;
  /** Server RSS growth per connection, in KiB. */
  kibPerConnection: number;
  /** Subscribers that did not get an event within the timeout (summed over rounds). */
  missing: number;
}

const ROUNDS = 20;
const WARMUP_ROUNDS = 3;
const ROUND_TIMEOUT_MS = 10_000;

function rssKiB(pid: number | undefined): number {
  if (!pid) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(server: ServerProcess, side: FanoutRow['side'], subscribers: number, author: string): Promise<FanoutRow> {
  const port = Number(new URL(server.url).port);
  await fetch(`${server.url}/api/health`).then((r) => r.arrayBuffer());
  const before = rssKiB(server.pid);
  const swarm = await openSwarm(port, subscribers, ['posts/*']);
  await pause(500);
  const after = rssKiB(server.pid);
  const latencies: number[] = [];
  const lasts: number[] = [];
  let missing = 0;
  try {
    for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
      const marker = `fanout-${side}-${subscribers}-${round}-${Date.now()}`;
      const arrived = swarm.arm(marker, ROUND_TIMEOUT_MS);
      const started = performance.now();
      const res = await fetch(`${server.url}/api/collections/posts/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: marker, rank: round, status: 'public', author }),
      });
      if (res.status !== 200) throw new Error(`${side}: the write answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      const { arrivals, missing: late } = await arrived;
      if (round < WARMUP_ROUNDS) continue;
      missing += late;
      const times = arrivals.map((t) => t - started);
      latencies.push(...times);
      lasts.push(Math.max(...times));
      await pause(100);
    }
  } finally {
    swarm.close();
  }
  latencies.sort((a, b) => a - b);
  lasts.sort((a, b) => a - b);
  return { side, subscribers, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), all: quantile(lasts, 0.5), kibPerConnection: (after - before) / subscribers, missing };
}

export async function runFanoutBench(target: Target & { engine: 'sqlite' }, data: Dataset, levels: number[], root: string, logDir: string, logLevel: string): Promise<FanoutRow[]> {
  const rows: FanoutRow[] = [];
  const author = data.userIds[0];
  for (const subscribers of levels) {
    for (const side of ['Basalt', 'floor'] as const) {
      const port = await freePort();
      const server = await startServer({
        name: `${side}-realtime-${subscribers}`,
        cwd: root,
        port,
        logFile: join(logDir, `realtime-${subscribers}-${side}.log`),
        env: { ...process.env, FLOOR_PORT: String(port) },
        nodeArgs:
          side === 'Basalt'
            ? ['bin/basalt.js', 'serve', '--http', `127.0.0.1:${port}`, '--dir', target.dir, '--log-level', logLevel]
            : ['--import', 'tsx', 'bench/floor-realtime.ts'],
      });
      try {
        const row = await measure(server, side, subscribers, author);
        rows.push(row);
        console.log(`realtime ${subscribers} subscribers, ${side}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, all ${row.all.toFixed(1)} ms, ${row.kibPerConnection.toFixed(1)} KiB/connection${row.missing ? `, ${row.missing} missed` : ''}`);
      } finally {
        await server.stop();
      }
    }
  }
  return rows;
}

export function formatFanoutTable(rows: FanoutRow[]): string {
  const header = ['subscribers', 'Basalt p50', 'p99', 'all', 'KiB/conn', 'floor p50', 'p99', 'all', 'KiB/conn', 'p99 goal', ''];
  const out: string[][] = [header];
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  for (const n of [...new Set(rows.map((r) => r.subscribers))]) {
    const b = rows.find((r) => r.subscribers === n && r.side === 'Basalt');
    const f = rows.find((r) => r.subscribers === n && r.side === 'floor');
    if (!b || !f) continue;
    out.push([n.toLocaleString('en-US'), ms(b.p50), ms(b.p99), ms(b.all), b.kibPerConnection.toFixed(1), ms(f.p50), ms(f.p99), ms(f.all), f.kibPerConnection.toFixed(1), '< 100 ms', b.p99 < 100 && b.missing === 0 ? 'PASS' : 'MISS']);
  }
  const widths = header.map((_, i) => Math.max(...out.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ').trimEnd();
  const missed = rows.filter((r) => r.missing > 0).map((r) => `  ${r.side} at ${r.subscribers}: ${r.missing} deliveries missed the ${ROUND_TIMEOUT_MS / 1000} s timeout`);
  return [line(out[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...out.slice(1).map(line), ...(missed.length ? ['', 'Notes:', ...missed] : [])].join('\n');
}
