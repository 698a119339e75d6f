import { searchTableName } from './search-table.js';
import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { DATA_VERSIONS_TABLE } from '../../core/internal-tables.js';
import type { FilterDialect, OrderOp, Sql, ValueKind } from '../../core/rules/filter-dialect.js';
import { jsonPathText } from '../json-path.js';
import { registerSqliteFunctions } from './sqlite-functions.js';

/** The filter language on SQLite, PocketBase's own engine: most functions exist as they are. */
export class SqliteFilterDialect implements FilterDialect {
  /** Registers the SQL functions the dialect uses; called for every connection. */
  registerFunctions(db: BetterSqlite3.Database): void {
    registerSqliteFunctions(db);
  }

  param(value: string | number | boolean | null, _kind: ValueKind): Sql {
    return value === null ? sql`NULL` : sql`${value}`;
  }

  columnValue(value: string | number | boolean | null): Sql {
    return value === null ? sql`NULL` : sql`${value}`;
  }

  jsonEach(expr: Sql, alias: string, isArray: boolean): Sql {
    const source = isArray
      ? sql`CASE WHEN json_valid(${expr}) THEN ${expr} ELSE '[]' END`
      : sql`CASE WHEN ${expr} IS NULL OR ${expr} = '' THEN '[]' ELSE json_array(${expr}) END`;
    return sql`json_each(${source}) AS ${sql.id(alias)}`;
  }

  jsonArrayLength(expr: Sql, isArray: boolean): Sql {
    return isArray
      ? sql`COALESCE(json_array_length(CASE WHEN json_valid(${expr}) THEN ${expr} ELSE '[]' END), 0)`
      : sql`(CASE WHEN ${expr} IS NULL OR ${expr} = '' THEN 0 ELSE 1 END)`;
  }

  jsonValue(doc: Sql, path: (string | number)[], as: ValueKind, loose = false): Sql {
    const p = jsonPathText(path);
    const valid = sql`CASE WHEN json_valid(${doc}) THEN ${doc} END`;
    const value = sql`json_extract(${valid}, ${p})`;
    const type = sql`json_type(${valid}, ${p})`;
    switch (as) {
      case 'text':
        if (loose) {
          return sql`(CASE ${type} WHEN 'text' THEN ${value} WHEN 'object' THEN ${value} WHEN 'array' THEN ${value}
            WHEN 'integer' THEN basalt_number_text(${value}) WHEN 'real' THEN basalt_number_text(${value})
            WHEN 'true' THEN '1' WHEN 'false' THEN '0' END)`;
        }
        return sql`(CASE ${type} WHEN 'text' THEN ${value} WHEN 'object' THEN ${value} WHEN 'array' THEN ${value} END)`;
      case 'number':
        return sql`(CASE ${type} WHEN 'integer' THEN ${value} WHEN 'real' THEN ${value} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`;
      case 'bool':
        return sql`(CASE ${type} WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN 'integer' THEN ${value} <> 0 WHEN 'real' THEN ${value} <> 0 END)`;
      default:
        return value;
    }
  }

  cast(expr: Sql, from: ValueKind, to: ValueKind): Sql {
    if (from === to) return expr;
    if (from === 'null') return sql`NULL`;
    if (from === 'bool' && to === 'text') return sql`(CASE WHEN ${expr} THEN '1' WHEN NOT ${expr} THEN '0' END)`;
    if (from === 'bool' && to === 'number') return sql`(CASE WHEN ${expr} THEN 1 WHEN NOT ${expr} THEN 0 END)`;
    if (to === 'text') return sql`basalt_number_text(${expr})`;
    if (to === 'number') return sql`basalt_to_number(${expr})`;
    if (to === 'bool') return sql`(basalt_to_number(${expr}) <> 0)`;
    return expr;
  }

  isSame(a: Sql, b: Sql, _kind: ValueKind, negate: boolean): Sql {
    return negate ? sql`(${a} IS NOT ${b})` : sql`(${a} IS ${b})`;
  }

  isNull(expr: Sql): Sql {
    return sql`(${expr} IS NULL)`;
  }

  order(a: Sql, op: OrderOp, b: Sql): Sql {
    return sql`(${a} ${sql.raw(op)} ${b})`;
  }

  searchNarrow(alias: string, table: string, column: string, text: string): Sql {
    const fts = sql.id(searchTableName(table, column));
    // A quoted phrase of a trigram table matches the text as a substring, case folded.
    const phrase = `"${text.replaceAll('"', '""')}"`;
    return sql`${sql.ref(`${alias}.rowid`)} IN (SELECT rowid FROM ${fts} WHERE ${fts} MATCH ${phrase})`;
  }

  dataVersion(key: string): Sql {
    return sql`(SELECT "v" FROM ${sql.id(DATA_VERSIONS_TABLE)} WHERE "id" = ${key})`;
  }

  like(value: Sql, pattern: Sql, negate: boolean): Sql {
    return negate ? sql`(${value} NOT LIKE ${pattern} ESCAPE '\\')` : sql`(${value} LIKE ${pattern} ESCAPE '\\')`;
  }

  concat(...parts: Sql[]): Sql {
    return sql`(${sql.join(parts, sql` || `)})`;
  }

  position(text: Sql, part: Sql): Sql {
    return sql`instr(${text}, ${part})`;
  }

  lower(expr: Sql): Sql {
    return sql`LOWER(${expr})`;
  }

  equalsIgnoreCase(column: Sql, value: Sql): Sql {
    return sql`(${column} = ${value} COLLATE NOCASE)`;
  }

  boolValue(condition: Sql): Sql {
    return sql`(${condition})`;
  }

  geoDistance(lonA: Sql, latA: Sql, lonB: Sql, latB: Sql): Sql {
    // Haversine; min(1, …) guards asin against rounding just above 1 (it is NULL if any input is).
    return sql`(12742.0 * asin(min(1.0, sqrt(
      pow(sin((radians(${latB}) - radians(${latA})) / 2), 2) +
      cos(radians(${latA})) * cos(radians(${latB})) * pow(sin((radians(${lonB}) - radians(${lonA})) / 2), 2)))))`;
  }

  strftime(format: Sql, time: { sql: Sql; isNumber: boolean } | null, modifiers: Sql[]): Sql {
    const args = [format, time ? time.sql : sql`'now'`, ...modifiers];
    return sql`COALESCE(strftime(${sql.join(args)}), '')`;
  }

  forUpdate(): Sql {
    // SQLite has one writer: a write transaction already excludes every other.
    return sql``;
  }

  forKeyShare(): Sql {
    return sql``;
  }

  random(): Sql {
    return sql`RANDOM()`;
  }

  rowid(alias: string): Sql {
    return sql.ref(`${alias}.rowid`);
  }

  sortKey(expr: Sql): Sql {
    return expr;
  }
}
