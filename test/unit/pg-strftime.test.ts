// Differential test: basalt_strftime() on PostgreSQL against SQLite's own strftime(), the one
// bundled with better-sqlite3 (3.53). Every case must give the identical string, or NULL on both.
// The PostgreSQL side runs in a schema of its own, created and dropped here.

import Database from 'better-sqlite3';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPostgresFunctions } from '../../src/db/postgres/install-functions.js';

// SQLite's `localtime`/`utc` follow the process time zone while basalt_strftime assumes a UTC
// server, so this worker runs in UTC (Node calls tzset() when TZ is assigned; no query has run).
process.env.TZ = 'UTC';

const PG_URL = process.env.BASALT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `basalt_strftime_test_${process.pid}_${Date.now().toString(36)}`;
// FC_SEED / FC_RUNS explore further: FC_SEED=$RANDOM FC_RUNS=200000 npx vitest run …
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20240131;
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 20_000;

/** strftime(fmt, time, ...mods); a number is bound as a REAL / double precision. */
interface Case {
  fmt: string | null;
  time: string | number | null;
  mods: (string | null)[];
}

let client: pg.Client;
const sqlite = new Database(':memory:');
const statements = new Map<number, Database.Statement>();

const connect = (): pg.Client => new pg.Client({ connectionString: PG_URL });

function onSqlite(c: Case): string | null {
  let stmt = statements.get(c.mods.length);
  if (!stmt) {
    stmt = sqlite.prepare(`SELECT strftime(${['?', '?', ...c.mods.map(() => '?')].join(', ')})`).pluck();
    statements.set(c.mods.length, stmt);
  }
  return stmt.get(c.fmt, c.time, ...c.mods) as string | null;
}

/** One round trip for the whole batch; a JSON number goes to the float8 overload. */
async function onPostgres(cases: Case[]): Promise<(string | null)[]> {
  const { rows } = await client.query<{ r: string | null }>(
    `SELECT CASE WHEN jsonb_typeof(c->'time') = 'number'
                 THEN basalt_strftime(c->>'fmt', (c->>'time')::float8, m.mods)
                 ELSE basalt_strftime(c->>'fmt', c->>'time', m.mods) END AS r
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(c, i)
      CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(e ORDER BY o), '{}')::text[] AS mods
          FROM jsonb_array_elements_text(c->'mods') WITH ORDINALITY AS t(e, o)) m
      ORDER BY i`,
    [JSON.stringify(cases)],
  );
  return rows.map((row) => row.r);
}

/** The cases whose results differ, with both results. */
async function mismatches(cases: Case[]): Promise<unknown[]> {
  const got = await onPostgres(cases);
  return cases.flatMap((c, i) => {
    const want = onSqlite(c);
    return got[i] === want ? [] : [{ ...c, sqlite: want, postgres: got[i] }];
  });
}

/** Asserts no mismatch, showing the first few and the count. */
async function expectSame(cases: Case[], label: string): Promise<void> {
  const bad = await mismatches(cases);
  expect(bad.slice(0, 8), `${label}: ${bad.length} of ${cases.length} cases differ`).toEqual([]);
}

beforeAll(async () => {
  client = connect();
  await client.connect();
  await client.query(`CREATE SCHEMA "${SCHEMA}"`);
  await client.query(`SET search_path TO "${SCHEMA}"`);
  // First install from several "nodes" at once, then once more: race-free and idempotent.
  const others = [connect(), connect(), connect()];
  await Promise.all(others.map((o) => o.connect()));
  await Promise.all(others.map((o) => o.query(`SET search_path TO "${SCHEMA}"`)));
  await Promise.all([client, ...others].map((c) => installPostgresFunctions(c)));
  await Promise.all(others.map((o) => o.end()));
  await installPostgresFunctions(client);
});

afterAll(async () => {
  if (!client) return;
  await client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`).catch(() => {});
  await client.end();
});

// ---------------------------------------------------------------------------------------------
// The hand-written table: each time value × each modifier list with every specifier at once,
// then each format on its own.

const ALL_SPECIFIERS = 'd e f F G g H I j J k l m M p P R s S T u U V w W Y %'.split(' ');
const EVERYTHING = ALL_SPECIFIERS.map((s) => `%${s}`).join('|');

const TIMES: (string | number)[] = [
  '2024-01-31 12:00:00.123Z', '2024-02-29', '2023-02-29', '2023-02-31', '2024-04-31',
  '2024-12-31 23:59:59.999', '2000-01-01', '1970-01-01 00:00:00', '1969-12-31 23:59:59.5',
  '0000-01-01', '-0001-12-31', '-4713-11-24 12:00', '-4713-11-24 11:59', '9999-12-31 23:59:59.999',
  '1900-02-28 23:00', '2100-03-01', '2021-01-03', '2020-12-31', '2026-01-01', '2027-01-01',
  '2024-06-15T08:30:00+05:30', '2024-06-15 08:30:00-14:00', '2024-06-15 08:30:00+14:59',
  '2024-06-15 08:30:00+15:00', '2024-06-15 08:30+00:00', '2024-06-15 08:30 Z', '2024-06-15 08:30:00z',
  '2024-06-15 08:30:00 -00:00 ', '2024-01-01 12:00:00.123+1:00', '2024-01-01 12:00:00.123+0100',
  '2024-01-01 12:00:00.123Zjunk', '2024-06-15T', '2024-06-15 ', ' 2024-06-15', '2024-06-15 T 08:30',
  '2024-06-15TT08:30', '2024-06-15 8:30', '2024-6-15', '2024-13-01', '2024-00-10', '2024-01-32',
  '2024-01-00', '+2024-01-01', '2024-01-01\t12:00', '2024-01-01\n', '2024-01-01 12:00\v',
  '2024-01-01 24:00', '2024-12-31 24:00:00', '2024-01-01 12:00:00.', '2024-01-01 12:00.5',
  '12:34', '12:34:56', '12:34:56.789', '24:00', '24:00:00', '25:00', '12:60', '12:34:60',
  '12:34:56.1234567', '12:34:56.9999', '12:34:56.0005', '12:34:56.0015', '12:34:56.1235',
  '12:34:56.12345678901234567890', '00:00:00.0004999', '00:00:00.0005', '12:00+05:00',
  '12:00 -03:30', '23:00-02:00', '2460000.5', '2460000', '0', '-0', '-1', '5373484.4999',
  '5373484.5', '1e6', ' 2451545 ', '2451545.', '.5', '+2451545', '1e', '1e+', 'e5', '.', '+',
  '- 5', 'abc', '', 'T12:00', 'now ', 'nowx', '2451545.12345678901234567890123',
  '24515451234567890123456789e-19', '1700000000', '1700000000.123', '-210866760000',
  '-210866760001', '253402300799', '253402300800', '1e400', '-1e400', '1e-400', '0x10',
  2460000.5, 0, -1, 1700000000, 1700000000.5, 5373484.4999, 1e300, -0, 0.00001, 1e-9, 86400,
];

/** Fractions past the double range, numbers past 19 digits or the exponent range. (Not 400
 * non-zero fraction digits: the seconds become NaN in SQLite, and (i64)NaN is undefined in C.) */
const EXTREME_TIMES = [
  `12:00:00.${'0'.repeat(400)}`, `12:00:00.${'0'.repeat(300)}${'9'.repeat(50)}`,
  '1'.repeat(400), `0.${'0'.repeat(400)}1`, '1e99999', '1e-99999', `${'9'.repeat(25)}e-19`,
  '1.7976931348623158e308', '2451545.00000000000000000000000001',
];

const BIG = '+464269000000000 seconds';
const MINUS_BIG = '-464269000000000 seconds';

const MODS: string[][] = [
  [], ['+1 day'], ['-1 day'], ['+1.5 days'], ['+1 month'], ['-1 month'], ['+13 months'],
  ['-13 months'], ['+1.5 months'], ['-0.5 months'], ['+1 year'], ['-1 year'], ['+1.25 years'],
  ['+4 years'], ['+1 hour'], ['+90 minutes'], ['-3600 seconds'], ['+0.001 seconds'],
  ['+0.0005 seconds'], ['-0.0005 seconds'], ['+1 DAYS'], ['+1 Day'], ['+1days'], ['+1  days'],
  ['1 day'], ['+1\tday'], ['+1\rday'], ['+1\vday'], ['+1\fday'], ['+1\nday'], ['+01:30\r'], ['+1 fortnight'], ['+1 day '], ['+1'], ['+1 d'], ['+1 ds'], ['+1 dayss'],
  ['+.5 days'], ['.5 days'], ['+ 1 day'], ['+1e3 seconds'], ['+1e-3 seconds'], ['+1e days'],
  ['-0 days'], ['+01:30'], ['-01:30'], ['+01:30:15.5'], ['12:00'], ['+24:00'], ['+25:00'],
  ['+1:30'], ['+01:30Z'], ['+01:30+02:00'], ['+01:30 '], ['+0001-02-03'], ['-0001-02-03'],
  ['+0000-11-30'], ['+0000-12-00'], ['+0000-00-31'], ['+0001-02-03 04:05'],
  ['-0001-02-03 04:05:06.7'], ['+0001-02-03T04:05'], ['+0001-02-03 4:05'], ['+0001-02-03x'],
  ['+00001-02-03'], ['+14712-00-00'], ['+14713-00-00'], ['0001-02-03'], ['+0001-02-03 24:00'],
  ['start of month'], ['start of year'], ['start of day'], ['start of week'], ['START OF Month'],
  ['start of  day'], ['weekday 0'], ['weekday 1'], ['weekday 2'], ['weekday 3'], ['weekday 4'],
  ['weekday 5'], ['weekday 6'], ['weekday 7'], ['weekday 1.5'], ['weekday -1'], ['weekday  3'],
  ['weekday 3.0'], ['weekday 3 '], ['WEEKDAY 3'], ['weekday3'], ['unixepoch'], ['UnixEpoch'],
  ['julianday'], ['auto'], ['localtime'], ['utc'], ['subsec'], ['subsecond'], ['SUBSEC'],
  ['ceiling'], ['floor'], ['+1 month', 'floor'], ['+1 month', 'ceiling'], ['+1 year', 'floor'],
  ['floor', 'floor'], ['-0001-01-00', 'floor'], ['localtime', 'utc'], ['utc', 'localtime'],
  ['subsec', 'utc'], ['utc', 'subsec'], ['subsec', 'localtime'], ['unixepoch', 'utc'],
  ['start of month', '+1 month', '-1 day'], ['weekday 0', '-6 days'], ['+1 day', 'unixepoch'],
  ['+1 day', 'auto'], ['+1 day', 'julianday'], ['auto', 'auto'], ['unixepoch', 'subsec'],
  ['auto', 'subsec'], ['julianday', '+1 day'], [''], ['+5373485 days'], ['+5373484 days'],
  ['-5373484 days'], ['+464269000000000 seconds'], ['+464270000000000 seconds'],
  ['+7737900007423 minutes'], ['+128969998336 hours'], ['+176545 months'], ['+176546 months'],
  ['+14712 years'], ['+14713 years'], ['-10000 years', '+10000 years'], ['+8000 years', 'localtime'],
  ['-9000 years', 'start of day', 'localtime'], ['+1 day', 'start of day'], ['+12:00', '+12:00'],
];

/** Out of range on the way, or back in range at the end (SQLite's state resets on the way). */
const EXTREME_MODS: string[][] = [
  [`+${'9'.repeat(30)} days`], ['+1e308 seconds'], ['+1e999 days'], ['weekday 1e999'], ['weekday 1e-999'],
  [...Array<string>(9).fill(BIG), ...Array<string>(9).fill(MINUS_BIG)], [BIG, BIG, BIG, BIG, BIG, 'utc'],
  [BIG, BIG, 'localtime'], [BIG, 'weekday 3', MINUS_BIG], [BIG, 'start of day'],
  ['-0.5 seconds', '-3000000 days', 'localtime'], ['-0.5 seconds', '-3000000 days', 'utc'],
  ['+1 day', 'start of day', 'localtime'], ['+1 day', 'localtime', '+1 month'],
];

const FORMATS = [
  ...ALL_SPECIFIERS.map((s) => `%${s}`), EVERYTHING, '', 'plain', '%', 'x%', '%q', '%C', '%D',
  '%%Y', '%Y%', 'é%dü', '%Y-%m-%dT%H:%M:%fZ', '%é', '100%% %d',
];

function tableCases(): Case[] {
  const cases: Case[] = [];
  for (const time of TIMES) for (const mods of MODS) cases.push({ fmt: EVERYTHING, time, mods });
  for (const time of TIMES) for (const fmt of FORMATS) cases.push({ fmt, time, mods: [] });
  for (const mods of MODS) for (const fmt of FORMATS) cases.push({ fmt, time: '2023-01-31 12:34:56.789', mods });
  const some = [[], ['+1 day'], ['start of day'], ['unixepoch'], ['auto'], ['localtime'], ['subsec']];
  for (const time of EXTREME_TIMES) for (const mods of some) cases.push({ fmt: EVERYTHING, time, mods });
  for (const time of TIMES.slice(0, 20)) for (const mods of EXTREME_MODS) cases.push({ fmt: EVERYTHING, time, mods });
  cases.push(
    { fmt: null, time: '2024-01-01', mods: [] },
    { fmt: '%Y', time: null, mods: [] },
    { fmt: '%Y', time: '2024-01-01', mods: [null] },
    { fmt: '%Y', time: '2024-01-01', mods: ['+1 day', null] },
  );
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Generators: dates 1900–2100 with random fractions and zones, modifier lists from the
// supported set, formats from the specifiers; some values mutated by one character.

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const int = (min: number, max: number) => fc.integer({ min, max });
const randomCase = (s: string) =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((up) => [...s].map((ch, i) => (up[i] ? ch.toUpperCase() : ch)).join(''));
const ALPHABET = [...'0123456789+-:. TZz%aeds'];
/** Inserts, deletes or replaces one character: near-misses for the parsers. */
const mutated = (arb: fc.Arbitrary<string>) =>
  fc.tuple(arb, int(0, 40), fc.constantFrom(...ALPHABET, '\t', 'é'), int(0, 2)).map(([s, at, ch, op]) => {
    const i = at % (s.length + 1);
    return s.slice(0, i) + (op === 1 ? '' : ch) + s.slice(op === 0 ? i : i + 1);
  });

const fraction = fc.oneof(
  fc.stringMatching(/^[0-9]{1,3}$/),
  fc.stringMatching(/^[0-9]{4,9}$/),
  fc.tuple(fc.stringMatching(/^[0-9]{3}$/), fc.constantFrom('5', '50', '49999999999', '50000000001', '4999999999999999999999'))
    .map(([a, b]) => a + b),
);
const timeOfDay = fc
  .tuple(int(0, 24), int(0, 59), fc.option(int(0, 59)), fc.option(fraction))
  .map(([h, m, s, f]) => `${pad(h, 2)}:${pad(m, 2)}${s === null ? '' : `:${pad(s, 2)}${f === null ? '' : `.${f}`}`}`);
const zone = fc.oneof(
  { arbitrary: fc.constant(''), weight: 4 },
  fc.constantFrom('Z', 'z', ' Z', '+00:00', '-00:00'),
  fc.tuple(fc.constantFrom('+', '-'), int(0, 14), int(0, 59)).map(([s, h, m]) => `${s}${pad(h, 2)}:${pad(m, 2)}`),
);
const dateText = fc
  .tuple(int(1900, 2100), int(1, 12), int(1, 31), fc.option(fc.tuple(fc.constantFrom(' ', 'T'), timeOfDay, zone)))
  .map(([y, mo, d, t]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${t ? t[0] + t[1] + t[2] : ''}`);
const julianDay = fc.double({ min: 2415020.5, max: 2488069.5, noNaN: true });
const unixSeconds = fc.oneof(int(-2208988800, 4102444800), fc.double({ min: -2208988800, max: 4102444800, noNaN: true }));
const timeArb = fc.oneof(
  { arbitrary: dateText, weight: 10 },
  { arbitrary: fc.tuple(timeOfDay, zone).map(([t, z]) => t + z), weight: 2 },
  { arbitrary: julianDay, weight: 1 },
  { arbitrary: julianDay.map(String), weight: 1 },
  { arbitrary: unixSeconds, weight: 2 },
  { arbitrary: unixSeconds.map(String), weight: 1 },
  { arbitrary: mutated(dateText), weight: 2 },
);

const amount = fc.oneof(
  int(-400, 400).map(String),
  fc.double({ min: -1000, max: 1000, noNaN: true }).map((n) => String(Math.round(n * 1000) / 1000)),
  fc.constantFrom('0', '-0', '0.5', '1e2', '+1', '-1.25', '.5', '+.5', '1.', '100000'),
);
const unitModifier = fc
  .tuple(fc.constantFrom('', '+'), amount, fc.constantFrom(' ', '  '),
    fc.constantFrom('second', 'minute', 'hour', 'day', 'month', 'year'), fc.boolean())
  .chain(([sign, n, space, unit, plural]) =>
    randomCase(unit + (plural ? 's' : '')).map((u) => `${/^[+-]/.test(n) ? '' : sign}${n}${space}${u}`));
const ymdModifier = fc
  .tuple(fc.constantFrom('+', '-'), int(0, 12), int(0, 12), int(0, 31), fc.option(timeOfDay))
  .map(([s, y, m, d, t]) => `${s}${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}${t === null ? '' : ` ${t}`}`);
const namedModifier = fc
  .constantFrom('start of month', 'start of year', 'start of day', 'unixepoch', 'julianday', 'auto',
    'localtime', 'utc', 'subsec', 'subsecond', 'ceiling', 'floor')
  .chain(randomCase);
const modifierArb = fc.oneof(
  { arbitrary: unitModifier, weight: 10 },
  { arbitrary: fc.tuple(fc.constantFrom('+', '-', ''), timeOfDay).map(([s, t]) => s + t), weight: 2 },
  { arbitrary: ymdModifier, weight: 2 },
  { arbitrary: namedModifier, weight: 5 },
  { arbitrary: fc.oneof(int(0, 6).map(String), fc.constantFrom('7', '1.0', '2.5', '-1', ' 3')).map((n) => `weekday ${n}`), weight: 2 },
  { arbitrary: mutated(fc.oneof(unitModifier, ymdModifier, namedModifier)), weight: 2 },
);
const modsArb = fc.oneof(
  { arbitrary: fc.array(modifierArb, { maxLength: 4 }), weight: 4 },
  {
    arbitrary: fc.tuple(fc.constantFrom('unixepoch', 'auto', 'julianday'), fc.array(modifierArb, { maxLength: 3 }))
      .map(([m, ms]) => [m, ...ms]),
    weight: 1,
  },
);

const formatArb = fc
  .array(
    fc.oneof(
      { arbitrary: fc.constantFrom(...ALL_SPECIFIERS).map((s) => `%${s}`), weight: 20 },
      { arbitrary: fc.constantFrom('-', ':', ' ', 'T', 'x', 'é', '%%'), weight: 6 },
      { arbitrary: fc.constantFrom('%q', '%', '%C'), weight: 1 },
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''));

const caseArb: fc.Arbitrary<Case> = fc.record({ fmt: formatArb, time: timeArb, mods: modsArb });

/** Values whose printing needs SQLite's exact rounding: %f, %J and subsecond %s. */
const roundingArb: fc.Arbitrary<Case> = fc.record({
  fmt: fc.constantFrom('%f', '%J', '%s', '%S %f %J %s'),
  time: fc.oneof(
    fc.tuple(int(0, 59), fraction).map(([s, f]) => `2024-05-06 07:08:${pad(s, 2)}.${f}`),
    fc.double({ min: 0, max: 5373484.4999, noNaN: true }),
    fc.double({ min: 1e-9, max: 0.01, noNaN: true }),
    fc.double({ min: -2208988800, max: 4102444800, noNaN: true }).map(String),
    // Long decimals: SQLite keeps ~19 significant digits before rounding to a double.
    fc.tuple(int(0, 5373484), fc.stringMatching(/^[0-9]{5,25}$/)).map(([i, f]) => `${i}.${f}`),
    fc.tuple(fc.stringMatching(/^[1-9][0-9]{10,30}$/), int(-30, -10)).map(([m, e]) => `${m}e${e + m.length}`),
  ),
  mods: fc.constantFrom<string[][]>([], ['subsec'], ['auto', 'subsec'], ['+0.0015 seconds']),
});

// ---------------------------------------------------------------------------------------------

describe('basalt_strftime against SQLite strftime', () => {
  it('matches on the hand-written table', async () => {
    const cases = tableCases();
    expect(cases.length).toBeGreaterThan(25_000);
    await expectSame(cases, 'table');
  });

  it('matches on a generated corpus', async () => {
    await expectSame(fc.sample(caseArb, { numRuns: RUNS, seed: SEED }), `corpus, seed ${SEED}`);
  });

  it('rounds fractional seconds and julian days like SQLite', async () => {
    await expectSame(fc.sample(roundingArb, { numRuns: RUNS / 4, seed: SEED }), `rounding, seed ${SEED}`);
  });
});

describe('basalt_sqlite_atof against SQLite text-to-REAL conversion', () => {
  it('gives the same double, digits beyond the 19th included', async () => {
    const numbers = fc.sample(
      fc.tuple(fc.constantFrom('', '+', '-', ' '), fc.stringMatching(/^[0-9]{1,40}$/),
        fc.option(fc.stringMatching(/^[0-9]{0,30}$/)), fc.option(int(-400, 400)), fc.constantFrom('', ' ', '\t'))
        .map(([sign, i, f, e, tail]) => `${sign}${i}${f === null ? '' : `.${f}`}${e === null ? '' : `e${e}`}${tail}`),
      { numRuns: RUNS / 4, seed: SEED },
    );
    const { rows } = await client.query<{ r: string }>(
      'SELECT basalt_sqlite_atof(s)::text AS r FROM unnest($1::text[]) WITH ORDINALITY AS u(s, i) ORDER BY i',
      [numbers],
    );
    const asReal = sqlite.prepare('SELECT CAST(? AS REAL)').pluck();
    const bad = numbers.flatMap((n, i) => {
      const want = asReal.get(n) as number;
      const got = Number(rows[i].r);
      return Object.is(got, want) || (got === 0 && want === 0) ? [] : [{ n, sqlite: want, postgres: rows[i].r }];
    });
    expect(bad.slice(0, 8), `${bad.length} of ${numbers.length} differ`).toEqual([]);
  });
});

describe('basalt_strftime outside the differential corpus', () => {
  it("reads 'now' (any case) as the statement's start, to the millisecond", async () => {
    const { rows } = await client.query<Record<string, string>>(`
      SELECT basalt_strftime('%Y-%m-%d %H:%M:%f', 'now') AS a,
             basalt_strftime('%Y-%m-%d %H:%M:%f', 'NOW') AS b,
             basalt_strftime('%s', 'now')::bigint - floor(extract(epoch FROM statement_timestamp()))::bigint AS drift,
             basalt_strftime('%s', 'now', ARRAY['subsec']) AS subsec,
             basalt_strftime('%s', 'subsec') AS subsec_time,
             basalt_strftime('%H:%M:%S', 'now', ARRAY['start of day']) AS midnight,
             basalt_strftime('%Y', 'now', ARRAY['+1 year'])::int - basalt_strftime('%Y', 'now')::int AS next_year,
             basalt_strftime('%Y', 'now', ARRAY['unixepoch']) AS not_raw`);
    const r = rows[0];
    expect(r.a).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
    expect(r.b).toBe(r.a);
    expect(Number(r.drift)).toBe(0);
    expect(r.subsec).toMatch(/^\d{10}\.\d{3}$/);
    expect(r.subsec_time).toMatch(/^\d{10}\.\d{3}$/);
    expect(r.midnight).toBe('00:00:00');
    expect(Number(r.next_year)).toBe(1);
    expect(r.not_raw).toBeNull();
  });

  it('is NULL, never an error, for NULL and NaN arguments', async () => {
    const { rows } = await client.query(`
      SELECT basalt_strftime(NULL, '2024-01-01') AS a, basalt_strftime('%Y', NULL::text) AS b,
             basalt_strftime('%Y', '2024-01-01', NULL) AS c, basalt_strftime('%Y', NULL::float8) AS d,
             basalt_strftime('%Y', 'NaN'::float8) AS e, basalt_strftime('%Y', '2024-01-01') AS f,
             basalt_strftime('%Y', '2024-01-01', '{{"+1 year"},{"+1 day"}}') AS g`);
    expect(rows[0]).toEqual({ a: null, b: null, c: null, d: null, e: null, f: '2024', g: '2025' });
  });

  it('is STABLE (IMMUTABLE for numbers), PARALLEL SAFE, and runs in a parallel worker', async () => {
    const { rows } = await client.query(`
      SELECT p.provolatile AS v, p.proparallel AS par, pg_get_function_arguments(p.oid) AS args
        FROM pg_proc p WHERE p.proname = 'basalt_strftime' AND p.pronamespace = '"${SCHEMA}"'::regnamespace
       ORDER BY args`);
    expect(rows).toEqual([
      { v: 'i', par: 's', args: "fmt text, t double precision, mods text[] DEFAULT '{}'::text[]" },
      { v: 's', par: 's', args: "fmt text, t text, mods text[] DEFAULT '{}'::text[]" },
    ]);
    await client.query('BEGIN');
    try {
      // force_parallel_mode became debug_parallel_query in PostgreSQL 16.
      await client.query(`SELECT set_config(name, 'on', true) FROM pg_settings
                           WHERE name IN ('force_parallel_mode', 'debug_parallel_query')`);
      const { rows: counted } = await client.query(`
        SELECT count(*)::int AS n FROM generate_series(1, 2000) g
         WHERE basalt_strftime('%Y', '2024-01-31', ARRAY['+' || g || ' days', 'start of month']) = '2025'`);
      expect(counted[0].n).toBe(365);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('replaces a basalt_dt of another shape, and installs through a pool', async () => {
    const schema = `${SCHEMA}_old`;
    await client.query(`CREATE SCHEMA ${schema}; CREATE TYPE ${schema}.basalt_dt AS (ijd bigint);
      CREATE FUNCTION ${schema}.basalt_dt_zero() RETURNS ${schema}.basalt_dt
        LANGUAGE sql AS 'SELECT ROW(0)::${schema}.basalt_dt'`);
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 2 });
    try {
      await installPostgresFunctions(pool);
      await installPostgresFunctions(pool);
      const { rows } = await pool.query(`SELECT basalt_strftime('%F', '2024-01-31', ARRAY['+1 month']) AS r`);
      expect(rows[0].r).toBe('2024-03-02');
    } finally {
      await pool.end();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
});
