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

export async function canReceive(ctx: QueryContext, record: RecordModel, rule: ParsedRule, filter: string, caller: Caller): Promise<boolean> {
  const collection = record.collection;
  if (!caller.isSuperuser && rule.kind === 'locked') return false;
  // Multi-valued paths read their values from the base table by id: a CTE stands in for it.
  const predicate = and([rulePredicate(ctx, collection, rule, caller, ROOT, EVENT_ROW), filter ? filterPredicate(ctx, collection, filter, caller, EVENT_ROW) : null]);
  if (!predicate) return true;
  const rows = await ctx.db.rows(
    sql`WITH ${sql.id(EVENT_ROW)} AS (${recordAsRow(ctx, record)}) SELECT 1 AS ${sql.id('ok')} FROM ${sql.id(EVENT_ROW)} AS ${sql.id(ROOT)} WHERE ${predicate} LIMIT 1`,
  );
  return rows.length > 0;
}
