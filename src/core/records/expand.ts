/**
 * Relation expansion (spec §2.3): `expand=author,tags.owner,comments_via_post` up to 6 levels.
 * Every expanded record must pass its own collection's view rule (context `expand`); what
 * cannot be expanded is silently left out. One query per expand path and level, whatever the
 * number of parent records.
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { findSingleColumnUniqueIndex } from '../collections/index-definition.js';
import { badRequest, fieldError, MESSAGES } from '../errors.js';
import { canExpandInto, withContext, type Caller } from './caller.js';
import { codecOf } from './record-codec.js';
import { MAX_EXPAND_PLACEMENTS, tooManyPlacements } from './expand-placements.js';
import type { ExpandMap } from './record-export.js';
import { and, ROOT, rulePredicate, type QueryContext } from './record-query.js';
import type { RecordModel } from '../model/record-model.js';

export const MAX_EXPAND_DEPTH = 6;
const MAX_EXPAND_PATHS = 100;
const BACK_RELATION_LIMIT = 1000;
const VIA = /^(\w+)_via_(\w+)$/;

export type ExpandTree = Map<string, ExpandTree>;

/** `a,b.c` → {a: {}, b: {c: {}}}; deeper than 6 levels or malformed → 400. */
export function parseExpand(raw: string | undefined): ExpandTree | null {
  if (!raw || raw.trim() === '') return null;
  const tree: ExpandTree = new Map();
  const paths = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (paths.length > MAX_EXPAND_PATHS || raw.length > 2000) {
    throw badRequest(MESSAGES.invalidExpand, { expand: fieldError('validation_expand_too_long', 'Too many expand paths.') });
  }
  for (const path of paths) {
    // Levels past the sixth are ignored (spec §2.3: "expands up to 6 levels").
    const parts = path.split('.').slice(0, MAX_EXPAND_DEPTH);
    if (path.split('.').some((p) => !/^\w+$/.test(p))) {
      throw badRequest(MESSAGES.invalidExpand, {
        expand: fieldError('validation_invalid_expand', `"${path}" is not a valid expand path (field names joined by ".").`),
      });
    }
    let node = tree;
    for (const p of parts) {
      let child = node.get(p);
      if (!child) node.set(p, (child = new Map()));
      node = child;
    }
  }
  return tree;
}

/** Ids per query: keeps the parameter count far below every engine's limit. */
const ID_CHUNK = 500;

function chunks<T>(items: T[], size = ID_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function idList(d: QueryContext['db']['filter'], ids: string[]) {
  return sql.join(ids.map((id) => d.param(id, 'text')));
}

/** The records of `target` with the given ids that the caller may view. */
async function fetchByIds(ctx: QueryContext, target: CollectionModel, ids: string[], caller: Caller): Promise<RecordModel[]> {
  const rule = target.rules.view;
  if ((!caller.can.bypassesRules && rule.kind === 'locked') || !canExpandInto(caller, target)) return [];
  const codec = codecOf(target);
  const predicate = rulePredicate(ctx, target, rule, caller);
  const found: RecordModel[] = [];
  for (const part of chunks(ids)) {
    const where = and([sql`${sql.ref(`${ROOT}.id`)} IN (${idList(ctx.db.filter, part)})`, predicate]);
    const rows = await ctx.db.rows<Record<string, unknown>>(sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(target.table)} AS ${sql.id(ROOT)} WHERE ${where!}`);
    for (const r of rows) found.push(codec.decode(r));
  }
  return found;
}

/**
 * The records of `source` whose relation `field` points at each parent id, at most
 * BACK_RELATION_LIMIT per parent (cut in SQL with a window, as PocketBase's per-parent LIMIT),
 * that the caller may view. Returns them grouped by parent id.
 */
async function fetchBackRelated(ctx: QueryContext, source: CollectionModel, field: string, multiple: boolean, parentIds: string[], caller: Caller): Promise<Map<string, RecordModel[]>> {
  const byParent = new Map<string, RecordModel[]>();
  const rule = source.rules.view;
  if ((!caller.can.bypassesRules && rule.kind === 'locked') || !canExpandInto(caller, source)) return byParent;
  const d = ctx.db.filter;
  const codec = codecOf(source);
  const predicate = rulePredicate(ctx, source, rule, caller);
  const column = sql.ref(`${ROOT}.${field}`);
  const order = source.isView ? sql.ref(`${ROOT}.id`) : d.rowid(ROOT);
  for (const part of chunks(parentIds)) {
    const parent = multiple ? sql.ref('__je.value') : column;
    const from = multiple
      ? sql`${sql.id(source.table)} AS ${sql.id(ROOT)} JOIN ${d.jsonEach(column, '__je', true)} ON TRUE`
      : sql`${sql.id(source.table)} AS ${sql.id(ROOT)}`;
    const where = and([sql`${parent} IN (${idList(d, part)})`, predicate]);
    const rows = await ctx.db.rows<Record<string, unknown>>(sql`SELECT * FROM (
      SELECT ${codec.columns(ROOT)}, ${parent} AS ${sql.id('__parent')}, ROW_NUMBER() OVER (PARTITION BY ${parent} ORDER BY ${order}) AS ${sql.id('__rn')}
      FROM ${from} WHERE ${where!}) AS ${sql.id('__w')} WHERE ${sql.ref('__w.__rn')} <= ${BACK_RELATION_LIMIT}`);
    for (const r of rows) {
      const key = String(r.__parent);
      let list = byParent.get(key);
      if (!list) byParent.set(key, (list = []));
      list.push(codec.decode(r));
    }
  }
  return byParent;
}

/**
 * The records attached so far. Every record attached is placed at least once in the response
 * (its parent is), so past MAX_EXPAND_PLACEMENTS the expansion stops before the next query.
 */
interface Attached {
  count: number;
}

function attach(map: ExpandMap, record: RecordModel, key: string, value: RecordModel | RecordModel[], attached: Attached): void {
  let entry = map.get(record);
  if (!entry) map.set(record, (entry = {}));
  entry[key] = value;
  attached.count += Array.isArray(value) ? value.length : 1;
  if (attached.count > MAX_EXPAND_PLACEMENTS) tooManyPlacements();
}

/**
 * Expands `records` (all of one collection) along `tree`, filling `map`. The placements the
 * result writes out can still be far more than the records attached: the caller checks them
 * with assertPlacements before exporting.
 */
export async function expandRecords(ctx: QueryContext, records: RecordModel[], tree: ExpandTree, callerIn: Caller, map: ExpandMap = new Map(), depth = 1, attached: Attached = { count: 0 }): Promise<ExpandMap> {
  if (records.length === 0 || depth > MAX_EXPAND_DEPTH) return map;
  const caller = withContext(callerIn, 'expand');
  const collection = records[0].collection;
  for (const [name, subtree] of tree) {
    const field = collection.field(name);
    let children: RecordModel[] = [];
    // Hidden relations are for superusers only, in expand as in filters.
    if (field?.hidden && !callerIn.can.seesHidden) continue;
    if (field?.type === 'relation') {
      const target = ctx.schema.find(String(field.collectionId));
      if (!target) continue;
      const multiple = collection.isMultiple(field);
      const ids = [...new Set(records.flatMap((r) => (multiple ? (r.values[field.name] as string[]) : [r.values[field.name] as string]).filter(Boolean)))];
      if (ids.length === 0) continue;
      const found = await fetchByIds(ctx, target, ids, caller);
      const byId = new Map(found.map((r) => [String(r.values.id), r]));
      for (const r of records) {
        if (multiple) {
          const list = (r.values[field.name] as string[]).map((id) => byId.get(id)).filter((x): x is RecordModel => x !== undefined);
          if (list.length > 0) attach(map, r, field.name, list, attached);
        } else {
          const one = byId.get(r.values[field.name] as string);
          if (one) attach(map, r, field.name, one, attached);
        }
      }
      children = found;
    } else {
      const via = VIA.exec(name);
      if (!via) continue;
      const source = ctx.schema.find(via[1]);
      const backField = source?.field(via[2]);
      if (!source || !backField || backField.type !== 'relation' || backField.collectionId !== collection.id) continue;
      if (backField.hidden && !callerIn.can.seesHidden) continue;
      const multiple = source.isMultiple(backField);
      const byParent = await fetchBackRelated(ctx, source, backField.name, multiple, [...new Set(records.map((r) => String(r.values.id)))], caller);
      const single = !multiple && findSingleColumnUniqueIndex([...source.indexes], backField.name) !== undefined;
      // A record related to several parents is one object, so its own expansion is shared.
      const shared = new Map<string, RecordModel>();
      for (const list of byParent.values()) {
        for (let i = 0; i < list.length; i++) {
          const id = String(list[i].values.id);
          list[i] = shared.get(id) ?? (shared.set(id, list[i]), list[i]);
        }
      }
      for (const r of records) {
        const refs = byParent.get(String(r.values.id));
        if (!refs || refs.length === 0) continue;
        attach(map, r, name, single ? refs[0] : refs, attached);
      }
      children = [...shared.values()];
    }
    if (subtree.size > 0 && children.length > 0) await expandRecords(ctx, children, subtree, callerIn, map, depth + 1, attached);
  }
  return map;
}
