/**
 * What the filter compiler needs to know about the SQL engine. Everything engine-specific in
 * the filter language (JSON arrays, typed JSON extraction, case-insensitive LIKE, casts,
 * strftime, geoDistance, value ordering) is rendered by an implementation of this interface in
 * db/<engine>/, so the compiler itself never asks which engine it is talking to.
 *
 * The reference semantics are SQLite's (PocketBase's engine): other engines reproduce them —
 * booleans compare as 0/1, LIKE folds ASCII case only, text orders by bytes.
 */
import type { RawBuilder } from 'kysely';

export type Sql = RawBuilder<unknown>;

/**
 * The type of a compiled operand. `json` is a value extracted from a JSON document whose type
 * is only known per row; `null` is the literal null.
 */
export type ValueKind = 'text' | 'number' | 'bool' | 'json' | 'null';

/** Comparison operators that order values. */
export type OrderOp = '<' | '<=' | '>' | '>=';

export interface FilterDialect {
  /** A bound parameter of a known kind (PostgreSQL needs an explicit type for untyped params). */
  param(value: string | number | boolean | null, kind: ValueKind): Sql;
  /**
   * A stored value (as a record codec encodes it) standing in for a column of `kind`, typed and
   * collated like the real column: lets a rule run against a record that is not (or no longer)
   * in its table, such as a deleted record's realtime event.
   */
  columnValue(value: string | number | boolean | null, kind: 'text' | 'number' | 'bool' | 'json'): Sql;
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
   * typed representation, comparable only with another `json` value. With `loose`, a `text`
   * value also renders numbers and booleans (1/0) as text, as SQLite's LIKE sees them.
   */
  jsonValue(doc: Sql, path: (string | number)[], as: ValueKind, loose?: boolean): Sql;
  /**
   * Converts a scalar between kinds: bool→number (1/0), bool→text ('1'/'0'), number→text
   * (shortest round-trip digits, exponent below 1e-4 and from 1e15: `1e+15`), text→number
   * (NULL unless the text is a plain decimal number).
   */
  cast(expr: Sql, from: ValueKind, to: ValueKind): Sql;
  /** Null-safe equality (`IS` / `IS NOT DISTINCT FROM`) of two values of the same kind. */
  isSame(a: Sql, b: Sql, kind: ValueKind, negate: boolean): Sql;
  /** Whether a value is NULL (for `json`, also a JSON null). */
  isNull(expr: Sql, kind: ValueKind): Sql;
  /** `a op b` for two values of `kind` (text in byte order, json with SQLite's type order). */
  order(a: Sql, op: OrderOp, b: Sql, kind: ValueKind): Sql;
  /** LIKE with `\` as the escape character, case-insensitive for ASCII letters only. */
  like(value: Sql, pattern: Sql, negate: boolean): Sql;
  /**
   * Rows of `alias` (rows of `table`) whose `column` may contain `text` (three characters or more,
   * no wildcard), by the column's substring index: a superset the exact `~` then confirms. Only
   * engines whose planner cannot use the index by itself have it (SQLite's FTS5 table).
   */
  searchNarrow?(alias: string, table: string, column: string, text: string): Sql;
  /**
   * The data version of the collection `key` (core/records/count-cache.ts), as a value of the
   * statement it is part of: read in the same snapshot as the statement's rows, once.
   */
  dataVersion(key: string): Sql;
  /** String concatenation. */
  concat(...parts: Sql[]): Sql;
  /** Lower case for ASCII letters only (SQLite's LOWER). */
  lower(expr: Sql): Sql;
  /** The 1-based character position of the first `part` in `text`, 0 when absent (SQLite's instr). */
  position(text: Sql, part: Sql): Sql;
  /** Case-insensitive equality that can use a NOCASE / lower() index (identity lookups). */
  equalsIgnoreCase(column: Sql, value: Sql): Sql;
  /** A boolean SQL condition used as a `bool` value. */
  boolValue(condition: Sql): Sql;
  /** Haversine distance in kilometres between two (lon, lat) points; NULL if any is NULL. */
  geoDistance(lonA: Sql, latA: Sql, lonB: Sql, latB: Sql): Sql;
  /** SQLite `strftime` semantics on every engine, NULL normalised to ''. */
  /** `time` may be text (a date) or a number (with the `unixepoch`/`julianday` modifiers). */
  strftime(format: Sql, time: { sql: Sql; isNumber: boolean } | null, modifiers: Sql[]): Sql;
  random(): Sql;
  /** The insertion-order key of a table row (SQLite rowid; a hidden identity column elsewhere). */
  rowid(alias: string): Sql;
  /** The clause that locks the selected rows until the transaction ends ('' where writes are serialised anyway). */
  forUpdate(): Sql;
  /** The clause that keeps the selected rows from being deleted until the transaction ends. */
  forKeyShare(): Sql;
  /** An ORDER BY term for a value of `kind` (text sorts by bytes on every engine). */
  sortKey(expr: Sql, kind: ValueKind): Sql;
}
