/**
 * Relation expansion (spec §2.3): `expand=author,tags.owner,comments_via_post` up to 6 levels.
 * Every expanded record must pass its own collection's view rule (context `expand`); what
 * cannot be expanded is silently left out. One query per expand path and level, whatever the
 * number of parent records.
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../collections/collection-model.js';
import { findSingleColumnUniqueIndex } from '../collections/index-definition.js';
import { badRequest, fieldError } from '../errors.js';
import { withContext, type Caller } from './caller.js';
import { codecOf } from './record-codec.js';
import type { ExpandMap } from './record-export.js';
import { and, ROOT, rulePredicate, type QueryContext } from './record-query.js';
import type { RecordModel } from './record.js';

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
    throw badRequest('Invalid "expand" parameter.', { expand: fieldError('validation_expand_too_long', 'Too many expand paths.') });
  }
  for (const path of paths) {
    // Levels past the sixth are ignored (spec §2.3: "expands up to 6 levels").
    const parts = path.split('.').slice(0, MAX_EXPAND_DEPTH);
    if (path.split('.').some((p) => !/^\w+$/.test(p))) {
      throw badRequest('Invalid "expand" parameter.', {
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

async function fetchVisible(ctx: QueryContext, target: CollectionModel, condition: ReturnType<typeof sql>, caller: Caller): Promise<RecordModel[]> {
  const rule = target.rules.view;
  if (!caller.isSuperuser && rule.kind === 'locked') return [];
  const where = and([condition, rulePredicate(ctx, target, rule, caller)]);
  const codec = codecOf(target);
  const rows = await ctx.db.rows<Record<string, unknown>>(
    sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(target.table)} AS ${sql.id(ROOT)} WHERE ${where ?? sql`1=1`}`,
  );
  return rows.map((r) => codec.decode(r));
}

function idList(d: QueryContext['db']['filter'], ids: string[]) {
  return sql.join(ids.map((id) => d.param(id, 'text')));
}

function attach(map: ExpandMap, record: RecordModel, key: string, value: RecordModel | RecordModel[]): void {
  let entry = map.get(record);
  if (!entry) map.set(record, (entry = {}));
  entry[key] = value;
}

/** Expands `records` (all of one collection) along `tree`, filling `map`. */
export async function expandRecords(ctx: QueryContext, records: RecordModel[], tree: ExpandTree, callerIn: Caller, map: ExpandMap = new Map(), depth = 1): Promise<ExpandMap> {
  if (records.length === 0 || depth > MAX_EXPAND_DEPTH) return map;
  const caller = withContext(callerIn, 'expand');
  const collection = records[0].collection;
  const d = ctx.db.filter;
  for (const [name, subtree] of tree) {
    const field = collection.field(name);
    let children: RecordModel[] = [];
    // Hidden relations are for superusers only, in expand as in filters.
    if (field?.hidden && !callerIn.isSuperuser) continue;
    if (field?.type === 'relation') {
      const target = ctx.schema.find(String(field.collectionId));
      if (!target) continue;
      const multiple = collection.isMultiple(field);
      const ids = [...new Set(records.flatMap((r) => (multiple ? (r.values[field.name] as string[]) : [r.values[field.name] as string]).filter(Boolean)))];
      if (ids.length === 0) continue;
      const found = await fetchVisible(ctx, target, sql`${sql.ref(`${ROOT}.id`)} IN (${idList(d, ids)})`, caller);
      const byId = new Map(found.map((r) => [String(r.values.id), r]));
      for (const r of records) {
        if (multiple) {
          const list = (r.values[field.name] as string[]).map((id) => byId.get(id)).filter((x): x is RecordModel => x !== undefined);
          if (list.length > 0) attach(map, r, field.name, list);
        } else {
          const one = byId.get(r.values[field.name] as string);
          if (one) attach(map, r, field.name, one);
        }
      }
      children = found;
    } else {
      const via = VIA.exec(name);
      if (!via) continue;
      const source = ctx.schema.find(via[1]);
      const backField = source?.field(via[2]);
      if (!source || !backField || backField.type !== 'relation' || backField.collectionId !== collection.id) continue;
      if (backField.hidden && !callerIn.isSuperuser) continue;
      const ids = records.map((r) => String(r.values.id));
      const multiple = source.isMultiple(backField);
      const column = sql.ref(`${ROOT}.${backField.name}`);
      const condition = multiple
        ? sql`EXISTS (SELECT 1 FROM ${d.jsonEach(column, '__je', true)} WHERE ${sql.ref('__je.value')} IN (${idList(d, ids)}))`
        : sql`${column} IN (${idList(d, ids)})`;
      const found = await fetchVisible(ctx, source, condition, caller);
      const single = !multiple && findSingleColumnUniqueIndex([...source.indexes], backField.name) !== undefined;
      for (const r of records) {
        const id = String(r.values.id);
        const refs = found.filter((c) => (multiple ? (c.values[backField.name] as string[]).includes(id) : c.values[backField.name] === id)).slice(0, BACK_RELATION_LIMIT);
        if (refs.length === 0) continue;
        attach(map, r, name, single ? refs[0] : refs);
      }
      children = found;
    }
    if (subtree.size > 0 && children.length > 0) await expandRecords(ctx, children, subtree, callerIn, map, depth + 1);
  }
  return map;
}
