/**
 * A `search` (search-terms.ts) over one collection, for one caller: which records match and how
 * well. Basalt's addition (README "Large collections").
 *
 * - **Matches** are exactly the filter `(f1 ~ 'w1' || f2 ~ 'w1') && (f1 ~ 'w2' || …)` over the
 *   collection's searchable fields the caller may see (hidden ones only for superusers), every
 *   word taken literally: it is compiled by the filter compiler as that filter, so `~`'s folding
 *   and its substring indexes (FTS5 trigram tables, pg_trgm) apply unchanged.
 * - **Rank** (`@rank`, higher is better): for each searchable field, in the collection's order,
 *   one point per word it contains, one if it contains the words as typed (several words), one
 *   if it starts with them and one if it is them; the first searchable field weighs k, the next
 *   k−1 … the last 1. The same arithmetic on every engine, so the order is the same everywhere.
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import type { Field } from '../model/collection-types.js';
import { badRequest, fieldError, MESSAGES } from '../errors.js';
import type { ComparisonExpr, Expr } from '../rules/ast.js';
import type { Sql } from '../rules/filter-dialect.js';
import type { Caller } from './caller.js';
import type { ClientQuery } from './client-query.js';
import { compileClientExpr, ROOT, type QueryContext } from './record-query.js';
import type { SearchTerms } from './search-terms.js';

export interface SearchPlan {
  /** The matches; `narrow` false: without the substring indexes narrowing first (record-reader.ts). */
  predicate(narrow: boolean): Sql;
  /** The score of a row (aliased ROOT), higher is better. */
  rank: Sql;
}

/** The fields a search by `caller` reads: searchable text and editor fields it may see. */
export function searchFields(collection: CollectionModel, caller: Caller): Field[] {
  return collection.fields.filter((f) => f.searchable === true && (f.type === 'text' || f.type === 'editor') && (caller.can.seesHidden || !f.hidden));
}

/** `word` as the right side of `~`, matched literally (its `%`, `_` and `\` escaped). */
function literalPattern(word: string): string {
  return word.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const at = { start: 0, end: 0 };

function contains(field: Field, word: string): ComparisonExpr {
  return { kind: 'comparison', op: '~', any: false, left: { kind: 'identifier', name: field.name, ...at }, right: { kind: 'text', value: literalPattern(word), ...at }, ...at };
}

function joined(kind: 'and' | 'or', parts: Expr[]): Expr {
  return parts.reduce((left, right) => ({ kind, left, right, ...at }));
}

/** The plan of the checked query's `search` on `collection`; null when it has none. */
export function searchPlan(ctx: QueryContext, collection: CollectionModel, query: ClientQuery, caller: Caller): SearchPlan | null {
  const terms = query.search;
  if (!terms) return null;
  const fields = searchFields(collection, caller);
  if (fields.length === 0) {
    throw badRequest(MESSAGES.invalidListParams, {
      search: fieldError('validation_search_unsupported', `"${collection.name}" has no searchable field to search (set "searchable": true on a text or editor field).`),
    });
  }
  const expr = joined('and', terms.words.map((word) => joined('or', fields.map((f) => contains(f, word)))));
  const compiled = new Map<boolean, Sql>();
  const predicate = (narrow: boolean) => {
    let p = compiled.get(narrow);
    if (!p) compiled.set(narrow, (p = compileClientExpr(ctx, collection, expr, caller, { narrowSearch: narrow, param: 'search' })));
    return p;
  };
  return { predicate, rank: rankOf(ctx, fields, terms) };
}

function rankOf(ctx: QueryContext, fields: Field[], terms: SearchTerms): Sql {
  const d = ctx.db.filter;
  const text = (value: string) => d.param(value, 'text');
  const point = (condition: Sql) => sql`CASE WHEN ${condition} THEN 1 ELSE 0 END`;
  const perField = fields.map((f, i) => {
    const value = d.lower(sql`COALESCE(${sql.ref(`${ROOT}.${f.name}`)}, '')`);
    const points = terms.words.map((w) => point(sql`${d.position(value, text(w))} > 0`));
    if (terms.words.length > 1) points.push(point(sql`${d.position(value, text(terms.phrase))} > 0`));
    points.push(point(sql`${d.position(value, text(terms.phrase))} = 1`), point(sql`${value} = ${text(terms.phrase)}`));
    return sql`${sql.lit(fields.length - i)} * (${sql.join(points, sql` + `)})`;
  });
  return sql`(${sql.join(perField, sql` + `)})`;
}
