/**
 * Whether a subscriber may receive an event's record (spec §1.6): the collection's list rule
 * (`coll/*`, bare `coll`) or view rule (`coll/<id>`), with `@request.context = "realtime"`, and
 * the subscription's own `filter`. The check runs against the event's values rather than the
 * table, so a delete is judged on the record as it was, and an update on what was committed
 * even if a later write has changed it since.
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import type { Caller } from '../records/caller.js';
import type { ClientQuery } from '../records/client-query.js';
import { codecOf } from '../records/record-codec.js';
import { and, filterPredicate, ROOT, rulePredicate, type QueryContext } from '../records/record-query.js';
import type { RecordModel } from '../model/record-model.js';
import type { ParsedRule } from '../rules/parsed-rule.js';
import type { Sql } from '../rules/filter-dialect.js';

const EVENT_ROW = '__event';

/** `SELECT <values> AS <columns>`: the record as a one-row table, typed like the real one. */
function recordAsRow(ctx: QueryContext, record: RecordModel) {
  const collection: CollectionModel = record.collection;
  const row = codecOf(collection).encode(record.values);
  const d = ctx.db.filter;
  return sql`SELECT ${sql.join(
    collection.fields.map((f) => {
      const raw = row[f.name];
      const value = raw === undefined ? null : (raw as string | number | boolean | null);
      return sql`${d.columnValue(value, fieldTypeOf(f.type).column(f).kind)} AS ${sql.id(f.name)}`;
    }),
  )}`;
}

export interface AccessCheck {
  rule: ParsedRule;
  /** The subscription's options, checked by the client-query gate for `caller`. */
  query: ClientQuery;
  caller: Caller;
  /**
   * Identifies everything the compiled check depends on (rule, caller, options), when it may be
   * reused for later events of the same collection version; absent: compiled every time.
   */
  cacheKey?: string;
}

/** A check whose rule or filter does not compile: it matches nothing. */
const REFUSED = Symbol('refused');
/** Time macros are rendered as values at compile time: such checks cannot be reused. */
const TIME_MACRO = /@(now|yesterday|tomorrow|second|minute|hour|day|month|weekday|year|todayStart|todayEnd|monthStart|monthEnd|yearStart|yearEnd)\b/;
const MAX_CACHED = 50_000;

/**
 * Compiled checks of realtime subscriber groups, kept per collection version: compiling a rule
 * costs tens of microseconds, so 5,000 signed-in subscribers would otherwise spend most of an
 * event's fan-out recompiling the same predicates. A collection change makes a new model (and a
 * fresh map); a refreshed auth record is a new object, so callers key on its identity.
 */
export class CheckCache {
  private byCollection = new WeakMap<CollectionModel, Map<string, Sql | null | typeof REFUSED>>();
  private size = 0;

  predicate(ctx: QueryContext, collection: CollectionModel, check: AccessCheck): Sql | null | typeof REFUSED {
    const cacheable = check.cacheKey !== undefined && !TIME_MACRO.test(check.query.filterText) && !(check.rule.kind === 'filter' && TIME_MACRO.test(check.rule.source));
    let map = this.byCollection.get(collection);
    if (cacheable && map?.has(check.cacheKey!)) return map.get(check.cacheKey!)!;
    const predicate = compileCheck(ctx, collection, check);
    if (cacheable) {
      if (this.size >= MAX_CACHED) {
        this.byCollection = new WeakMap();
        this.size = 0;
      }
      if (!map) this.byCollection.set(collection, (map = new Map()));
      map.set(check.cacheKey!, predicate);
      this.size++;
    }
    return predicate;
  }
}

function compileCheck(ctx: QueryContext, collection: CollectionModel, { rule, query, caller }: AccessCheck): Sql | null | typeof REFUSED {
  if (!caller.can.bypassesRules && rule.kind === 'locked') return REFUSED;
  try {
    // Multi-valued paths read their values from the base table by id: the CTE stands in for it.
    // The filter compiles exactly as a list's would for this caller (hidden fields, budget…).
    return and([rulePredicate(ctx, collection, rule, caller, ROOT, EVENT_ROW), filterPredicate(ctx, collection, query, caller, EVENT_ROW)]);
  } catch {
    return REFUSED;
  }
}

/** Checks per statement: one round trip answers this many subscriber groups. */
const CHECKS_PER_STATEMENT = 100;
/** Statements in flight at once (fewer than a connection pool holds, so requests still get one). */
const CONCURRENT_STATEMENTS = 3;

/**
 * Which of `checks` let their subscriber receive `record`, in order. The checks that need SQL
 * are answered together, `CHECKS_PER_STATEMENT` per statement (`SELECT i WHERE EXISTS (…)
 * UNION ALL …` over one CTE of the record), so 5,000 signed-in subscribers with a per-user rule
 * cost 50 round trips, not 5,000. A check whose filter does not compile matches nothing.
 */
export async function canReceiveAll(ctx: QueryContext, record: RecordModel, checks: readonly AccessCheck[], cache = new CheckCache()): Promise<boolean[]> {
  const collection = record.collection;
  const allowed = checks.map(() => false);
  const pending: { index: number; predicate: Sql }[] = [];
  checks.forEach((check, index) => {
    const predicate = cache.predicate(ctx, collection, check);
    if (predicate === REFUSED) return;
    if (predicate) pending.push({ index, predicate });
    else allowed[index] = true;
  });
  const run = async (chunk: typeof pending) => {
    const arms = chunk.map(
      ({ index, predicate }) => sql`SELECT ${sql.lit(index)} AS ${sql.id('i')} WHERE EXISTS (SELECT 1 FROM ${sql.id(EVENT_ROW)} AS ${sql.id(ROOT)} WHERE ${predicate})`,
    );
    const rows = await ctx.db.rows<{ i: number | string }>(sql`WITH ${sql.id(EVENT_ROW)} AS (${recordAsRow(ctx, record)}) ${sql.join(arms, sql` UNION ALL `)}`);
    for (const row of rows) allowed[Number(row.i)] = true;
  };
  const chunks: (typeof pending)[] = [];
  for (let i = 0; i < pending.length; i += CHECKS_PER_STATEMENT) chunks.push(pending.slice(i, i + CHECKS_PER_STATEMENT));
  const runChunk = async (chunk: typeof pending) => {
    try {
      await run(chunk);
    } catch (err) {
      // Past the query deadline, one by one would cost up to a deadline per check: the chunk's
      // subscribers miss this event instead (logged by the caller's database layer).
      if (ctx.db.classifyError(err)?.kind === 'timeout') return;
      // One check the database refuses (a filter comparing what the engine cannot) must not
      // silence its neighbours: check them one by one; the refused one matches nothing.
      for (const check of chunk) await run([check]).catch(() => {});
    }
  };
  // A few statements at a time: PostgreSQL plans and runs them on several pool connections.
  for (let i = 0; i < chunks.length; i += CONCURRENT_STATEMENTS) await Promise.all(chunks.slice(i, i + CONCURRENT_STATEMENTS).map(runChunk));
  return allowed;
}
