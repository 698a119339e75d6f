import { sql } from 'kysely';
import type { FilterDialect, Sql, ValueKind } from '../../core/rules/filter-dialect.js';
import { jsonPathArray } from '../json-path.js';

const PARAM_TYPE: Record<ValueKind, string> = { text: 'text', number: 'float8', bool: 'boolean', json: 'jsonb', null: 'text' };

/**
 * The filter language on PostgreSQL. Multi-valued and JSON fields are stored as JSON text (as on
 * SQLite, so raw comparisons such as `tags ~ "x"` behave the same) and cast to jsonb where a
 * JSON operation needs it. Parameters carry explicit types: PostgreSQL cannot infer `$1 = $2`.
 */
export class PostgresFilterDialect implements FilterDialect {
  param(value: string | number | boolean | null, kind: ValueKind): Sql {
    if (value === null) return sql`NULL`;
    return sql`CAST(${value} AS ${sql.raw(PARAM_TYPE[kind])})`;
  }

  private jsonb(expr: Sql): Sql {
    return sql`(CASE WHEN ${expr} IS NULL OR ${expr} = '' THEN NULL ELSE CAST(${expr} AS jsonb) END)`;
  }

  jsonEach(expr: Sql, alias: string, isArray: boolean): Sql {
    if (!isArray) {
      return sql`unnest(CASE WHEN ${expr} IS NULL OR ${expr} = '' THEN ARRAY[]::text[] ELSE ARRAY[${expr}]::text[] END) AS ${sql.id(alias)}(value)`;
    }
    const doc = this.jsonb(expr);
    return sql`jsonb_array_elements_text(CASE WHEN jsonb_typeof(${doc}) = 'array' THEN ${doc} ELSE '[]'::jsonb END) AS ${sql.id(alias)}(value)`;
  }

  jsonArrayLength(expr: Sql, isArray: boolean): Sql {
    if (!isArray) return sql`(CASE WHEN ${expr} IS NULL OR ${expr} = '' THEN 0 ELSE 1 END)`;
    const doc = this.jsonb(expr);
    return sql`COALESCE(CASE WHEN jsonb_typeof(${doc}) = 'array' THEN jsonb_array_length(${doc}) END, 0)`;
  }

  jsonValue(doc: Sql, path: (string | number)[], as: ValueKind): Sql {
    const j = path.length === 0 ? this.jsonb(doc) : sql`(${this.jsonb(doc)} #> CAST(${jsonPathArray(path)} AS text[]))`;
    switch (as) {
      case 'text':
        return sql`(CASE jsonb_typeof(${j}) WHEN 'string' THEN ${j} #>> '{}' WHEN 'object' THEN CAST(${j} AS text) WHEN 'array' THEN CAST(${j} AS text) END)`;
      case 'number':
        return sql`(CASE jsonb_typeof(${j}) WHEN 'number' THEN CAST(${j} #>> '{}' AS float8) WHEN 'boolean' THEN (CASE WHEN ${j} = 'true'::jsonb THEN 1 ELSE 0 END) END)`;
      case 'bool':
        return sql`(CASE jsonb_typeof(${j}) WHEN 'boolean' THEN CAST(${j} #>> '{}' AS boolean) WHEN 'number' THEN CAST(${j} #>> '{}' AS float8) <> 0 END)`;
      default:
        return sql`NULLIF(${j}, 'null'::jsonb)`;
    }
  }

  cast(expr: Sql, from: ValueKind, to: ValueKind): Sql {
    if (from === to) return expr;
    if (from === 'bool' && to === 'text') return sql`(CASE WHEN ${expr} THEN 'true' WHEN NOT ${expr} THEN 'false' END)`;
    if (from === 'bool' && to === 'number') return sql`(CASE WHEN ${expr} THEN 1 WHEN NOT ${expr} THEN 0 END)`;
    if (from === 'number' && to === 'text') return sql`CAST(${expr} AS text)`;
    if (from === 'null') return sql`CAST(NULL AS ${sql.raw(PARAM_TYPE[to])})`;
    throw new Error(`unsupported cast ${from} → ${to}`);
  }

  isSame(a: Sql, b: Sql, _kind: ValueKind, negate: boolean): Sql {
    return negate ? sql`(${a} IS DISTINCT FROM ${b})` : sql`(${a} IS NOT DISTINCT FROM ${b})`;
  }

  isNull(expr: Sql): Sql {
    return sql`(${expr} IS NULL)`;
  }

  like(value: Sql, pattern: Sql, negate: boolean): Sql {
    // ILIKE matches SQLite's case-insensitive LIKE (which folds ASCII only; ILIKE folds all).
    return negate ? sql`(${value} NOT ILIKE ${pattern} ESCAPE '\\')` : sql`(${value} ILIKE ${pattern} ESCAPE '\\')`;
  }

  concat(...parts: Sql[]): Sql {
    return sql`(${sql.join(parts, sql` || `)})`;
  }

  lower(expr: Sql): Sql {
    return sql`LOWER(${expr})`;
  }

  equalsIgnoreCase(column: Sql, value: Sql): Sql {
    // Matches the (lower("col")) expression index that NOCASE indexes become on PostgreSQL.
    return sql`(lower(${column}) = lower(${value}))`;
  }

  boolValue(condition: Sql): Sql {
    return sql`(${condition})`;
  }

  geoDistance(lonA: Sql, latA: Sql, lonB: Sql, latB: Sql): Sql {
    return sql`(12742.0 * asin(LEAST(1.0, sqrt(
      power(sin((radians(${latB}) - radians(${latA})) / 2), 2) +
      cos(radians(${latA})) * cos(radians(${latB})) * power(sin((radians(${lonB}) - radians(${lonA})) / 2), 2)))))`;
  }

  strftime(format: Sql, time: Sql | null, modifiers: Sql[]): Sql {
    const mods = modifiers.length === 0 ? sql`ARRAY[]::text[]` : sql`ARRAY[${sql.join(modifiers.map((m) => sql`CAST(${m} AS text)`))}]`;
    return sql`COALESCE(basalt_strftime(CAST(${format} AS text), CAST(${time ?? sql`'now'`} AS text), ${mods}), '')`;
  }

  random(): Sql {
    return sql`RANDOM()`;
  }

  rowid(alias: string): Sql {
    return sql.ref(`${alias}.__rowid`);
  }
}
