/**
 * Applies a collection change to the database schema, inside the caller's transaction:
 * create, rename, drop and retype columns without losing the data of fields that stay, and
 * rebuild indexes and views around the change.
 */
import { sql } from 'kysely';
import type { ColumnDefinition, Database } from '../ports.js';
import { INVALID } from './fields/field-type.js';
import { fieldTypeOf } from './fields/index.js';
import { parseIndex } from './index-definition.js';
import { dropStaleRelationIndexes, ensureRelationIndexes } from './relation-indexes.js';
import { dropStaleSearchIndexes, ensureSearchIndexes } from './search-indexes.js';
import type { Collection, Field } from '../model/collection-types.js';

export function columnOf(field: Field): ColumnDefinition {
  const spec = fieldTypeOf(field.type).column(field);
  return { name: field.name, ...spec };
}

function sameStorage(a: Field, b: Field): boolean {
  const ca = columnOf(a);
  const cb = columnOf(b);
  return ca.kind === cb.kind && ca.nullable === cb.nullable && a.type === b.type && fieldTypeOf(a.type).isMultiple(a) === fieldTypeOf(b.type).isMultiple(b);
}

async function createIndexes(db: Database, c: Collection): Promise<void> {
  for (const sqlText of c.indexes) await db.schema.createIndex({ ...parseIndex(sqlText), table: c.name, rowOrder: true });
}

async function dropIndexes(db: Database, c: Collection): Promise<void> {
  for (const sqlText of c.indexes) await db.schema.dropIndex(parseIndex(sqlText).name);
}

/** Converts stored values of `from` into values of `to` (a retype), row by row in id order. */
async function convertColumn(db: Database, table: string, source: string, target: string, from: Field, to: Field): Promise<void> {
  const fromType = fieldTypeOf(from.type);
  const toType = fieldTypeOf(to.type);
  let lastId = '';
  for (;;) {
    const rows = await db.rows<{ id: string; v: unknown }>(
      sql`SELECT ${sql.id('id')} AS ${sql.id('id')}, ${sql.id(source)} AS ${sql.id('v')} FROM ${sql.id(table)} WHERE ${sql.id('id')} > ${lastId} ORDER BY ${sql.id('id')} LIMIT 500`,
    );
    if (rows.length === 0) return;
    for (const row of rows) {
      let value = fromType.fromDb(from, row.v);
      let converted = toType.prepare(to, value);
      // An object or list has no text form of its own: keep its JSON instead of losing it.
      if (converted === INVALID && value !== null && typeof value === 'object') converted = toType.prepare(to, JSON.stringify(value));
      if (converted === INVALID) converted = toType.zero(to);
      value = toType.toDb(to, converted);
      await db.kysely.updateTable(table).set({ [target]: value }).where('id', '=', row.id).execute();
    }
    lastId = rows[rows.length - 1].id;
  }
}

async function createTable(db: Database, c: Collection): Promise<void> {
  const columns = c.fields.map(columnOf);
  columns.sort((a, b) => Number(Boolean(b.primaryKey)) - Number(Boolean(a.primaryKey)));
  await db.schema.createTable(c.name, columns);
  await createIndexes(db, c);
  await ensureRelationIndexes(db, [c]);
  await ensureSearchIndexes(db, [c]);
  await db.schema.ensureRowOrderIndex(c.name, c.id);
  await db.schema.ensureChangeCounter(c.name, c.id);
}

async function updateTable(db: Database, prev: Collection, next: Collection): Promise<void> {
  await dropIndexes(db, prev);
  // Relation indexes stay unless their field goes (one over a large table is not rebuilt for a rule change).
  await dropStaleRelationIndexes(db, prev, next);
  await dropStaleSearchIndexes(db, prev, next);
  if (prev.name !== next.name) await db.schema.renameTable(prev.name, next.name);
  const table = next.name;
  const kept = next.fields.filter((f) => prev.fields.some((p) => p.id === f.id));
  const removed = prev.fields.filter((p) => !next.fields.some((f) => f.id === p.id));
  const added = next.fields.filter((f) => !prev.fields.some((p) => p.id === f.id));

  for (const f of removed) await db.schema.dropColumn(table, f.name);
  // Renames and retypes go through temporary names so that swaps (a↔b) cannot collide.
  const moved: { field: Field; temp: string }[] = [];
  for (const f of kept) {
    const old = prev.fields.find((p) => p.id === f.id)!;
    const temp = `__tmp_${moved.length}`;
    if (!sameStorage(old, f)) {
      await db.schema.addColumn(table, { ...columnOf(f), name: temp });
      await convertColumn(db, table, old.name, temp, old, f);
      await db.schema.dropColumn(table, old.name);
      moved.push({ field: f, temp });
    } else if (old.name !== f.name) {
      await db.schema.renameColumn(table, old.name, temp);
      moved.push({ field: f, temp });
    }
  }
  for (const { field, temp } of moved) await db.schema.renameColumn(table, temp, field.name);
  for (const f of added) await db.schema.addColumn(table, columnOf(f));
  await createIndexes(db, next);
  await ensureRelationIndexes(db, [next]);
  await ensureSearchIndexes(db, [next]);
  await db.schema.ensureRowOrderIndex(table, next.id);
  await db.schema.ensureChangeCounter(table, next.id);
}

/**
 * The change counters of every collection table (see SchemaManager.ensureChangeCounter): at
 * start-up, for tables made by a version without them. Cheap when they are in place.
 */
export async function ensureChangeCounters(db: Database, collections: readonly Collection[]): Promise<void> {
  for (const c of collections) if (c.type !== 'view') await db.schema.ensureChangeCounter(c.name, c.id);
}

/** The row-order indexes of every collection table (see SchemaManager.ensureRowOrderIndex). */
async function ensureRowOrderIndexes(db: Database, collections: readonly Collection[]): Promise<void> {
  for (const c of collections) if (c.type !== 'view') await db.schema.ensureRowOrderIndex(c.name, c.id);
}

/** What a database made by an earlier version lacks: change counters and relation indexes. */
export async function upgradeCollectionTables(db: Database, collections: readonly Collection[]): Promise<void> {
  await ensureChangeCounters(db, collections);
  await ensureRowOrderIndexes(db, collections);
  await ensureRelationIndexes(db, collections);
  await ensureSearchIndexes(db, collections);
}

/** The table change for one collection; views are handled by {@link rebuildViews}. */
export async function syncCollectionTable(db: Database, prev: Collection | null, next: Collection | null): Promise<void> {
  if (prev?.type === 'view' || next?.type === 'view') return;
  if (!prev && next) await createTable(db, next);
  else if (prev && !next) {
    // SQLite's FTS tables are tables of their own: they would outlive the collection's.
    await dropStaleSearchIndexes(db, prev, null);
    await db.schema.dropTable(prev.name);
  }
  else if (prev && next) await updateTable(db, prev, next);
}

export async function dropViews(db: Database, views: Collection[]): Promise<void> {
  for (const v of [...views].reverse()) await db.schema.dropView(v.name);
}

/**
 * Creates the views of `views`, each after the views its query names (a view may select from
 * another). Throws ViewRebuildError for the first view the engine refuses.
 */
export async function createViews(db: Database, views: Collection[]): Promise<void> {
  const pending = views.filter((v) => v.type === 'view');
  const mentions = (query: string, name: string) => new RegExp(`(^|[^\\w])${name}([^\\w]|$)`, 'i').test(query);
  while (pending.length > 0) {
    const index = pending.findIndex((v) =>
      pending.every((other) => other === v || !mentions(v.viewQuery ?? '', other.name)),
    );
    // A cycle cannot be valid SQL: take the first view and let the engine report it.
    const [view] = pending.splice(index === -1 ? 0 : index, 1);
    try {
      await db.schema.createView(view.name, view.viewQuery ?? '');
    } catch (error) {
      throw new ViewRebuildError(view.name, error instanceof Error ? error.message : String(error));
    }
  }
}

export class ViewRebuildError extends Error {
  constructor(
    readonly view: string,
    reason: string,
  ) {
    super(`view collection "${view}" does not work with this change: ${reason}`);
  }
}
