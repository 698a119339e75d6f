/**
 * Whether a subscriber may receive an event's record (spec §1.6): the collection's list rule
 * (`coll/*`, bare `coll`) or view rule (`coll/<id>`), with `@request.context = "realtime"`, and
 * the subscription's own `filter`. The check runs against the event's values rather than the
 * table, so a delete is judged on the record as it was, and an update on what was committed
 * even if a later write has changed it since.
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../collections/collection-model.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import type { Caller } from '../records/caller.js';
import { codecOf } from '../records/record-codec.js';
import { and, filterPredicate, ROOT, rulePredicate, type QueryContext } from '../records/record-query.js';
import type { RecordModel } from '../records/record.js';
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
  /** The subscription's own filter; empty for none. */
  filter: string;
  caller: Caller;
}

/** Checks per statement: one round trip answers this many subscriber groups. */
const CHECKS_PER_STATEMENT = 100;

/**
 * Which of `checks` let their subscriber receive `record`, in order. The checks that need SQL
 * are answered together, `CHECKS_PER_STATEMENT` per statement (`SELECT i WHERE EXISTS (…)
 * UNION ALL …` over one CTE of the record), so 5,000 signed-in subscribers with a per-user rule
 * cost 50 round trips, not 5,000. A check whose filter does not compile matches nothing.
 */
export async function canReceiveAll(ctx: QueryContext, record: RecordModel, checks: readonly AccessCheck[]): Promise<boolean[]> {
  const collection = record.collection;
  const allowed = checks.map(() => false);
  const pending: { index: number; predicate: Sql }[] = [];
  checks.forEach(({ rule, filter, caller }, index) => {
    if (!caller.isSuperuser && rule.kind === 'locked') return;
    let predicate: Sql | null;
    try {
      // Multi-valued paths read their values from the base table by id: the CTE stands in for it.
      predicate = and([rulePredicate(ctx, collection, rule, caller, ROOT, EVENT_ROW), filter ? filterPredicate(ctx, collection, filter, caller, EVENT_ROW) : null]);
    } catch {
      return;
    }
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
  for (let i = 0; i < pending.length; i += CHECKS_PER_STATEMENT) {
    const chunk = pending.slice(i, i + CHECKS_PER_STATEMENT);
    try {
      await run(chunk);
    } catch {
      // One check the database refuses (a filter comparing what the engine cannot) must not
      // silence its neighbours: check them one by one; the refused one matches nothing.
      for (const check of chunk) await run([check]).catch(() => {});
    }
  }
  return allowed;
}
