/** The results table printed at the end, and the JSON written to .bench/results.json. */
import { cpus } from 'node:os';
import type { LoadResult } from './load.js';
import type { ScenarioId } from './scenarios.js';

export interface ScenarioResult {
  engine: 'sqlite' | 'postgres';
  scenario: ScenarioId;
  basalt: LoadResult;
  floor: LoadResult;
  /** basalt.reqPerSec / floor.reqPerSec */
  ratio: number;
  target: number;
  verdict: 'PASS' | 'MISS';
  /** Anything that makes the numbers suspect: non-2xx responses, errors, log lines, shape differences. */
  notes: string[];
  /** 1-min load averages at the end of each measurement: other programs competing for the CPU. */
  loadAverage: { basalt: number; floor: number };
}

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
  const header = ['engine', 'scenario', 'Basalt req/s', 'p50', 'p99', 'floor req/s', 'p50', 'p99', 'Basalt/floor', 'target', ''];
  const rows = results.map((r) => [
    r.engine,
    r.scenario,
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
  const notes = results.flatMap((r) => r.notes.map((n) => `  ${r.engine}/${r.scenario}: ${n}`));
  // The bench itself keeps about two cores busy (autocannon and one server); more means other
  // programs competed for the CPU while measuring.
  const loads = results.flatMap((r) => [r.loadAverage.basalt, r.loadAverage.floor]);
  const busy = loads.filter((l) => l > cpus().length + 1);
  if (busy.length > 0) {
    notes.push(`  machine busy during ${busy.length} of ${loads.length} measurements (1-min load average up to ${Math.max(...busy).toFixed(1)} on ${cpus().length} CPUs): the numbers are noisy, rerun on a quiet machine`);
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
