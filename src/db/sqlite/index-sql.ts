/**
 * SQLite DDL for collection indexes, rendered from a parsed {@link IndexDefinition} only (never
 * from the string a client sent), so the executed SQL is exactly what the grammar allows.
 */

import { assertIndexIdentifier, assertValidIndex, renderIndexWhere } from '../../core/collections/index-definition.js';
import type { IndexDefinition, IndexWhereStyle } from '../../core/collections/index-definition.js';

// Identifiers are already restricted to [A-Za-z0-9_]; doubling quotes is a second, independent
// line of defence should that rule ever be relaxed.
const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const WHERE_STYLE: IndexWhereStyle = {
  identifier: quote,
  // Booleans are stored as 0/1; `TRUE`/`FALSE` are mere aliases since SQLite 3.23, and 1/0
  // keeps the DDL readable by older tools that open the database file.
  boolean: (value) => (value ? '1' : '0'),
};

/**
 * `CREATE [UNIQUE] INDEX "name" ON "table" ("col" [COLLATE x] [ASC|DESC], …) [WHERE …]`.
 *
 * @throws {IndexSyntaxError} when `def` is not a valid definition (see `assertValidIndex`).
 */
export function sqliteCreateIndexSql(def: IndexDefinition): string {
  assertValidIndex(def);
  const columns = def.columns.map(
    (c) => quote(c.name) + (c.collate ? ` COLLATE ${c.collate}` : '') + (c.order ? ` ${c.order}` : ''),
  );
  const where = def.where ? ` WHERE ${renderIndexWhere(def.where, WHERE_STYLE)}` : '';
  return `CREATE ${def.unique ? 'UNIQUE ' : ''}INDEX ${quote(def.name)} ON ${quote(def.table)} (${columns.join(', ')})${where}`;
}

/**
 * `DROP INDEX IF EXISTS "name"`.
 *
 * @throws {IndexSyntaxError} when `name` is not a valid identifier.
 */
export function sqliteDropIndexSql(name: string): string {
  assertIndexIdentifier(name, 'index name');
  return `DROP INDEX IF EXISTS ${quote(name)}`;
}
