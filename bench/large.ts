/**
 * The large-collections run (`BENCH_ONLY=large`, or with the full run unless BENCH_LARGE=0):
 * how Basalt's reads hold up when `posts` grows from 10,000 rows (SMALL) to 1,000,000 (LARGE,
 * BENCH_LARGE_ROWS), on each engine. Per engine, on a fresh database:
 *
 * 1. `basalt serve` on the empty database; the superuser, the settings and the `authors` /
 *    `posts` collections through the API (bench/large-setup.ts); one post written by Basalt is
 *    the reference for the seeded rows' encoding and JSON shape.
 * 2. For each size: Basalt stopped, the rows written straight into the database
 *    (bench/large-dataset.ts: 1,000 authors once, the posts table replaced by the first N posts
 *    of one deterministic sequence), Basalt started again, one seeded record and the list total
 *    checked through the API, then each scenario: a warm-up run, then the measured run
 *    (autocannon, BENCH_SECONDS, the first BENCH_CONNECTIONS level). One server process per
 *    size, scenarios in a row; the mixed scenarios, which write, come last.
 *
 * Reported, never asserted: req/s, p50/p99, non-2xx answers (a 503 is a request that hit the
 * query deadline), and the issue's goals on LARGE.
 *
 * BENCH_LARGE_ROWS (1000000), BENCH_LARGE=0 (skip it in a full run), BENCH_LARGE_SCENARIOS (a
 * comma-separated list of scenario ids, or parts of them: only those run), BENCH_CPU_PROF (a
 * directory: the servers write V8 CPU profiles there).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interrupted } from './cleanup.js';
import type { Target } from './dataset.js';
import { AUTHOR_COUNT, authorRows, assertSeedEncoding, changeCountersInPlace, COUNTRIES, N_RANGE, readRawPost, SEARCH_WORD, seedPostgres, seedSqlite, VOCABULARY, type AuthorRow, type SeedResult } from './large-dataset.js';
import { api, createSchema, withSampleRecords, type LargeSchema } from './large-setup.js';
import { runLoad, type LoadRequest, type LoadResult } from './load.js';
import type { Settings } from './measure.js';
import { freePort, startServer, type ServerProcess } from './processes.js';
import { prng } from './dataset.js';
import { createTarget } from './targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RECORDS = '/api/collections/posts/records';
const SMALL_ROWS = 10_000;
/** The deep page of `page-5000` (perPage 20: rows 99,981–100,000 of the published ones). */
const DEEP_PAGE = 5000;

export type Size = 'small' | 'large';

export interface LargeBenchOptions {
  /** Posts of the LARGE size (BENCH_LARGE_ROWS). @default 1000000 */
  largeRows: number;
}

export function largeOptionsFromEnv(env: NodeJS.ProcessEnv): LargeBenchOptions {
  const raw = env.BENCH_LARGE_ROWS;
  const n = raw === undefined || raw === '' ? 1_000_000 : Number(raw);
  if (!Number.isInteger(n) || n <= SMALL_ROWS) throw new Error(`BENCH_LARGE_ROWS="${raw}": a whole number above ${SMALL_ROWS} (the SMALL size)`);
  return { largeRows: n };
}

/** What a scenario's requests may use. */
interface Context {
  publishedIds: string[];
  authors: AuthorRow[];
}

interface LargeScenario {
  id: string;
  description: string;
  /** Only on LARGE (page 5000 does not exist on SMALL). */
  largeOnly?: boolean;
  /** Writes records: runs after the reads. */
  writes?: boolean;
  /** In a mix, the tag whose figures are the scenario's (the others are reported beside it). */
  reported?: string;
  requests(ctx: Context): () => LoadRequest;
}

const get = (path: string): LoadRequest => ({ method: 'GET', path });
const filter = (expression: string) => `filter=${encodeURIComponent(expression)}`;
const LIST_COUNT = `${RECORDS}?sort=-n&perPage=20`;
const LIST_SKIP_TOTAL = `${LIST_COUNT}&skipTotal=1`;

/** `readsPerWrite` reads of `path` then one guest create, again and again (19: 95 % / 5 % of the requests sent). */
function mixed(path: string, readsPerWrite: number): (ctx: Context) => () => LoadRequest {
  return (ctx) => {
    const random = prng(99);
    let i = 0;
    return () => {
      if (++i % (readsPerWrite + 1) !== 0) return { ...get(path), tag: 'read' };
      const title = Array.from({ length: 5 }, () => VOCABULARY[Math.floor(random() * VOCABULARY.length)]).join(' ');
      const body = { title, n: Math.floor(random() * N_RANGE), published: true, author: ctx.authors[i % ctx.authors.length].id };
      return { method: 'POST', path: RECORDS, body: JSON.stringify(body), tag: 'create' };
    };
  };
}

/**
 * Searches about as common as SEARCH_WORD (each word; it without its first or last letter, which
 * a few other words may also contain): 2,000 ids kept for each are three times what a node keeps
 * (core/records/ranked-orders.ts), so taking them in turn ranks on every page.
 */
const COLD_SEARCHES = [...new Set(VOCABULARY.flatMap((w) => [w, w.slice(1), w.slice(0, -1)]))];

export const LARGE_SCENARIOS: readonly LargeScenario[] = [
  {
    id: 'getOne',
    description: 'GET /records/{id}, ids cycling over the published posts',
    requests(ctx) {
      let i = 0;
      return () => get(`${RECORDS}/${ctx.publishedIds[i++ % ctx.publishedIds.length]}`);
    },
  },
  { id: 'list-count', description: 'GET /records?sort=-n&perPage=20 (with the total)', requests: () => () => get(LIST_COUNT) },
  { id: 'list-skipTotal', description: 'the same with skipTotal=1', requests: () => () => get(LIST_SKIP_TOTAL) },
  {
    id: 'relation-filter',
    description: "filter=(author.country='FR' && n > 5000), with the total",
    requests: () => () => get(`${RECORDS}?perPage=20&${filter(`(author.country='FR' && n > ${N_RANGE / 2})`)}`),
  },
  { id: 'search', description: `filter=(title~'${SEARCH_WORD}'), with the total`, requests: () => () => get(`${RECORDS}?perPage=20&${filter(`(title~'${SEARCH_WORD}')`)}`) },
  // Basalt's ranked search: every match is scored before the page is known (README "Large
  // collections"); the same search again reads the kept order.
  { id: 'ranked-search', description: `search=${SEARCH_WORD} (ranked, best first), with the total: the same search again`, requests: () => () => get(`${RECORDS}?perPage=20&search=${SEARCH_WORD}`) },
  {
    id: 'ranked-search-cold',
    description: `search=<${COLD_SEARCHES.length} searches in turn> (ranked), with the total: more rankings than a node keeps, every page ranks`,
    requests: () => {
      let i = 0;
      return () => get(`${RECORDS}?perPage=20&search=${encodeURIComponent(COLD_SEARCHES[i++ % COLD_SEARCHES.length])}`);
    },
  },
  { id: 'page-1', description: 'sort=-n&perPage=20&page=1&skipTotal=1', requests: () => () => get(`${LIST_SKIP_TOTAL}&page=1`) },
  { id: `page-${DEEP_PAGE}`, description: `the same at page=${DEEP_PAGE} (OFFSET ${(DEEP_PAGE - 1) * 20})`, largeOnly: true, requests: () => () => get(`${LIST_SKIP_TOTAL}&page=${DEEP_PAGE}`) },
  { id: 'mixed-95/5 list-count', description: '95 % list-count, 5 % guest creates (published)', writes: true, reported: 'read', requests: mixed(LIST_COUNT, 19) },
  { id: 'mixed-95/5 list-skipTotal', description: '95 % list-skipTotal, 5 % guest creates (published)', writes: true, reported: 'read', requests: mixed(LIST_SKIP_TOTAL, 19) },
  // Write-heavy: whether stored totals still cost less than they save when every other request writes.
  { id: 'mixed-50/50 list-count', description: '50 % list-count, 50 % guest creates (published)', writes: true, reported: 'read', requests: mixed(LIST_COUNT, 1) },
  { id: 'mixed-50/50 list-skipTotal', description: '50 % list-skipTotal, 50 % guest creates (published)', writes: true, reported: 'read', requests: mixed(LIST_SKIP_TOTAL, 1) },
];

/** One scenario on one size. */
export interface LargeMeasure {
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  /** The whole run of a mix (both tags), for the JSON. */
  load: LoadResult;
  /** How the measured run's list totals were answered (the server's basalt_list_totals_total). */
  totals?: ListTotals;
}

/** List totals answered from a stored count, carried across writes, or counted. */
export interface ListTotals {
  stored: number;
  carried: number;
  counted: number;
}

/** The metrics token of the bench's servers (they listen on loopback only). */
const METRICS_TOKEN = 'large-bench-metrics-token-0123456789';

/** The server's list totals so far, from its metrics. */
async function listTotals(server: ServerProcess): Promise<ListTotals> {
  const res = await fetch(`${server.url}/api/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`GET /api/metrics: ${res.status}`);
  const totals: ListTotals = { stored: 0, carried: 0, counted: 0 };
  for (const m of (await res.text()).matchAll(/^basalt_list_totals_total\{result="(stored|carried|counted)"\} (\d+)/gm)) totals[m[1] as keyof ListTotals] = Number(m[2]);
  return totals;
}

const totalsLine = (t: ListTotals) => `totals ${t.stored} stored, ${t.carried} carried, ${t.counted} counted`;

export interface LargeBenchRow {
  engine: 'sqlite' | 'postgres';
  rows: Record<Size, number>;
  seeds: { size: Size; posts: number; seconds: number; searchShare: number }[];
  results: { scenario: string; small?: LargeMeasure; large?: LargeMeasure }[];
  /** Warnings and errors of the server logs, a server that did not exit cleanly. */
  notes: string[];
}

function measureOf(scenario: LargeScenario, load: LoadResult): LargeMeasure {
  const tag = scenario.reported ? load.byTag?.[scenario.reported] : undefined;
  const main = tag ?? load;
  return { reqPerSec: main.reqPerSec, p50: main.p50, p99: main.p99, non2xx: load.non2xx, errors: load.errors, statusCodes: load.statusCodes, load };
}

/** Rounds of page-1 and the deep page, each run this many times in turn (BENCH_SECONDS split between them). */
const PAIRED_ROUNDS = 4;

/** Runs of one scenario as one: mean req/s (equal durations), median p50, worst p99, counts summed. */
function combinedRounds(runs: LoadResult[]): LoadResult {
  if (runs.length === 1) return runs[0];
  const sum = (f: (r: LoadResult) => number) => runs.reduce((n, r) => n + f(r), 0);
  const p50s = runs.map((r) => r.p50).sort((a, b) => a - b);
  const statusCodes: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    reqPerSec: sum((r) => r.reqPerSec) / runs.length,
    p50: p50s[Math.floor(p50s.length / 2)],
    p99: Math.max(...runs.map((r) => r.p99)),
    requests: sum((r) => r.requests),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCodes,
  };
}

/** pino warnings and errors in a server log (≥ 40), as bench/measure.ts counts them. */
function logWarnings(file: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) >= 40) found.push(`${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`);
    } catch {
      // not a log line
    }
  }
  if (found.length === 0) return [];
  const distinct = [...new Set(found)].slice(0, 3).map((l) => JSON.stringify(l.length > 160 ? l.slice(0, 160) + '…' : l));
  return [`${found.length} warning/error lines in ${file}, e.g. ${distinct.join('; ')}`];
}

/** `{"a": 1}` → `{"a":"number"}`, keys in order: seeded and API-made records must agree. */
const shapeOf = (record: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v === null ? 'null' : typeof v])));

class EngineRun {
  private server: ServerProcess | null = null;
  private schema: LargeSchema | null = null;
  private samplePost: Record<string, unknown> = {};
  private readonly authors = authorRows();
  private readonly row: LargeBenchRow;

  constructor(
    private readonly target: Target,
    private readonly settings: Settings,
    private readonly logDir: string,
    rows: Record<Size, number>,
  ) {
    this.row = { engine: target.engine, rows, seeds: [], results: [], notes: [] };
  }

  private async start(label: string): Promise<ServerProcess> {
    const port = await freePort();
    const db = this.target.engine === 'postgres' ? ['--db', this.target.url] : [];
    this.server = await startServer({
      name: `basalt-large-${this.target.engine}-${label}`,
      cwd: ROOT,
      port,
      logFile: join(this.logDir, `large-${this.target.engine}-${label}.log`),
      // The flags decide everything: no BASALT_* setting of this shell reaches the server.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BASALT_'))),
      nodeArgs: [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_CPU_PROF] : []), 'bin/basalt.js', 'serve', '--http', `127.0.0.1:${port}`, '--dir', this.target.dir, ...db, '--log-level', 'warn', '--metrics-token', METRICS_TOKEN],
    });
    return this.server;
  }

  private async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    const code = await server.stop();
    this.row.notes.push(...logWarnings(server.logFile));
    if (code !== 0) this.row.notes.push(`${server.name} exited with ${code === null ? 'a signal (killed)' : `code ${code}`} on SIGTERM`);
  }

  private rawTarget() {
    return this.target.engine === 'postgres' ? { engine: 'postgres' as const, url: this.target.url } : { engine: 'sqlite' as const, file: join(this.target.dir, 'data.db') };
  }

  /** Step 1: the schema through the API, and the reference post. */
  async setUp(): Promise<void> {
    const server = await this.start('setup');
    try {
      this.schema = await createSchema(server);
      this.samplePost = await withSampleRecords(server, this.schema, async (id) => assertSeedEncoding(this.target.engine, await readRawPost(this.rawTarget(), id)));
    } finally {
      await this.stop();
    }
  }

  private async seed(size: Size): Promise<SeedResult> {
    const ids = { authorsId: this.schema!.authorsId, postsId: this.schema!.postsId };
    const count = this.row.rows[size];
    const withAuthors = size === 'small';
    const raw = this.rawTarget();
    const seeded = raw.engine === 'sqlite' ? seedSqlite(raw.file, ids, this.authors, count, withAuthors) : await seedPostgres(raw.url, ids, this.authors, count, withAuthors);
    this.row.seeds.push({ size, posts: seeded.posts, seconds: seeded.seconds, searchShare: seeded.searchShare });
    console.log(`large ${this.target.engine}: seeded ${seeded.posts.toLocaleString('en-US')} posts${withAuthors ? ` and ${AUTHOR_COUNT} authors` : ''} in ${seeded.seconds.toFixed(1)} s (${Math.round(seeded.posts / seeded.seconds).toLocaleString('en-US')} rows/s; '${SEARCH_WORD}' in ${(100 * seeded.searchShare).toFixed(1)} % of titles)`);
    return seeded;
  }

  /** The change counters are back, a seeded record answers like the one Basalt made, and the list total counts every published post. */
  private async check(server: ServerProcess, seeded: SeedResult): Promise<void> {
    const record = await api(server, 'GET', `${RECORDS}/${seeded.publishedIds[0]}`);
    if (shapeOf(record) !== shapeOf(this.samplePost)) throw new Error(`a seeded post reads ${shapeOf(record)}, a post Basalt wrote ${shapeOf(this.samplePost)}`);
    for (const id of [this.schema!.authorsId, this.schema!.postsId]) {
      if (!(await changeCountersInPlace(this.rawTarget(), id))) throw new Error(`the change-counter triggers of ${id} are not in place after the seeding`);
    }
    const list = await api(server, 'GET', LIST_COUNT);
    if (list.totalItems !== seeded.publishedIds.length) throw new Error(`the list counts ${String(list.totalItems)} published posts, ${seeded.publishedIds.length} were seeded`);
  }

  /** Step 2 for one size. */
  async measure(size: Size): Promise<void> {
    const seeded = await this.seed(size);
    const server = await this.start(size);
    try {
      await this.check(server, seeded);
      if (size === 'large' && seeded.publishedIds.length <= (DEEP_PAGE - 1) * 20) {
        this.row.notes.push(`page-${DEEP_PAGE} is past the last page at ${sizeLabel(seeded.posts)} posts (${seeded.publishedIds.length} published): it reads an empty page`);
      }
      const ctx: Context = { publishedIds: seeded.publishedIds, authors: this.authors };
      const only = (process.env.BENCH_LARGE_SCENARIOS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
      const scenarios = LARGE_SCENARIOS.filter((s) => (size === 'large' || !s.largeOnly) && (only.length === 0 || only.some((p) => s.id.includes(p)))).sort((a, b) => Number(Boolean(a.writes)) - Number(Boolean(b.writes)));
      const { seconds, warmupSeconds, connections } = this.settings;
      const load = (scenario: LargeScenario, runSeconds: number) => runLoad({ url: server.url, connections, seconds: runSeconds, next: scenario.requests(ctx) });
      // Page 1 and the deep page are compared as a ratio: run in alternating rounds, so a drift
      // of the machine's speed during the run falls on both alike.
      const pair = scenarios.filter((s) => s.id === 'page-1' || s.id === `page-${DEEP_PAGE}`);
      const paired = size === 'large' && pair.length === 2 && seconds >= 2 * PAIRED_ROUNDS;
      for (const scenario of scenarios) {
        if (interrupted()) return;
        if (paired && scenario.id === `page-${DEEP_PAGE}`) continue;
        const group = paired && scenario.id === 'page-1' ? pair : [scenario];
        for (const s of group) if (warmupSeconds > 0) await load(s, warmupSeconds);
        const rounds = group.length > 1 ? PAIRED_ROUNDS : 1;
        const runs = new Map<LargeScenario, LoadResult[]>(group.map((s) => [s, []]));
        const before = await listTotals(server);
        for (let round = 0; round < rounds; round++) for (const s of group) runs.get(s)!.push(await load(s, seconds / rounds));
        const after = await listTotals(server);
        for (const s of group) this.record(size, s, combinedRounds(runs.get(s)!), group.length > 1 ? null : { before, after }, rounds);
      }
    } finally {
      await this.stop();
    }
  }

  private record(size: Size, scenario: LargeScenario, load: LoadResult, totals: { before: ListTotals; after: ListTotals } | null, rounds: number): void {
    const m = measureOf(scenario, load);
    // Alternating scenarios share the server's counters: their totals are not told apart (none are taken).
    m.totals = totals ? { stored: totals.after.stored - totals.before.stored, carried: totals.after.carried - totals.before.carried, counted: totals.after.counted - totals.before.counted } : undefined;
    let entry = this.row.results.find((r) => r.scenario === scenario.id);
    if (!entry) this.row.results.push((entry = { scenario: scenario.id }));
    entry[size] = m;
    const creates = m.load.byTag?.create;
    console.log(
      `large ${this.target.engine} ${size} ${scenario.id}: ${Math.round(m.reqPerSec)} req/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms` +
        (rounds > 1 ? ` (${rounds} rounds alternating with page-1 / page-${DEEP_PAGE})` : '') +
        (creates ? ` (creates beside: ${Math.round(creates.reqPerSec)}/s, p99 ${creates.p99.toFixed(1)} ms)` : '') +
        (m.totals ? `; ${totalsLine(m.totals)}` : '') +
        (m.non2xx + m.errors > 0 ? `; ${m.non2xx} non-2xx ${JSON.stringify(m.statusCodes)}, ${m.errors} errors` : ''),
    );
  }

  result(): LargeBenchRow {
    return this.row;
  }
}

/** Runs one engine; its row is in `rows` from the start, so a failure keeps what was measured. */
async function benchEngine(engine: 'sqlite' | 'postgres', options: LargeBenchOptions & { pgAdminUrl: string; settings: Settings }, logDir: string, rows: LargeBenchRow[]): Promise<void> {
  const target = await createTarget(engine, options.pgAdminUrl);
  const run = new EngineRun(target, options.settings, logDir, { small: SMALL_ROWS, large: options.largeRows });
  rows.push(run.result());
  await run.setUp();
  for (const size of ['small', 'large'] as const) {
    if (interrupted()) break;
    await run.measure(size);
  }
}

/** Fills `rows` (one per engine) as it goes. */
export async function runLargeBench(options: LargeBenchOptions & { engines: ('sqlite' | 'postgres')[]; pgAdminUrl: string; settings: Settings }, logDir: string, rows: LargeBenchRow[]): Promise<void> {
  for (const engine of options.engines) {
    if (interrupted()) break;
    console.log(`large: ${engine}, ${SMALL_ROWS.toLocaleString('en-US')} then ${options.largeRows.toLocaleString('en-US')} posts…`);
    await benchEngine(engine, options, logDir, rows);
  }
}

// ---- the report ----

/** 10000 → "10k", 1000000 → "1M", 1500000 → "1.5M". */
export function sizeLabel(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export interface GoalCheck {
  goal: string;
  /** What was measured, in words. */
  measured: string;
  verdict: 'PASS' | 'MISS' | '—';
}

/** The issue's goals, on LARGE; '—' when a figure is missing (a scenario cut short). */
export function goalChecks(row: LargeBenchRow): GoalCheck[] {
  const large = (id: string) => row.results.find((r) => r.scenario === id)?.large;
  const small = (id: string) => row.results.find((r) => r.scenario === id)?.small;
  const num = (n: number) => Math.round(n).toLocaleString('en-US');
  const check = (goal: string, values: (LargeMeasure | undefined)[], measure: (v: LargeMeasure[]) => { measured: string; pass: boolean }): GoalCheck => {
    if (values.some((v) => v === undefined)) return { goal, measured: 'not measured', verdict: '—' };
    const { measured, pass } = measure(values as LargeMeasure[]);
    return { goal, measured, verdict: pass ? 'PASS' : 'MISS' };
  };
  const L = sizeLabel(row.rows.large);
  const S = sizeLabel(row.rows.small);
  const all = row.results.flatMap((r) => [r.small, r.large]).filter((m): m is LargeMeasure => m !== undefined);
  const bad = all.reduce((n, m) => n + m.non2xx, 0);
  const errors = all.reduce((n, m) => n + m.errors, 0);
  return [
    check(`list-count ≥ 50 % of list-skipTotal under the 95/5 mix (${L})`, [large('mixed-95/5 list-count'), large('mixed-95/5 list-skipTotal')], ([c, s]) => ({ measured: `${num(c.reqPerSec)} / ${num(s.reqPerSec)} = ${((100 * c.reqPerSec) / s.reqPerSec).toFixed(1)} %`, pass: c.reqPerSec >= 0.5 * s.reqPerSec })),
    check(`relation-filter ≥ 200 req/s (${L})`, [large('relation-filter')], ([r]) => ({ measured: `${num(r.reqPerSec)} req/s`, pass: r.reqPerSec >= 200 })),
    check(`page-${DEEP_PAGE} within 20 % of page-1 (${L})`, [large(`page-${DEEP_PAGE}`), large('page-1')], ([d, p]) => ({ measured: `${num(d.reqPerSec)} / ${num(p.reqPerSec)} = ${(d.reqPerSec / p.reqPerSec).toFixed(2)}`, pass: d.reqPerSec >= 0.8 * p.reqPerSec })),
    check(`search ≥ 1,000 req/s (${L})`, [large('search')], ([r]) => ({ measured: `${num(r.reqPerSec)} req/s`, pass: r.reqPerSec >= 1000 })),
    check(`getOne ${L} ≥ 0.6 × getOne ${S}`, [large('getOne'), small('getOne')], ([l, s]) => ({ measured: `${num(l.reqPerSec)} / ${num(s.reqPerSec)} = ${(l.reqPerSec / s.reqPerSec).toFixed(2)}`, pass: l.reqPerSec >= 0.6 * s.reqPerSec })),
    { goal: 'no non-2xx answer', measured: `${bad} non-2xx${errors > 0 ? `, ${errors} connection errors` : ''}`, verdict: bad === 0 ? 'PASS' : 'MISS' },
  ];
}

function codes(m: LargeMeasure | undefined): string {
  if (!m) return '–';
  if (m.non2xx === 0 && m.errors === 0) return '0';
  const list = Object.entries(m.statusCodes).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${n}×${c}`);
  return `${m.non2xx}${list.length > 0 ? ` (${list.join(', ')})` : ''}${m.errors > 0 ? ` +${m.errors} errors` : ''}`;
}

export function formatLargeTable(rows: LargeBenchRow[], settings: Settings): string {
  const num = (m: LargeMeasure | undefined) => (m ? Math.round(m.reqPerSec).toLocaleString('en-US') : '–');
  const out: string[] = [`Large collections: ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.seconds} s per run, guest requests; the mixed rows give the reads' req/s and latency`];
  for (const row of rows) {
    const S = sizeLabel(row.rows.small);
    const L = sizeLabel(row.rows.large);
    out.push('', `${row.engine}: ${row.seeds.map((s) => `seeded ${s.posts.toLocaleString('en-US')} posts in ${s.seconds.toFixed(1)} s`).join(', ')} (straight into the database)`);
    out.push(`| request | ${S} req/s | ${L} req/s | ${L} / ${S} | p50 ${L} | p99 ${L} | non-2xx ${S} / ${L} |`, '|---|---:|---:|---:|---:|---:|---|');
    const order = (id: string) => LARGE_SCENARIOS.findIndex((s) => s.id === id);
    for (const r of [...row.results].sort((a, b) => order(a.scenario) - order(b.scenario))) {
      const ratio = r.small && r.large && r.small.reqPerSec > 0 ? `${(r.large.reqPerSec / r.small.reqPerSec).toFixed(2)}` : '–';
      const ms = (v: number | undefined) => (v === undefined ? '–' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
      out.push(`| ${r.scenario} | ${num(r.small)} | ${num(r.large)} | ${ratio} | ${ms(r.large?.p50)} | ${ms(r.large?.p99)} | ${codes(r.small)} / ${codes(r.large)} |`);
    }
    for (const r of row.results) {
      const creates = (m: LargeMeasure | undefined) => m?.load.byTag?.create;
      const [cs, cl] = [creates(r.small), creates(r.large)];
      if (cs || cl) out.push(`  ${r.scenario}: creates beside the reads ${cs ? Math.round(cs.reqPerSec) : '–'} / ${cl ? Math.round(cl.reqPerSec) : '–'} per s (${S} / ${L}), p99 ${cl ? cl.p99.toFixed(1) : '–'} ms on ${L}`);
      const t = r.large?.totals;
      if (t && t.stored + t.carried + t.counted > 0) out.push(`  ${r.scenario} on ${L}: list ${totalsLine(t)}`);
    }
    out.push('Goals (reported, not asserted):');
    for (const g of goalChecks(row)) out.push(`  ${g.verdict.padEnd(4)}  ${g.goal}: ${g.measured}`);
    if (row.notes.length > 0) out.push('Notes:', ...row.notes.map((n) => `  ${n}`));
  }
  out.push('', `Dataset: ${AUTHOR_COUNT} authors (countries ${COUNTRIES.join(', ')}: 'FR' ~10 %), posts with n uniform in [0, ${N_RANGE}), about half published (listRule "published = true").`);
  return out.join('\n');
}
