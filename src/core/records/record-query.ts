/**
 * The SQL pieces shared by record reads and writes: a collection rule or a client filter as a
 * predicate on the row aliased `__r`, and the ORDER BY of a sort parameter.
 */
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import { badRequest, fieldError, MESSAGES } from '../errors.js';
import type { Clock, Database } from '../ports.js';
import { compileFilter, FilterCostError, FilterResolveError, type CostBudget } from '../rules/compiler.js';
import { JoinScope } from '../rules/field-path.js';
import type { FilterDialect, Sql } from '../rules/filter-dialect.js';
import type { ParsedRule } from '../rules/parsed-rule.js';
import type { Expr } from '../rules/ast.js';
import { walkPath } from '../rules/path-walker.js';
import { canWalkInto, type Caller } from './caller.js';
import { clientBudget } from './client-budget.js';
import type { ClientQuery } from './client-query.js';
import { parseSortParam } from './list-params.js';
import type { CountCache } from './count-cache.js';
import type { KeysetTerm, PageAnchors } from './page-anchors.js';
import type { RankedOrders } from './ranked-orders.js';
import type { SlowQueries } from './slow-queries.js';

export const ROOT = '__r';

// Next to filterPredicate: every entry point that compiles a client filter passes the caller's budget.
export { clientBudget };

export interface QueryContext {
  db: Database;
  schema: SchemaView;
  /** "Now" for the `@now`/`@today…` macros and autodate values. */
  clock: Clock;
  /** Adds computed fields to records presented to a client (the onRecordEnrich hooks), when any. */
  enrich?: RecordEnricher;
  /** Stored list totals (count-cache.ts); without it every list with a total counts. */
  counts?: CountCache;
  /** Where deep pages may start (page-anchors.ts); without it a page is a plain OFFSET. */
  anchors?: PageAnchors;
  /** Ranked searches' orders (ranked-orders.ts); without it every page of one ranks every match. */
  rankings?: RankedOrders;
  /** Times client lists' statements and logs the slow ones (slow-queries.ts). */
  slow?: SlowQueries;
}

/** Changes records (and the records they expand) as exported for `caller`, in place. */
export type RecordEnricher = (records: Record<string, unknown>[], caller: Caller) => Promise<void>;

/** The rule as a predicate, or null when it is open. Callers handle `locked` before. */
export function rulePredicate(ctx: QueryContext, collection: CollectionModel, rule: ParsedRule, caller: Caller, alias = ROOT, baseTable?: string): Sql | null {
  if (caller.can.bypassesRules || rule.kind === 'open') return null;
  if (rule.kind === 'locked') return sql`(1=0)`;
  try {
    return compileFilter(rule.expr, {
      schema: ctx.schema,
      now: new Date(ctx.clock.now()),
      collection,
      dialect: ctx.db.filter,
      request: caller.info,
      allowHiddenFields: true,
      baseTable,
    }, alias);
  } catch (err) {
    // A rule that no longer resolves (another collection changed under it) denies: fail closed.
    if (err instanceof FilterResolveError) return sql`(1=0)`;
    throw err;
  }
}

function invalidClientExpr(err: Error, param: 'filter' | 'search'): never {
  // Over its budget, the filter is valid but too expensive: a code of its own, so clients can tell.
  const code = err instanceof FilterCostError ? `validation_${param}_too_complex` : `validation_invalid_${param}`;
  throw badRequest(param === 'filter' ? MESSAGES.invalidFilter : MESSAGES.invalidListParams, { [param]: fieldError(code, err.message) });
}

/**
 * A client filter (checked by the client-query gate) compiled for `caller`: hidden fields,
 * `@collection`/`@request`, unknown fields and filters over `budget` (the caller's, see
 * client-budget.ts) are 400s.
 */
export function filterPredicate(
  ctx: QueryContext,
  collection: CollectionModel,
  query: ClientQuery,
  caller: Caller,
  baseTable?: string,
  budget: CostBudget = clientBudget(caller),
  /** false: `~` on searchable fields runs as a plain LIKE, without the index narrowing first (see record-reader.ts). */
  narrowSearch = true,
): Sql | null {
  const expr = query.filter;
  if (!expr) return null;
  return compileClientExpr(ctx, collection, expr, caller, { baseTable, budget, narrowSearch, param: 'filter' });
}

/**
 * An expression made from a checked client query (its filter; the predicate of its `search`,
 * search-plan.ts) compiled with everything the caller may and may not do; errors are 400s
 * naming `param`.
 */
export function compileClientExpr(
  ctx: QueryContext,
  collection: CollectionModel,
  expr: Expr,
  caller: Caller,
  options: { baseTable?: string; budget?: CostBudget; narrowSearch: boolean; param: 'filter' | 'search' },
): Sql {
  try {
    return compileFilter(expr, {
      schema: ctx.schema,
      now: new Date(ctx.clock.now()),
      collection,
      dialect: options.narrowSearch ? ctx.db.filter : withoutSearchNarrowing(ctx.db.filter),
      request: caller.info,
      allowHiddenFields: caller.can.seesHidden,
      allowSuperuserIdentifiers: caller.can.queriesAnyCollection,
      budget: options.budget ?? clientBudget(caller),
      canEnter: canWalkInto(caller),
      baseTable: options.baseTable,
    }, ROOT);
  } catch (err) {
    if (err instanceof FilterResolveError) invalidClientExpr(err, options.param);
    throw err;
  }
}

const plainDialects = new WeakMap<FilterDialect, FilterDialect>();

/** `dialect` with no substring-index narrowing (`~` compiles to the LIKE alone). */
function withoutSearchNarrowing(dialect: FilterDialect): FilterDialect {
  if (!dialect.searchNarrow) return dialect;
  let plain = plainDialects.get(dialect);
  if (!plain) {
    plain = Object.create(dialect, { searchNarrow: { value: undefined } }) as FilterDialect;
    plainDialects.set(dialect, plain);
  }
  return plain;
}

/** Whether the record `id` of `collection` satisfies `rule` for `caller` (superusers: always). */
export async function ruleAllows(ctx: QueryContext, collection: CollectionModel, id: string, rule: ParsedRule, caller: Caller): Promise<boolean> {
  const predicate = rulePredicate(ctx, collection, rule, caller);
  const where = and([sql`${sql.ref(`${ROOT}.id`)} = ${ctx.db.filter.param(id, 'text')}`, predicate]);
  const rows = await ctx.db.rows(sql`SELECT 1 AS ${sql.id('ok')} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${where!} LIMIT 1`);
  return rows.length > 0;
}

export function and(parts: (Sql | null)[]): Sql | null {
  const present = parts.filter((p): p is Sql => p !== null);
  if (present.length === 0) return null;
  return present.length === 1 ? present[0] : sql`(${sql.join(present, sql` AND `)})`;
}

export interface SortPlan {
  joins: Sql[];
  orderBy: Sql;
  /**
   * The ORDER BY as terms a keyset condition can follow (page-anchors.ts): only when every term
   * is a column of the row itself that cannot be NULL, so comparing with `<`/`>` orders rows
   * exactly as ORDER BY does; null otherwise (a relation path, JSON, `@random`, a view).
   */
  keyset: KeysetTerm[] | null;
  /** Whether a term is a search's `@rank`. */
  ranked: boolean;
}

/**
 * The ORDER BY of `sort` (relation paths join single records only; rowid breaks ties). `rank`:
 * the score of a `search` (search-plan.ts), which `@rank` sorts by and an empty sort means
 * (`-@rank`, best first); without it `@rank` is a 400.
 */
export function sortPlan(ctx: QueryContext, collection: CollectionModel, query: ClientQuery, caller: Caller, rank: Sql | null = null): SortPlan {
  const d = ctx.db.filter;
  const scope = new JoinScope(d, ROOT, '__s');
  const terms: Sql[] = [];
  const tieBreaker = collection.isView ? sql.ref(`${ROOT}.id`) : d.rowid(ROOT);
  let keyset: KeysetTerm[] | null = collection.isView ? null : [];
  let ranked = false;
  const sorts = parseSortParam(query.sort || (rank ? '-@rank' : ''));
  for (const { field, desc } of sorts) {
    const dir = sql.raw(desc ? 'DESC' : 'ASC');
    if (field === '@rank') {
      if (!rank) throw badRequest(MESSAGES.invalidSort, { sort: fieldError('validation_invalid_sort_field', '@rank sorts by the score of a search: it needs the search parameter.') });
      terms.push(sql`${rank} ${dir}`);
      keyset = null;
      ranked = true;
      continue;
    }
    if (field === '@random') {
      terms.push(d.random());
      keyset = null;
      continue;
    }
    if (field === '@rowid') {
      terms.push(sql`${tieBreaker} ${dir}`);
      keyset?.push({ expr: tieBreaker, desc, kind: 'rowid' });
      continue;
    }
    try {
      const path = walkPath(collection, field.split('.'), [], { schema: ctx.schema, allowHidden: caller.can.seesHidden, nullifyMissing: false, canEnter: canWalkInto(caller) });
      if (!path || path.multi) throw new FilterResolveError(`"${field}" has several values per record and cannot be sorted by`);
      const operand = scope.render(path, ROOT);
      const key = d.sortKey(operand.as(operand.kind), operand.kind);
      terms.push(sql`${key} ${dir}`);
      const notNull = path.steps.length === 0 && path.leaf.type === 'column' && !path.lower && !path.emailGuard && path.leaf.kind !== 'json' && path.leaf.field.type !== 'json';
      const kind = path.leaf.type === 'column' ? path.leaf.kind : 'json';
      if (notNull && (kind === 'text' || kind === 'number' || kind === 'bool')) keyset?.push({ expr: key, desc, kind });
      else keyset = null;
    } catch (err) {
      if (err instanceof FilterResolveError) {
        throw badRequest(MESSAGES.invalidSort, { sort: fieldError('validation_invalid_sort_field', err.message) });
      }
      throw err;
    }
  }
  // Ties follow the last term's direction: an index on that term, read backwards for DESC, then
  // gives the whole order (SQLite stores an index's equal keys by rowid), with no sort step.
  const lastDesc = sorts.at(-1)?.desc ?? false;
  terms.push(lastDesc ? sql`${tieBreaker} DESC` : tieBreaker);
  keyset?.push({ expr: tieBreaker, desc: lastDesc, kind: 'rowid' });
  return { joins: scope.joins, orderBy: sql.join(terms), keyset, ranked };
}
