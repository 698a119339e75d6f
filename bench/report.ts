/** The results table printed at the end, and the JSON written to .bench/results.json. */
import { cpus } from 'node:os';
import type { LoadResult } from './load.js';
import type { ScenarioId } from './scenarios.js';

export interface ScenarioResult {
  engine: 'sqlite' | 'postgres';
  scenario: ScenarioId;
  /** Concurrent connections of the load. */
  connections: number;
  basalt: LoadResult;
  floor: LoadResult;
  /** basalt.reqPerSec / floor.reqPerSec */
  ratio: number;
  target: number;
  verdict: 'PASS' | 'MISS';
  /** Anything that makes the numbers suspect: non-2xx responses, errors, log lines, shape differences. */
  notes: string[];
  /** Cores other programs kept busy while each side was measured (noise), null when unknown. */
  otherCpu: { basalt: number | null; floor: number | null };
}

/** Other programs' CPU use (in cores) above which a measurement is flagged as noisy. */
const BUSY_CORES = 0.25;

const num = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
const pct = (n: number) => `${(n * 100).toFixed(1)} %`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i <= 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

export function formatTable(results: ScenarioResult[]): string {
  const header = ['engine', 'scenario', 'conns', 'Basalt req/s', 'p50', 'p99', 'floor req/s', 'p50', 'p99', 'Basalt/floor', 'target', ''];
  const rows = results.map((r) => [
    r.engine,
    r.scenario,
    String(r.connections),
    num(r.basalt.reqPerSec),
    ms(r.basalt.p50),
    ms(r.basalt.p99),
    num(r.floor.reqPerSec),
    ms(r.floor.p50),
    ms(r.floor.p99),
    pct(r.ratio),
    `≥ ${pct(r.target).replace('.0 ', ' ')}`,
    r.verdict,
  ]);
  const notes = results.flatMap((r) => r.notes.map((n) => `  ${r.engine}/${r.scenario}/${r.connections}: ${n}`));
  const others = results.flatMap((r) => [r.otherCpu.basalt, r.otherCpu.floor]).filter((c): c is number => c !== null);
  const busy = others.filter((c) => c > BUSY_CORES);
  if (busy.length > 0) {
    notes.push(`  other programs used the CPU during ${busy.length} of ${others.length} measurements (up to ${Math.max(...busy).toFixed(2)} of ${cpus().length} cores): those numbers are noisy, rerun on a quiet machine`);
  }
  return table([header, ...rows]) + (notes.length > 0 ? `\n\nNotes:\n${notes.join('\n')}` : '');
}

/** A load result's problems in words (empty when every response was a 2xx). */
export function loadProblems(who: string, r: LoadResult): string[] {
  const out: string[] = [];
  if (r.non2xx > 0) {
    const codes = Object.entries(r.statusCodes).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${n}× ${c}`);
    out.push(`${who}: ${r.non2xx} non-2xx responses (${codes.join(', ')})`);
  }
  if (r.errors > 0) out.push(`${who}: ${r.errors} connection errors (${r.timeouts} timeouts)`);
  if (r.requests === 0) out.push(`${who}: no request completed`);
  return out;
}
