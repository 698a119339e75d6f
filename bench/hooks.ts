/**
 * The hooks run: what hook files cost on the record routes. On one seeded target, Basalt is
 * started three ways and measured under the same load, scenario by scenario:
 *
 * - (a) `none`: no `--hooks` (today's figures);
 * - (b) `empty`: `--hooks <empty temp dir>` (nothing to load);
 * - (c) `noop`: `--hooks <temp dir>` holding one file with a no-op `onRecordCreate` hook bound to
 *   `posts` (`async (e) => { await e.next(); }`).
 *
 * The machine is noisy, so each scenario runs BENCH_HOOKS_ROUNDS (3) rounds of the three, the order
 * rotating from round to round (abc, bca, cab…). Each variant's req/s is the median of its rounds;
 * the ratios b/a and c/a are the medians of each round's own ratio (b and c against the (a) of the
 * same round), so a drift across rounds (create's table grows; another program starts) cancels. Before each measurement it waits until other programs leave the CPU alone (up to
 * QUIET_WAIT_MS, and QUIET_BUDGET_MS in all per engine: on a machine that stays busy, waiting is
 * pointless). Goals (from the issue): b/a within noise (noise: half the range of the rounds' b/a,
 * at least 2 %; above 10 % the rounds disagree too much to judge); on `create`, c/a ≥ 90 %.
 * Reported, never asserted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { interrupted, onCleanup } from './cleanup.js';
import { watchCpu } from './cpu-monitor.js';
import type { Dataset, Target } from './dataset.js';
import { measureSide, type Settings, type Side, type SideResult } from './measure.js';
import { loadProblems } from './report.js';
import type { Scenario, ScenarioId } from './scenarios.js';
import { compareSamples } from './shape.js';

export const HOOK_VARIANTS = ['none', 'empty', 'noop'] as const;
export type HookVariant = (typeof HOOK_VARIANTS)[number];

/** The scenarios of the hooks run: a read, and the create the hook is bound to. */
export const HOOK_SCENARIOS: readonly ScenarioId[] = ['getOne', 'create'];

/** The create goal with one no-op before-create hook: c/a ≥ 90 %. */
export const NOOP_CREATE_GOAL = 0.9;
/** The smallest noise band b/a is judged against (three rounds can happen to agree closely). */
const MIN_NOISE = 0.02;
/** Above this noise band, b/a cannot be judged: reported as inconclusive. */
const MAX_NOISE = 0.1;
/** Other programs' CPU use (in cores) above which a measurement is flagged, as in report.ts. */
const BUSY_CORES = 0.25;
/** How long to wait, before a measurement, for other programs to leave the CPU (checked each second). */
const QUIET_WAIT_MS = 10_000;
/** The most waiting of one engine's hooks run, all measurements together. */
const QUIET_BUDGET_MS = 60_000;

/** Printed by the hook file when Basalt loads it: proof that run (c) has its hook. */
export const HOOK_MARKER = 'bench-hooks: no-op onRecordCreate bound to posts';

const NOOP_HOOK_FILE = `// Written by bench/hooks.ts: a before-create hook that does nothing.
import { defineHooks } from 'basalt';

export default defineHooks((app) => {
  app.onRecordCreate(async (e) => {
    await e.next();
  }, 'posts');
  console.log(${JSON.stringify(HOOK_MARKER)});
});
`;

export interface HooksRow {
  engine: Target['engine'];
  scenario: ScenarioId;
  connections: number;
  /** Median req/s of each variant over its rounds. */
  reqPerSec: Record<HookVariant, number>;
  /** Every round's req/s, in round order. */
  rounds: Record<HookVariant, number[]>;
  /** Median over the rounds of that round's empty / none req/s. */
  emptyRatio: number;
  /** Median over the rounds of that round's noop / none req/s. */
  noopRatio: number;
  /** The noise band b/a is judged against: half the range of the rounds' b/a, at least MIN_NOISE (0.04 for ±4 %). */
  noise: number;
  /**
   * b/a ≥ 1 − noise (no slowdown beyond noise; a b/a above 1 + noise is shown as faster, a sign
   * the rounds under-estimate the noise); null: noise above MAX_NOISE, b/a cannot be judged.
   */
  emptyGoalMet: boolean | null;
  /** null: no c/a goal for this scenario (the hook is on create only). */
  noopGoalMet: boolean | null;
  /** Half the range of the rounds' c/a: a c/a miss with more than MAX_NOISE may be noise. */
  noopNoise: number;
  notes: string[];
  /** Cores other programs kept busy during each round's measurement (null when unknown). */
  otherCpu: Record<HookVariant, (number | null)[]>;
}

export interface HooksBenchOptions {
  target: Target;
  data: Dataset;
  scenarios: readonly Scenario[];
  settings: Settings;
  rounds: number;
  /** Basalt's side, started with `--hooks hooksDir` unless it is null. */
  side(scenario: Scenario, variant: HookVariant, hooksDir: string | null): Side;
  logDir: string;
  log?: (line: string) => void;
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  onCleanup(`remove ${dir}`, remove, remove);
  return dir;
}

/** The two hooks directories: one empty, one with the no-op hook file. */
function hooksDirs(): Record<HookVariant, string | null> {
  const empty = tempDir('basalt-bench-hooks-empty-');
  const noop = tempDir('basalt-bench-hooks-noop-');
  writeFileSync(join(noop, 'noop-create.ts'), NOOP_HOOK_FILE);
  return { none: null, empty, noop };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Half the range of some ratios: how far apart the rounds are. */
function halfRange(values: number[]): number {
  return (Math.max(...values) - Math.min(...values)) / 2;
}

/** Round r runs the variants rotated by r: abc, bca, cab, abc… */
function roundOrder(round: number): HookVariant[] {
  return HOOK_VARIANTS.map((_, i) => HOOK_VARIANTS[(i + round) % HOOK_VARIANTS.length]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until other programs used at most BUSY_CORES over one second, or QUIET_WAIT_MS passed,
 * or `budget.ms` (shared by the measurements of one engine) is spent; the time spent comes off it.
 */
async function waitForQuiet(budget: { ms: number }): Promise<void> {
  const started = Date.now();
  const deadline = started + Math.min(QUIET_WAIT_MS, budget.ms);
  try {
    while (!interrupted() && Date.now() < deadline) {
      const cpu = watchCpu(undefined);
      await sleep(1000);
      const other = cpu.stop();
      if (other === null || other <= BUSY_CORES) return;
    }
  } finally {
    budget.ms = Math.max(0, budget.ms - (Date.now() - started));
  }
}

function markerLoaded(logFile: string): boolean {
  try {
    return readFileSync(logFile, 'utf8').includes(HOOK_MARKER);
  } catch {
    return false;
  }
}

export async function runHooksBench(options: HooksBenchOptions): Promise<HooksRow[]> {
  const { target, data, settings, rounds } = options;
  const log = options.log ?? console.log;
  // Basalt loads <dataDir>/../basalt_hooks by default: with one there, (a) would not be hook-free.
  const implicit = resolve(target.dir, '..', 'basalt_hooks');
  if (existsSync(implicit)) throw new Error(`${implicit} exists: Basalt would load it in every run, and run (a) would not be hook-free`);
  const dirs = hooksDirs();
  const rows: HooksRow[] = [];
  const quietBudget = { ms: QUIET_BUDGET_MS };
  // Reads first, as in the main run: the create scenario adds rows.
  const scenarios = [...options.scenarios].sort((a, b) => Number(a.writes) - Number(b.writes));
  for (const scenario of scenarios) {
    const runs: Record<HookVariant, number[]> = { none: [], empty: [], noop: [] };
    const samples: Partial<Record<HookVariant, SideResult['sample']>> = {};
    const notes: string[] = [];
    const otherCpu: Record<HookVariant, (number | null)[]> = { none: [], empty: [], noop: [] };
    for (let round = 0; round < rounds; round++) {
      for (const variant of roundOrder(round)) {
        if (interrupted()) return rows;
        const logFile = join(options.logDir, `${target.engine}-hooks-${scenario.id}-${variant}-${round + 1}.log`);
        await waitForQuiet(quietBudget);
        const result = await measureSide(options.side(scenario, variant, dirs[variant]), logFile, scenario.requests(data)(), scenario.requests(data), settings);
        runs[variant].push(result.load.reqPerSec);
        samples[variant] ??= result.sample;
        otherCpu[variant].push(result.otherCpu);
        const who = `(${variant}) round ${round + 1}`;
        if (result.otherCpu !== null && result.otherCpu > BUSY_CORES) notes.push(`${who}: other programs used ${result.otherCpu.toFixed(2)} cores (${Math.round(result.load.reqPerSec)} req/s)`);
        notes.push(...loadProblems(who, result.load), ...result.problems.map((p) => `${who}: ${p}`));
        if (variant === 'noop' && !markerLoaded(logFile)) notes.push(`${who}: the hook file's load line is missing from ${logFile}: the hook may not be bound`);
      }
    }
    for (const variant of ['empty', 'noop'] as const) {
      // compareSamples words it as Basalt (here: run a) against the floor (here: b or c).
      const differences = samples.none && samples[variant] ? compareSamples(samples.none, samples[variant], scenario.compare) : [];
      notes.push(...differences.map((d) => d.replace(/\bBasalt\b/g, '(none)').replace(/\bfloor\b/g, `(${variant})`)));
    }
    const reqPerSec = { none: median(runs.none), empty: median(runs.empty), noop: median(runs.noop) };
    // Round by round: each variant against the (a) of the same round.
    const ratios = (v: HookVariant) => runs[v].map((n, i) => (runs.none[i] > 0 ? n / runs.none[i] : 0));
    const ratio = (v: HookVariant) => median(ratios(v));
    const noise = Math.max(MIN_NOISE, halfRange(ratios('empty')));
    const row: HooksRow = {
      engine: target.engine,
      scenario: scenario.id,
      connections: settings.connections,
      reqPerSec,
      rounds: runs,
      emptyRatio: ratio('empty'),
      noopRatio: ratio('noop'),
      noise,
      emptyGoalMet: noise > MAX_NOISE ? null : ratio('empty') >= 1 - noise,
      noopGoalMet: scenario.id === 'create' ? ratio('noop') >= NOOP_CREATE_GOAL : null,
      noopNoise: halfRange(ratios('noop')),
      notes: [...new Set(notes)],
      otherCpu,
    };
    rows.push(row);
    const list = (v: HookVariant) => runs[v].map((n) => Math.round(n)).join('/');
    const each = (v: HookVariant) => ratios(v).map((r) => (r * 100).toFixed(1)).join('/');
    log(
      `${target.engine} hooks ${scenario.id} @${settings.connections}: req/s (a) ${list('none')}, (b) ${list('empty')}, (c) ${list('noop')}; ` +
        `b/a ${each('empty')} % → ${pct(row.emptyRatio)}, c/a ${each('noop')} % → ${pct(row.noopRatio)}`,
    );
  }
  return rows;
}

const num = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${(n * 100).toFixed(1)} %`;

export function formatHooksTable(rows: HooksRow[], rounds: number): string {
  const header = ['engine', 'scenario', 'conns', '(a) none', '(b) empty dir', '(c) no-op hook', 'b/a', 'goal b/a ≈ 100 %', 'c/a', 'goal c/a ≥ 90 %'];
  const body = rows.map((r) => [
    r.engine,
    r.scenario,
    String(r.connections),
    num(r.reqPerSec.none),
    num(r.reqPerSec.empty),
    num(r.reqPerSec.noop),
    pct(r.emptyRatio),
    `±${(r.noise * 100).toFixed(1)} % ${r.emptyGoalMet === null ? 'inconclusive' : !r.emptyGoalMet ? 'NOT met' : r.emptyRatio > 1 + r.noise ? 'met (b faster)' : 'met'}`,
    pct(r.noopRatio),
    r.noopGoalMet === null ? '—' : r.noopGoalMet ? 'met' : r.noopNoise > MAX_NOISE ? `NOT met (rounds ±${(r.noopNoise * 100).toFixed(0)} %)` : 'NOT met',
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const notes = rows.flatMap((r) => r.notes.map((n) => `  ${r.engine}/${r.scenario}: ${n}`));
  const busy = rows.flatMap((r) => HOOK_VARIANTS.flatMap((v) => r.otherCpu[v])).filter((c): c is number => c !== null && c > BUSY_CORES);
  if (busy.length > 0) {
    notes.push(`  other programs used the CPU during ${busy.length} of ${rows.length * HOOK_VARIANTS.length * rounds} measurements (up to ${Math.max(...busy).toFixed(2)} of ${cpus().length} cores): those rounds are noisy, rerun on a quiet machine`);
  }
  return (
    `Hooks (req/s: median of ${rounds} round${rounds === 1 ? '' : 's'}; b/a, c/a: median of the rounds' own ratios; ` +
    `b/a within noise: ± half the range of the rounds' b/a, at least ${MIN_NOISE * 100} %, inconclusive above ${MAX_NOISE * 100} %):\n` +
    [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') +
    (notes.length > 0 ? `\n\nNotes:\n${notes.join('\n')}` : '')
  );
}
