/**
 * An index on every single-value relation column (README "Large collections"): relation paths
 * in filters and rules (`author.country = 'FR'`), back-relations (`posts_via_author`), expands
 * and cascades all look rows up by that column, and without an index each lookup is a scan.
 * Basalt's own, outside the collection's `indexes` (which stay what the superuser wrote); a
 * field opts out with `"indexed": false`. Skipped when one of the collection's own indexes
 * already starts with the column. Multi-value relations are stored as JSON lists, which a
 * plain index does not serve.
 */
import type { Database } from '../ports.js';
import type { Collection, Field } from '../model/collection-types.js';
import { INDEX_IDENTIFIER_PATTERN, parseIndex, type IndexDefinition } from './index-definition.js';

/** The index Basalt keeps for `field` of `c`, or null when it keeps none. */
function relationIndex(c: Collection, field: Field): IndexDefinition | null {
  if (field.type !== 'relation' || field.indexed === false || Number(field.maxSelect ?? 1) > 1) return null;
  const name = `_rel_${c.id}_${field.id}`;
  if (!INDEX_IDENTIFIER_PATTERN.test(name) || !INDEX_IDENTIFIER_PATTERN.test(field.name)) return null;
  const covered = c.indexes.some((text) => {
    try {
      return parseIndex(text).columns[0]?.name.toLowerCase() === field.name.toLowerCase();
    } catch {
      return false;
    }
  });
  return covered ? null : { name, unique: false, table: c.name, columns: [{ name: field.name }], rowOrder: true };
}

export function relationIndexes(c: Collection): IndexDefinition[] {
  if (c.type === 'view') return [];
  return c.fields.map((f) => relationIndex(c, f)).filter((d): d is IndexDefinition => d !== null);
}

/** Before a collection change: drops the relation indexes `next` does not keep (their field goes, changes type, opts out…). */
export async function dropStaleRelationIndexes(db: Database, prev: Collection, next: Collection): Promise<void> {
  const kept = new Set(relationIndexes(next).map((i) => `${i.name}\u0000${i.columns[0].name}`));
  const renamed = (name: string) => next.fields.find((f) => f.id === prev.fields.find((p) => p.name === name)?.id)?.name;
  for (const index of relationIndexes(prev)) {
    // A renamed column carries its index along (both engines): the same index under the new name.
    if (!kept.has(`${index.name}\u0000${renamed(index.columns[0].name) ?? ''}`)) await db.schema.dropIndex(index.name);
  }
}

/** The relation indexes `collections` should have and lack: after a change, and at start-up for a database made by an earlier version. */
export async function ensureRelationIndexes(db: Database, collections: readonly Collection[]): Promise<void> {
  for (const c of collections) {
    for (const index of relationIndexes(c)) if (!(await db.schema.indexExists(index.name))) await db.schema.createIndex(index);
  }
}
