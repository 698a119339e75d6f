/**
 * Persistence of collection definitions in the `_collections` table (one row per collection;
 * fields, indexes and type options as JSON text, token secrets included: this table never
 * leaves the server as is).
 */
import { sql } from 'kysely';
import type { ColumnDefinition, Database } from '../ports.js';
import { AUTH_OPTION_KEYS, type Collection } from '../model/collection-types.js';

export const COLLECTIONS_TABLE = '_collections';
export const PARAMS_TABLE = '_params';

const text = (name: string, extra: Partial<ColumnDefinition> = {}): ColumnDefinition => ({ name, kind: 'text', nullable: false, default: '', ...extra });
const rule = (name: string): ColumnDefinition => ({ name, kind: 'text', nullable: true, default: null });

const COLLECTION_COLUMNS: ColumnDefinition[] = [
  text('id', { primaryKey: true }),
  { name: 'system', kind: 'bool', nullable: false, default: false },
  text('type'),
  text('name'),
  { name: 'fields', kind: 'json', nullable: false, default: '[]' },
  { name: 'indexes', kind: 'json', nullable: false, default: '[]' },
  rule('listRule'),
  rule('viewRule'),
  rule('createRule'),
  rule('updateRule'),
  rule('deleteRule'),
  { name: 'options', kind: 'json', nullable: false, default: '{}' },
  text('created'),
  text('updated'),
];

const PARAMS_COLUMNS: ColumnDefinition[] = [
  text('id', { primaryKey: true }),
  { name: 'value', kind: 'json', nullable: true, default: null },
  text('created'),
  text('updated'),
];

/** Creates the system tables on first start. Returns true when they were just created. */
export async function ensureSystemTables(db: Database): Promise<boolean> {
  if (await db.schema.tableExists(COLLECTIONS_TABLE)) return false;
  await db.schema.createTable(COLLECTIONS_TABLE, COLLECTION_COLUMNS);
  await db.schema.createTable(PARAMS_TABLE, PARAMS_COLUMNS);
  return true;
}

function options(c: Collection): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c.type === 'view') out.viewQuery = c.viewQuery ?? '';
  if (c.type === 'auth') for (const key of AUTH_OPTION_KEYS) out[key] = c[key];
  if (c.workflow) out.workflow = c.workflow;
  return out;
}

function toRow(c: Collection): Record<string, unknown> {
  return {
    id: c.id,
    system: c.system,
    type: c.type,
    name: c.name,
    fields: JSON.stringify(c.fields),
    indexes: JSON.stringify(c.indexes),
    listRule: c.listRule,
    viewRule: c.viewRule,
    createRule: c.createRule,
    updateRule: c.updateRule,
    deleteRule: c.deleteRule,
    options: JSON.stringify(options(c)),
    created: c.created,
    updated: c.updated,
  };
}

function fromRow(row: Record<string, any>): Collection {
  const opts = JSON.parse(row.options || '{}') as Record<string, unknown>;
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    system: row.system === true || row.system === 1,
    fields: JSON.parse(row.fields || '[]'),
    indexes: JSON.parse(row.indexes || '[]'),
    listRule: row.listRule,
    viewRule: row.viewRule,
    createRule: row.createRule,
    updateRule: row.updateRule,
    deleteRule: row.deleteRule,
    created: row.created,
    updated: row.updated,
    ...opts,
  } as Collection;
}

export async function loadCollections(db: Database): Promise<Collection[]> {
  const rows = await db.rows<Record<string, any>>(sql`SELECT * FROM ${sql.id(COLLECTIONS_TABLE)} ORDER BY ${sql.id('created')}, ${sql.id('name')}`);
  return rows.map(fromRow);
}

export async function insertCollection(db: Database, c: Collection): Promise<void> {
  await db.kysely.insertInto(COLLECTIONS_TABLE).values(toRow(c)).execute();
}

export async function updateCollection(db: Database, c: Collection): Promise<void> {
  const { id, ...rest } = toRow(c);
  await db.kysely.updateTable(COLLECTIONS_TABLE).set(rest).where('id', '=', id).execute();
}

export async function deleteCollectionRow(db: Database, id: string): Promise<void> {
  await db.kysely.deleteFrom(COLLECTIONS_TABLE).where('id', '=', id).execute();
}
