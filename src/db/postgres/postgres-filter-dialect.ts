import { sql } from 'kysely';
import type { FilterDialect, OrderOp, Sql, ValueKind } from '../../core/rules/filter-dialect.js';
import { jsonPathArray } from '../json-path.js';
import { DECIMAL_TEXT_POSIX } from '../../core/number-text.js';

const PARAM_TYPE: Record<ValueKind, string> = { text: 'text', number: 'float8', bool: 'boolean', json: 'jsonb', null: 'text' };

/**
 * The ASCII folding of `~`, as DDL text (the searchable fields' trigram index is on exactly this).
 * Under the "C" collation lower() folds A-Z and nothing else (PostgreSQL's asc_tolower), as
 * SQLite's LIKE does, and it is some twenty times faster than translate() with the alphabet
 * (92 ms against 2 s for a million short titles).
 */
export function asciiLowerText(column: string): string {
  return `lower((${column}) COLLATE "C")`;
}

/**
 * The filter language on PostgreSQL with SQLite's semantics. Multi-valued and JSON fields are
 * stored as JSON text (as on SQLite, so raw comparisons such as `tags ~ "x"` behave the same) and
 * cast to json/jsonb on demand. Parameters carry explicit types: PostgreSQL cannot infer `$1 = $2`.
 */
export class PostgresFilterDialect implements FilterDialect {
  param(value: string | number | boolean | null, kind: ValueKind): Sql {
    if (value === null) return sql`NULL`;
    // PostgreSQL text cannot hold NUL, so no stored value contains one: U+FFFD keeps the
    // comparison meaningful (and false) instead of an "invalid byte sequence" error.
    const safe = typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
    return sql`CAST(${safe} AS ${sql.raw(PARAM_TYPE[kind])})`;
  }

  columnValue(value: string | number | boolean | null, kind: 'text' | 'number' | 'bool' | 'json'): Sql {
    // Typed and collated as postgres-schema.ts creates the columns (text and JSON: TEXT COLLATE "C").
    if (kind === 'number') return sql`CAST(${value} AS DOUBLE PRECISION)`;
    if (kind === 'bool') return sql`CAST(${value} AS BOOLEAN)`;
    const safe = typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
    return sql`(CAST(${safe} AS TEXT) COLLATE "C")`;
  }

  private jsonOf(expr: Sql, type: 'json' | 'jsonb'): Sql {
    return sql`(CASE WHEN ${expr} IS NULL OR ${expr} = '' THEN NULL ELSE CAST(${expr} AS ${sql.raw(type)}) END)`;
  }

  jsonEach(expr: Sql, alias: string, isArray: boolean): Sql {
    if (!isArray) {
      return sql`unnest(CASE WHEN ${expr} IS NULL OR ${expr} = '' THEN ARRAY[]::text[] ELSE ARRAY[${expr}]::text[] END) AS ${sql.id(alias)}(value)`;
    }
    const doc = this.jsonOf(expr, 'jsonb');
    return sql`jsonb_array_elements_text(CASE WHEN jsonb_typeof(${doc}) = 'array' THEN ${doc} ELSE '[]'::jsonb END) AS ${sql.id(alias)}(value)`;
  }

  jsonArrayLength(expr: Sql, isArray: boolean): Sql {
    if (!isArray) return sql`(CASE WHEN ${expr} IS NULL OR ${expr} = '' THEN 0 ELSE 1 END)`;
    const doc = this.jsonOf(expr, 'jsonb');
    return sql`COALESCE(CASE WHEN jsonb_typeof(${doc}) = 'array' THEN jsonb_array_length(${doc}) END, 0)`;
  }

  jsonValue(doc: Sql, path: (string | number)[], as: ValueKind, loose = false): Sql {
    const at = (type: 'json' | 'jsonb') =>
      path.length === 0 ? this.jsonOf(doc, type) : sql`(${this.jsonOf(doc, type)} #> CAST(${jsonPathArray(path)} AS text[]))`;
    switch (as) {
      case 'text': {
        // `json` (not jsonb) keeps the stored text of objects and arrays byte for byte.
        const j = at('json');
        if (loose) {
          return sql`(CASE json_typeof(${j}) WHEN 'string' THEN ${j} #>> '{}' WHEN 'object' THEN CAST(${j} AS text) WHEN 'array' THEN CAST(${j} AS text)
            WHEN 'number' THEN CAST(CAST(${j} #>> '{}' AS float8) AS text) WHEN 'boolean' THEN (CASE WHEN ${j} #>> '{}' = 'true' THEN '1' ELSE '0' END) END)`;
        }
        return sql`(CASE json_typeof(${j}) WHEN 'string' THEN ${j} #>> '{}' WHEN 'object' THEN CAST(${j} AS text) WHEN 'array' THEN CAST(${j} AS text) END)`;
      }
      case 'number': {
        const j = at('jsonb');
        return sql`(CASE jsonb_typeof(${j}) WHEN 'number' THEN CAST(${j} #>> '{}' AS float8) WHEN 'boolean' THEN (CASE WHEN ${j} = 'true'::jsonb THEN 1 ELSE 0 END) END)`;
      }
      case 'bool': {
        const j = at('jsonb');
        return sql`(CASE jsonb_typeof(${j}) WHEN 'boolean' THEN CAST(${j} #>> '{}' AS boolean) WHEN 'number' THEN CAST(${j} #>> '{}' AS float8) <> 0 END)`;
      }
      default:
        return sql`NULLIF(${at('jsonb')}, 'null'::jsonb)`;
    }
  }

  cast(expr: Sql, from: ValueKind, to: ValueKind): Sql {
    if (from === to) return expr;
    if (from === 'null') return sql`CAST(NULL AS ${sql.raw(PARAM_TYPE[to])})`;
    if (from === 'bool' && to === 'text') return sql`(CASE WHEN ${expr} THEN '1' WHEN NOT ${expr} THEN '0' END)`;
    if (from === 'bool' && to === 'number') return sql`(CASE WHEN ${expr} THEN 1 WHEN NOT ${expr} THEN 0 END)`;
    if (from === 'json') return sql`basalt_json_text(${expr})`;
    if (to === 'text') return sql`CAST(${expr} AS text)`;
    const number = sql`(CASE WHEN ${expr} ~ ${DECIMAL_TEXT_POSIX} THEN CAST(${expr} AS float8) END)`;
    return to === 'bool' ? sql`(${number} <> 0)` : number;
  }

  isSame(a: Sql, b: Sql, kind: ValueKind, negate: boolean): Sql {
    if (kind === 'json') {
      // JSON equality with SQLite's rules (1 = true, 1 = 1.0), NULL-safe.
      const same = sql`(CASE WHEN ${a} IS NULL AND ${b} IS NULL THEN TRUE WHEN ${a} IS NULL OR ${b} IS NULL THEN FALSE ELSE basalt_json_cmp(${a}, ${b}) = 0 END)`;
      return negate ? sql`(NOT ${same})` : same;
    }
    return negate ? sql`(${a} IS DISTINCT FROM ${b})` : sql`(${a} IS NOT DISTINCT FROM ${b})`;
  }

  isNull(expr: Sql): Sql {
    return sql`(${expr} IS NULL)`;
  }

  order(a: Sql, op: OrderOp, b: Sql, kind: ValueKind): Sql {
    if (kind === 'json') return sql`(basalt_json_cmp(${a}, ${b}) ${sql.raw(op)} 0)`;
    if (kind === 'text') return sql`(${a} COLLATE "C" ${sql.raw(op)} ${b})`;
    return sql`(${a} ${sql.raw(op)} ${b})`;
  }

  private asciiLower(expr: Sql): Sql {
    return sql`lower((${expr}) COLLATE "C")`;
  }

  dataVersion(key: string): Sql {
    // install-functions.ts: a STABLE function sees the data as this statement does.
    return sql`(SELECT basalt_data_version(${key}))`;
  }

  like(value: Sql, pattern: Sql, negate: boolean): Sql {
    // SQLite's LIKE folds ASCII letters only: so does this (ILIKE would also fold É to é).
    const v = this.asciiLower(value);
    const p = this.asciiLower(pattern);
    return negate ? sql`(${v} NOT LIKE ${p} ESCAPE '\\')` : sql`(${v} LIKE ${p} ESCAPE '\\')`;
  }

  concat(...parts: Sql[]): Sql {
    return sql`(${sql.join(parts, sql` || `)})`;
  }

  position(text: Sql, part: Sql): Sql {
    return sql`strpos(${text}, ${part})`;
  }

  lower(expr: Sql): Sql {
    return this.asciiLower(expr);
  }

  equalsIgnoreCase(column: Sql, value: Sql): Sql {
    // Matches the (lower("col")) expression index that NOCASE indexes become on PostgreSQL.
    return sql`(lower(${column}) = lower(${value}))`;
  }

  boolValue(condition: Sql): Sql {
    return sql`(${condition})`;
  }

  geoDistance(lonA: Sql, latA: Sql, lonB: Sql, latB: Sql): Sql {
    // LEAST would skip a NULL: the CASE keeps NULL in, NULL out (as SQLite's min()).
    const h = sql`sqrt(power(sin((radians(${latB}) - radians(${latA})) / 2), 2) +
      cos(radians(${latA})) * cos(radians(${latB})) * power(sin((radians(${lonB}) - radians(${lonA})) / 2), 2))`;
    return sql`(12742.0 * asin(CASE WHEN ${h} > 1.0 THEN 1.0 ELSE ${h} END))`;
  }

  strftime(format: Sql, time: { sql: Sql; isNumber: boolean } | null, modifiers: Sql[]): Sql {
    const mods = modifiers.length === 0 ? sql`ARRAY[]::text[]` : sql`ARRAY[${sql.join(modifiers.map((m) => sql`CAST(${m} AS text)`))}]`;
    // A numeric time goes to the float8 overload (Julian day / Unix seconds), as SQLite reads REALs.
    const t = !time ? sql`CAST('now' AS text)` : time.isNumber ? sql`CAST(${time.sql} AS float8)` : sql`CAST(${time.sql} AS text)`;
    return sql`COALESCE(basalt_strftime(CAST(${format} AS text), ${t}, ${mods}), '')`;
  }

  forUpdate(): Sql {
    return sql`FOR UPDATE`;
  }

  forKeyShare(): Sql {
    return sql`FOR KEY SHARE`;
  }

  random(): Sql {
    return sql`RANDOM()`;
  }

  rowid(alias: string): Sql {
    return sql.ref(`${alias}.__rowid`);
  }

  sortKey(expr: Sql, kind: ValueKind): Sql {
    return kind === 'text' ? sql`(${expr} COLLATE "C")` : expr;
  }
}
