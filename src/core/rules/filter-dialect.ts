/**
 * What the filter compiler needs to know about the SQL engine. Everything engine-specific in
 * the filter language (JSON arrays, typed JSON extraction, case-insensitive LIKE, casts,
 * strftime, geoDistance) is rendered by an implementation of this interface in db/<engine>/,
 * so the compiler itself never asks which engine it is talking to.
 */
import type { RawBuilder } from 'kysely';

export type Sql = RawBuilder<unknown>;

/**
 * The type of a compiled operand. `json` is a value extracted from a JSON document whose type
 * is only known per row; `null` is the literal null.
 */
export type ValueKind = 'text' | 'number' | 'bool' | 'json' | 'null';

export interface FilterDialect {
  /** A bound parameter of a known kind (PostgreSQL needs an explicit type for untyped params). */
  param(value: string | number | boolean | null, kind: ValueKind): Sql;
  /**
   * A row source yielding one text column `value` per element of a JSON array stored as text,
   * aliased `alias`; for a plain (non-array) text column pass `isArray=false`: one row per
   * non-empty value.
   */
  jsonEach(expr: Sql, alias: string, isArray: boolean): Sql;
  /** Number of elements of a stored JSON array (or 0/1 for a plain text column). */
  jsonArrayLength(expr: Sql, isArray: boolean): Sql;
  /**
   * A value inside a JSON document stored as text (`path` empty: the document itself), typed as
   * `as`: values of another JSON type become NULL (a JSON number never equals the text '5', on
   * every engine), JSON null and missing keys are NULL. `as: 'json'` keeps the engine's own
   * typed representation, comparable only with another `json` value.
   */
  jsonValue(doc: Sql, path: (string | number)[], as: ValueKind): Sql;
  /** Converts a scalar between kinds: number→text, bool→text, bool→number. */
  cast(expr: Sql, from: ValueKind, to: ValueKind): Sql;
  /** Null-safe equality (`IS` / `IS NOT DISTINCT FROM`) of two values of the same kind. */
  isSame(a: Sql, b: Sql, kind: ValueKind, negate: boolean): Sql;
  /** Whether a value is NULL (for `json`, also a JSON null). */
  isNull(expr: Sql, kind: ValueKind): Sql;
  /** Case-insensitive LIKE with `\` as the escape character. */
  like(value: Sql, pattern: Sql, negate: boolean): Sql;
  /** String concatenation. */
  concat(...parts: Sql[]): Sql;
  lower(expr: Sql): Sql;
  /** Case-insensitive equality that can use a NOCASE / lower() index (identity lookups). */
  equalsIgnoreCase(column: Sql, value: Sql): Sql;
  /** A boolean SQL condition used as a `bool` value. */
  boolValue(condition: Sql): Sql;
  /** Haversine distance in kilometres between two (lon, lat) points. */
  geoDistance(lonA: Sql, latA: Sql, lonB: Sql, latB: Sql): Sql;
  /** SQLite `strftime` semantics on every engine, NULL normalised to ''. */
  strftime(format: Sql, time: Sql | null, modifiers: Sql[]): Sql;
  random(): Sql;
  /** The insertion-order key of a table row (SQLite rowid; a hidden identity column elsewhere). */
  rowid(alias: string): Sql;
}
