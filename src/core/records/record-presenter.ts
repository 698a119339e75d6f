/**
 * Turns loaded records into response JSON for a caller: expansion, e-mail visibility (owner,
 * superuser, or a satisfied manageRule), hidden fields.
 */
import { sql } from 'kysely';
import type { Caller } from './caller.js';
import type { ClientQuery } from './client-query.js';
import { expandRecords } from './expand.js';
import { assertPlacements } from './expand-placements.js';
import { exportRecord, type ExpandMap } from './record-export.js';
import { and, ROOT, rulePredicate, type QueryContext } from './record-query.js';
import type { RecordModel } from '../model/record-model.js';

function collectAll(records: RecordModel[], expand: ExpandMap, out = new Set<RecordModel>()): Set<RecordModel> {
  for (const r of records) {
    if (out.has(r)) continue;
    out.add(r);
    const e = expand.get(r);
    if (e) for (const v of Object.values(e)) collectAll(Array.isArray(v) ? v : [v], expand, out);
  }
  return out;
}

/** Ids of auth records whose hidden e-mail the caller may see through the manageRule. */
async function managedIds(ctx: QueryContext, records: Iterable<RecordModel>, caller: Caller): Promise<Set<string>> {
  const ids = new Set<string>();
  if (caller.can.seesHidden || !caller.auth) return ids;
  const byCollection = new Map<string, RecordModel[]>();
  for (const r of records) {
    if (!r.collection.isAuth || r.values.emailVisibility === true || r.collection.rules.manage.kind === 'locked') continue;
    if (r.values.id === caller.auth.values.id && r.collection.id === caller.auth.collection.id) continue;
    const list = byCollection.get(r.collection.id) ?? [];
    list.push(r);
    byCollection.set(r.collection.id, list);
  }
  for (const list of byCollection.values()) {
    const collection = list[0].collection;
    const d = ctx.db.filter;
    const where = and([
      sql`${sql.ref(`${ROOT}.id`)} IN (${sql.join(list.map((r) => d.param(String(r.values.id), 'text')))})`,
      rulePredicate(ctx, collection, collection.rules.manage, caller),
    ]);
    const rows = await ctx.db.rows<{ id: string }>(sql`SELECT ${sql.ref(`${ROOT}.id`)} AS ${sql.id('id')} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${where!}`);
    for (const row of rows) ids.add(row.id);
  }
  return ids;
}

const NO_EXPAND: ExpandMap = new Map();

/** Records as `caller` sees them, expanded as the (checked) client query asks. */
export async function presentRecords(ctx: QueryContext, records: RecordModel[], caller: Caller, query: ClientQuery): Promise<Record<string, unknown>[]> {
  const expand: ExpandMap = query.expand ? await expandRecords(ctx, records, query.expand, caller) : NO_EXPAND;
  // Before anything is written out: shared records would be written once per placement.
  if (expand.size > 0) assertPlacements(records, expand);
  const all = expand.size > 0 ? collectAll(records, expand) : records;
  let needsManaged = false;
  for (const r of all) if (r.collection.isAuth) needsManaged = true;
  const managed = needsManaged ? await managedIds(ctx, all, caller) : undefined;
  const opts = {
    seesHidden: caller.can.seesHidden,
    authId: caller.auth ? String(caller.auth.values.id) : undefined,
    authCollectionId: caller.auth?.collection.id,
    managedIds: managed,
    expand,
  };
  const out = records.map((r) => exportRecord(r, opts));
  if (ctx.enrich) await ctx.enrich(out, caller);
  return out;
}
