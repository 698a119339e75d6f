/**
 * Property tests of `?filter=` over the HTTP API, on the engine BASALT_TEST_DB selects (SQLite by
 * default), with the dataset of test/api/filter-dataset.ts:
 *
 * 1. token soup — random sequences of a grammar-aware alphabet (real field paths and modifiers,
 *    literals, operators, joins, parentheses, functions, @request/@collection, junk characters),
 *    sent by a superuser and by a guest: always 200 or 400 (403 for guests naming @request. or
 *    @collection.), with the standard error shape, never 500;
 * 2. valid filters built from a typed AST generator: always 200;
 * 3. on PostgreSQL runs, the same valid filters (minus the constructs whose engine differences are
 *    known bugs, see filter-semantics.test.ts) must select the same records as on SQLite.
 *
 * FC_SEED fixes the seed (default below) so a failure reproduces; FC_RUNS scales the run count.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST_FIELD_PATHS, seedFilterDataset, type FilterDataset } from '../api/filter-dataset.js';
import { ENGINE } from '../harness/engines.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20240607;
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 1;
const runs = (n: number) => Math.max(1, Math.round(n * RUNS));

let t: TestApp;
let ds: FilterDataset;
/** The SQLite reference app of the differential property (PostgreSQL runs only). */
let ref: { t: TestApp; ds: FilterDataset } | null = null;

async function start(engine: 'sqlite' | 'postgres' | undefined) {
  const app = await startTestApp(engine ? { engine } : {});
  const data = await seedFilterDataset(app);
  // open list rule: guests list too (no empty-result throttling: the rule is not a filter)
  await app.app.collections.update('posts', { listRule: '' });
  return { t: app, ds: data };
}

beforeAll(async () => {
  ({ t, ds } = await start(undefined));
  if (ENGINE === 'postgres') ref = await start('sqlite');
});
afterAll(async () => {
  await t?.close();
  await ref?.t.close();
});

interface Reply {
  status: number;
  body: any;
}

async function list(app: TestApp, token: string | undefined, filter: string): Promise<Reply> {
  const url = `/api/collections/posts/records?perPage=500&sort=@rowid&q=Alpha&filter=${encodeURIComponent(filter)}`;
  const res = await app.server.inject({ method: 'GET', url, headers: token ? { authorization: token, 'x-token': 'abc' } : { 'x-token': 'abc' } });
  let body: any;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = res.body;
  }
  return { status: res.statusCode, body };
}

/** Every error has exactly the standard shape (spec §1.1); a bad filter is a field error. */
function checkShape(filter: string, r: Reply): void {
  if (r.status === 200) {
    expect(Array.isArray(r.body.items), filter).toBe(true);
    return;
  }
  expect(Object.keys(r.body ?? {}).sort(), filter).toEqual(['data', 'message', 'status']);
  expect(r.body.status, filter).toBe(r.status);
  expect(typeof r.body.message, filter).toBe('string');
  expect(typeof r.body.data, filter).toBe('object');
  if (r.status === 400) expect(r.body.data.filter?.code, filter).toBe('validation_invalid_filter');
}

const mentionsRequestOrCollection = (filter: string) => filter.includes('@request.') || filter.includes('@collection.');

// ---------------------------------------------------------------------------------------------
// 1. token soup
// ---------------------------------------------------------------------------------------------

const FIELD_TOKENS = [
  ...POST_FIELD_PATHS.text,
  ...POST_FIELD_PATHS.number,
  ...POST_FIELD_PATHS.bool,
  ...POST_FIELD_PATHS.json,
  'nope',
  'author.nope',
  'title.x',
  'title:nope',
  'tags:each:length',
  'title:isset',
  'comments_via_nope.x',
  'nodes_via_post.x',
  'data.a-b',
  'TRUE',
  'Null',
];

const TOKENS = [
  ...FIELD_TOKENS,
  '@request.auth.id',
  '@request.auth.team.name',
  '@request.query.q',
  '@request.headers.x_token',
  '@request.body.title:changed',
  '@request.method',
  '@collection.comments.text',
  '@collection.comments:c.likes',
  '@collection.nope.x',
  '@now',
  '@todayStart',
  '@yesterday',
  '@year',
  '@nope',
  "'x'",
  '"Alpha"',
  "'%'",
  "'_'",
  "'\\'",
  "''",
  "'it\\'s'",
  "'é'",
  "'%\\_%'",
  "'2024-01-01'",
  '1',
  '-2.5',
  '0',
  '007',
  '1.',
  '-',
  '.5',
  '99999999999999999999',
  'null',
  'true',
  'false',
  '=',
  '!=',
  '~',
  '!~',
  '<',
  '<=',
  '>',
  '>=',
  '?=',
  '?!=',
  '?~',
  '?!~',
  '?<',
  '?<=',
  '?>',
  '?>=',
  '==',
  '=!',
  '<>',
  '!',
  '?',
  '&',
  '|',
  '&&',
  '||',
  '&&&',
  '(',
  ')',
  ',',
  'geoDistance(',
  'strftime(',
  'foo(',
  '//',
  '\n',
  '\t',
  '#',
  '$',
  ';',
  '`',
  '\\',
  '.',
  ':',
  '@',
  '💥',
  '{:x}',
  "'",
  '"',
  '%',
  '*',
  '[',
  ']',
];

const soup = fc
  .array(fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom(' ', ' ', '', '  ')), { minLength: 1, maxLength: 14 })
  .map((parts) => parts.map(([token, sep]) => token + sep).join(''));

// ---------------------------------------------------------------------------------------------
// 2. valid filters from a typed generator
// ---------------------------------------------------------------------------------------------

type Kind = 'text' | 'number' | 'bool' | 'json' | 'null';

interface GenOptions {
  /** a superuser may use @request / @collection and hidden fields */
  superuser: boolean;
  /** leave out what the engines are known to disagree on, for the differential property */
  portable: boolean;
}

interface Operand {
  src: string;
  kind: Kind;
}

const MACROS = ['@now', '@yesterday', '@tomorrow', '@todayStart', '@todayEnd', '@monthStart', '@monthEnd', '@yearStart', '@yearEnd'];
const NUMBER_MACROS = ['@second', '@minute', '@hour', '@day', '@month', '@weekday', '@year'];
const OPS = ['=', '!=', '~', '!~', '<', '<=', '>', '>='];
const FORMATS = ['%Y', '%Y-%m-%d', '%H:%M', '%w', '%j', '%s', '%d', '%m/%d', 'x%%y'];
const MODIFIERS = ['+1 day', '-1 month', '+2 hours', 'start of year', 'start of month', 'start of day', 'weekday 0', 'unixepoch', '-10 years', 'bogus'];

/** Field paths a client may filter by; `portable` drops the ones that differ per app or per engine. */
function fieldsOf(kind: Exclude<Kind, 'null'>, o: GenOptions): string[] {
  let fields: string[] = [...POST_FIELD_PATHS[kind]];
  if (!o.superuser) fields = fields.filter((f) => f !== 'secret');
  // created/updated hold each app's own clock; body holds non-ASCII text (LIKE/LOWER differ)
  if (o.portable) fields = fields.filter((f) => !/^(created|updated|body)$/.test(f));
  return fields;
}

function quote(value: string, q: "'" | '"'): string {
  let v = value.replaceAll(q, `\\${q}`);
  // a text cannot end with a backslash in fexpr (it would escape the closing quote)
  if (v.endsWith('\\')) v += 'x';
  return q + v + q;
}

const ASCII_CHARS = [...'abcdeghilopstxyzABEGZ 0123456789-_%:\\\'".,'];
const ALL_CHARS = [...ASCII_CHARS, 'é', 'É', 'ß', '💥', '\n'];

function textLiteral(o: GenOptions): fc.Arbitrary<Operand> {
  const words = fc.constantFrom('Alpha', 'beta', 'go', 'sql', 'a_b', '50%', 'hello', 'Red', 'Acme', '', '1999', '2001-01-01', '10', '2.5', 'true', 'draft');
  const random = fc.string({ unit: fc.constantFrom(...(o.portable ? ASCII_CHARS : ALL_CHARS)), maxLength: 8 });
  return fc.tuple(fc.oneof(words, random), fc.constantFrom<"'" | '"'>("'", '"')).map(([v, q]) => ({ src: quote(v, q), kind: 'text' as const }));
}

const numberLiteral: fc.Arbitrary<Operand> = fc
  .oneof(
    fc.integer({ min: -100_000, max: 100_000 }).map(String),
    fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 0, max: 9999 })).map(([a, b]) => `${a}.${b}`),
    fc.constantFrom('0', '5', '10', '2.5', '52.52', '-1'),
  )
  .map((src) => ({ src, kind: 'number' as const }));

function operandArb(o: GenOptions, depth: number): fc.Arbitrary<Operand> {
  const field = (kind: Exclude<Kind, 'null'>) => fc.constantFrom(...fieldsOf(kind, o)).map((src) => ({ src, kind }));
  const choices: fc.Arbitrary<Operand>[] = [
    field('text'),
    field('number'),
    field('bool'),
    field('json'),
    textLiteral(o),
    numberLiteral,
    fc.constantFrom('null', 'true', 'false').map((src) => ({ src, kind: (src === 'null' ? 'null' : 'bool') as Kind })),
    fc.constantFrom(...MACROS).map((src) => ({ src, kind: 'text' as const })),
  ];
  // the clock moves between the requests of the differential property
  if (!o.portable) choices.push(fc.constantFrom(...NUMBER_MACROS).map((src) => ({ src, kind: 'number' as const })));
  if (depth < 2) {
    // geoDistance: numbers and number fields that are never NULL (on PostgreSQL a NULL argument
    // yields 20015 km instead of NULL, see filter-semantics.test.ts)
    const geoArg: fc.Arbitrary<string> = o.portable
      ? fc.oneof(fc.constantFrom('loc.lon', 'loc.lat', 'views', 'score'), numberLiteral.map((n) => n.src))
      : fc.oneof(fc.constantFrom('loc.lon', 'loc.lat', 'views', 'score', 'data.n', 'author.team.org.hq.lat', 'null'), numberLiteral.map((n) => n.src));
    // at most one multi-valued argument (two are refused, a known bug: see filter-semantics.test.ts)
    const firstGeoArg = o.portable ? geoArg : fc.oneof(geoArg, fc.constant('teams.org.hq.lon'));
    choices.push(fc.tuple(firstGeoArg, geoArg, geoArg, geoArg).map((args) => ({ src: `geoDistance(${args.join(', ')})`, kind: 'number' as const })));
    const times = ['publishAt', "'2024-02-29 12:00:00.000Z'", "'2001-01-01'", "''", '86400', '2460000.5'];
    // timestamps of each app's own clock
    if (!o.portable) times.push('created', 'editors.created', 'comments_via_post.created', "'now'");
    const time = fc.constantFrom(...times);
    choices.push(
      fc
        .tuple(fc.constantFrom(...FORMATS), time, fc.array(fc.constantFrom(...MODIFIERS), { maxLength: 2 }))
        .map(([fmt, tv, mods]) => ({ src: `strftime(${[quote(fmt, "'"), tv, ...mods.map((m) => quote(m, "'"))].join(', ')})`, kind: 'text' as const })),
    );
  }
  if (o.superuser) {
    const request = ['@request.query.q', '@request.query.nope', '@request.headers.x_token', '@request.method', '@request.context', '@request.body.title', '@request.auth.email', '@request.auth.collectionName', '@request.auth.nope'];
    if (!o.portable) request.push('@request.auth.id');
    choices.push(fc.constantFrom(...request).map((src) => ({ src, kind: 'text' as const })));
    choices.push(fc.constantFrom('@request.query.q:isset', '@request.body.title:isset', '@request.body.title:changed').map((src) => ({ src, kind: 'bool' as const })));
    choices.push(
      fc
        .tuple(fc.constantFrom('', ':c', ':d'), fc.constantFrom('text', 'likes', 'post', 'author.name', 'post.title', 'id'))
        .map(([alias, path]) => ({ src: `@collection.comments${alias}.${path}`, kind: (path === 'likes' ? 'number' : 'text') as Kind })),
    );
  }
  return fc.oneof(...choices);
}

function comparisonArb(o: GenOptions): fc.Arbitrary<string> {
  return fc
    .tuple(operandArb(o, 0), fc.boolean(), fc.constantFrom(...OPS), operandArb(o, 0))
    .map(([left, any, op, right]) => `${left.src} ${any ? '?' : ''}${op} ${right.src}`);
}

function filterArb(o: GenOptions): fc.Arbitrary<string> {
  const { expr } = fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      comparisonArb(o),
      fc.tuple(tie('expr'), fc.constantFrom(' && ', ' || ', '&&', ' ||\n', ' // note\n&& '), tie('expr')).map(([l, j, r]) => l + j + r),
      tie('expr').map((e) => `(${e})`),
    ),
  }));
  return fc.tuple(expr, fc.constantFrom('', ' ', '\n', ' // trailing comment')).map(([e, tail]) => e + tail);
}

const SUPERUSER: GenOptions = { superuser: true, portable: false };
const GUEST: GenOptions = { superuser: false, portable: false };
const PORTABLE: GenOptions = { superuser: true, portable: true };

// ---------------------------------------------------------------------------------------------

describe(`filter fuzz over HTTP (${ENGINE})`, () => {
  it('token soup: 200 or 400 (403 for guests naming @request./@collection.), never 500', async () => {
    await fc.assert(
      fc.asyncProperty(soup, async (filter) => {
        const su = await list(t, ds.superuserToken, filter);
        checkShape(filter, su);
        expect([200, 400], `superuser: ${JSON.stringify(filter)} → ${JSON.stringify(su.body)}`).toContain(su.status);

        const guest = await list(t, undefined, filter);
        checkShape(filter, guest);
        if (mentionsRequestOrCollection(filter)) expect(guest.status, `guest: ${JSON.stringify(filter)}`).toBe(403);
        else expect([200, 400], `guest: ${JSON.stringify(filter)} → ${JSON.stringify(guest.body)}`).toContain(guest.status);
      }),
      { seed: SEED, numRuns: runs(250) },
    );
  });

  it('token soup after a valid prefix: still never 500', async () => {
    await fc.assert(
      fc.asyncProperty(comparisonArb(SUPERUSER), fc.constantFrom(' && ', ' || ', ' '), soup, async (prefix, join, rest) => {
        const filter = prefix + join + rest;
        const su = await list(t, ds.superuserToken, filter);
        checkShape(filter, su);
        expect([200, 400], `${JSON.stringify(filter)} → ${JSON.stringify(su.body)}`).toContain(su.status);
      }),
      { seed: SEED + 1, numRuns: runs(120) },
    );
  });

  it('valid filters (superuser): 200, or refused for their cost', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb(SUPERUSER), async (filter) => {
        const r = await list(t, ds.superuserToken, filter);
        // Superusers have a budget too (client-budget.ts): whole-table @collection joins compared
        // value by value can be over it (4 of the 200 generated filters), the only 400 allowed here.
        if (r.status === 400 && r.body.data?.filter?.code === 'validation_filter_too_complex') return;
        expect(r.status, `${JSON.stringify(filter)} → ${JSON.stringify(r.body)}`).toBe(200);
        expect(r.body.totalItems).toBe(r.body.items.length);
      }),
      { seed: SEED + 2, numRuns: runs(200) },
    );
  });

  it('valid filters (guest, no @request/@collection, no hidden fields): 200', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb(GUEST), async (filter) => {
        const r = await list(t, undefined, filter);
        expect(r.status, `${JSON.stringify(filter)} → ${JSON.stringify(r.body)}`).toBe(200);
      }),
      { seed: SEED + 3, numRuns: runs(150) },
    );
  });

  it.runIf(ENGINE === 'postgres')('valid portable filters select the same records on PostgreSQL and SQLite', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb(PORTABLE), async (filter) => {
        const [pg, lite] = await Promise.all([list(t, ds.superuserToken, filter), list(ref!.t, ref!.ds.superuserToken, filter)]);
        // A filter over the superuser budget is refused before it runs, alike on both engines.
        const tooComplex = (r: Reply) => r.status === 400 && r.body.data?.filter?.code === 'validation_filter_too_complex';
        if (tooComplex(pg) || tooComplex(lite)) {
          expect([tooComplex(pg), tooComplex(lite)], `${JSON.stringify(filter)}: refused on one engine only`).toEqual([true, true]);
          return;
        }
        expect(pg.status, `postgres: ${JSON.stringify(filter)} → ${JSON.stringify(pg.body)}`).toBe(200);
        expect(lite.status, `sqlite: ${JSON.stringify(filter)} → ${JSON.stringify(lite.body)}`).toBe(200);
        const ids = (r: Reply) => r.body.items.map((i: { id: string }) => i.id);
        expect(ids(pg), `postgres and sqlite disagree on ${JSON.stringify(filter)}`).toEqual(ids(lite));
      }),
      { seed: SEED + 4, numRuns: runs(150) },
    );
  });
});
