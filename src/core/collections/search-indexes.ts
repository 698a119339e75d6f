/**
 * Substring indexes for `~` on the fields marked `"searchable": true` (text and editor fields;
 * README "Large collections"): SchemaManager.ensureSearchIndex makes one per field, named by the
 * collection and field ids. `~` keeps its exact meaning: the index only narrows which rows the
 * exact comparison looks at.
 */
import type { Database } from '../ports.js';
import type { Collection, Field } from '../model/collection-types.js';

interface SearchIndex {
  table: string;
  column: string;
  key: string;
}

function searchIndexes(c: Collection): SearchIndex[] {
  if (c.type === 'view') return [];
  return c.fields.filter((f: Field) => f.searchable === true && (f.type === 'text' || f.type === 'editor')).map((f) => ({ table: c.name, column: f.name, key: `${c.id}_${f.id}` }));
}

const same = (a: SearchIndex, b: SearchIndex) => a.table === b.table && a.column === b.column && a.key === b.key;

/**
 * Before a change (`next` null: the collection goes): drops the indexes `next` does not keep as
 * they are. A renamed table or column is dropped here and made again after the change.
 */
export async function dropStaleSearchIndexes(db: Database, prev: Collection, next: Collection | null): Promise<void> {
  const kept = next ? searchIndexes(next) : [];
  for (const index of searchIndexes(prev)) if (!kept.some((k) => same(k, index))) await db.schema.dropSearchIndex(index.table, index.column, index.key);
}

/** The search indexes `collections` should have and lack (after a change; at start-up). */
export async function ensureSearchIndexes(db: Database, collections: readonly Collection[]): Promise<void> {
  for (const c of collections) for (const index of searchIndexes(c)) await db.schema.ensureSearchIndex(index.table, index.column, index.key);
}
