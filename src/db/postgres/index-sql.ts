/**
 * PostgreSQL DDL for collection indexes, rendered from a parsed {@link IndexDefinition} only
 * (never from the SQLite string a client sent).
 *
 * Translation of the SQLite-isms:
 * - `COLLATE NOCASE` becomes the expression `(lower("col"))`: PostgreSQL has no NOCASE
 *   collation, and a non-deterministic ICU collation would break `LIKE` on the column. With the
 *   expression index, a UNIQUE index stays case-insensitively unique; lookups that want to use it
 *   must compare `lower("col") = lower($1)`. NB: `lower()` folds every letter the database
 *   locale knows (`É` = `é`), SQLite's NOCASE only ASCII — PostgreSQL is the stricter of the two.
 * - `COLLATE BINARY` and `COLLATE RTRIM` are dropped. BINARY only changes ordering: equality,
 *   hence uniqueness, is already exact under PostgreSQL's deterministic default collation. RTRIM
 *   (ignore trailing spaces) has no built-in collation, and an `rtrim()` expression index would
 *   only serve queries that themselves call `rtrim(col)`. NB: a UNIQUE RTRIM index is therefore
 *   looser here (`'a'` and `'a '` may coexist); PocketBase's built-in indexes use none.
 * - `!=` is written `<>`, the SQL-standard spelling (`==` is already `=` in the definition).
 * - TRUE/FALSE stay TRUE/FALSE (booleans are real booleans here); every other literal is rendered
 *   as written, so a string compared with a text column stays a string.
 *
 * Index names are schema-global in PostgreSQL (not per table as in SQLite); the name is kept as
 * given because collection indexes carry the collection id in their name.
 * NB: PostgreSQL truncates identifiers to 63 bytes, so two names that differ only after that
 * collide here even though SQLite keeps them apart.
 */

import { assertIndexIdentifier, assertValidIndex, renderIndexWhere } from '../../core/collections/index-definition.js';
import type { IndexColumn, IndexDefinition, IndexWhereStyle } from '../../core/collections/index-definition.js';

// Identifiers are already restricted to [A-Za-z0-9_]; doubling quotes is a second, independent
// line of defence should that rule ever be relaxed.
const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * A string literal that means the same whatever `standard_conforming_strings` is set to: with
 * the setting off, a backslash in '…' is an escape, so such values use the E'…' form instead.
 */
function stringLiteral(value: string): string {
  const doubled = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${doubled.replace(/\\/g, '\\\\')}'` : `'${doubled}'`;
}

const WHERE_STYLE: IndexWhereStyle = {
  identifier: quote,
  boolean: (value) => (value ? 'TRUE' : 'FALSE'),
  string: stringLiteral,
  compareOp: (op) => (op === '!=' ? '<>' : op),
};

function column(c: IndexColumn): string {
  const key = c.collate === 'NOCASE' ? `(lower(${quote(c.name)}))` : quote(c.name);
  return c.order ? `${key} ${c.order}` : key;
}

/**
 * `CREATE [UNIQUE] INDEX "name" ON "table" ("col" | (lower("col")) [ASC|DESC], …) [WHERE …]`.
 *
 * @throws {IndexSyntaxError} when `def` is not a valid definition (see `assertValidIndex`).
 */
export function postgresCreateIndexSql(def: IndexDefinition): string {
  assertValidIndex(def);
  const where = def.where ? ` WHERE ${renderIndexWhere(def.where, WHERE_STYLE)}` : '';
  const columns = def.columns.map(column).join(', ');
  return `CREATE ${def.unique ? 'UNIQUE ' : ''}INDEX ${quote(def.name)} ON ${quote(def.table)} (${columns})${where}`;
}

/**
 * `DROP INDEX IF EXISTS "name"`, resolved through the connection's `search_path` like the table.
 *
 * @throws {IndexSyntaxError} when `name` is not a valid identifier.
 */
export function postgresDropIndexSql(name: string): string {
  assertIndexIdentifier(name, 'index name');
  return `DROP INDEX IF EXISTS ${quote(name)}`;
}
