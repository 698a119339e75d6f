/**
 * The one gate for client-supplied queries (ARCHITECTURE.md). A `filter`, `sort`, `search`,
 * `expand` or `fields` sent by a client — on a list or view, a record write's answer, a realtime
 * subscription's options, a batch sub-request, an auth answer — becomes a {@link ClientQuery}
 * for one caller here, and only here:
 * - `@collection.*` and `@request.*` in any query value are for principals that may query any
 *   collection (PocketBase refuses them to everyone but superusers, with the same 403);
 * - the filter is parsed, `search`, `expand` and `fields` are parsed and bounded;
 * - when the filter, sort and search are compiled (`filterPredicate`, `sortPlan`, `searchPlan`),
 *   hidden fields, e-mail visibility, API-key scopes and the cost budget of the caller apply. Those functions take a
 *   ClientQuery, which nothing but this module can make, so an entry point cannot hand client
 *   text to the compiler past these checks.
 */
import { badRequest, fieldError, forbidden, MESSAGES } from '../errors.js';
import type { Expr } from '../rules/ast.js';
import { FilterSyntaxError, parseFilter } from '../rules/parser.js';
import type { Caller } from './caller.js';
import { parseExpand, type ExpandTree } from './expand.js';
import { parseFields, type FieldsPicker } from './fields-picker.js';
import { parseSortParam } from './list-params.js';
import { parseSearchParam, type SearchTerms } from './search-terms.js';

declare const checked: unique symbol;

/** A client's query, checked for one caller by {@link checkClientQuery}. */
export interface ClientQuery {
  readonly [checked]: true;
  /** The filter as sent (cache keys, time-macro detection); empty for none. */
  readonly filterText: string;
  /** The parsed filter; null for none. */
  readonly filter: Expr | null;
  /** The sort as sent; its syntax is checked, its fields when compiled for a collection. */
  readonly sort: string;
  /** The `search` parameter of a list (Basalt's addition, search-terms.ts); null for none. */
  readonly search: SearchTerms | null;
  readonly expand: ExpandTree | null;
  readonly fields: FieldsPicker | null;
}

const SUPERUSER_ONLY = ['@collection.', '@request.'];

function invalidFilter(err: Error): never {
  throw badRequest(MESSAGES.invalidFilter, { filter: fieldError('validation_invalid_filter', err.message) });
}

// Clients repeat the same filters: keep their syntax trees (PocketBase caches 500 of them too).
const parsedFilters = new Map<string, Expr>();
const PARSED_FILTER_CACHE_SIZE = 500;

function parseClientFilter(filter: string): Expr | null {
  if (filter.trim() === '') return null;
  let expr = parsedFilters.get(filter);
  if (!expr) {
    try {
      expr = parseFilter(filter);
    } catch (err) {
      if (err instanceof FilterSyntaxError) invalidFilter(err);
      throw err;
    }
    if (parsedFilters.size >= PARSED_FILTER_CACHE_SIZE) parsedFilters.delete(parsedFilters.keys().next().value!);
    parsedFilters.set(filter, expr);
  }
  return expr;
}

/**
 * Checks every value of `query` for `caller` (403 for `@collection.*`/`@request.*`, as
 * PocketBase checks every query parameter) and parses `filter`, `sort`, `search`, `expand` and `fields`
 * (400s naming the parameter).
 */
export function checkClientQuery(query: Readonly<Record<string, string | undefined>>, caller: Caller): ClientQuery {
  if (!caller.can.queriesAnyCollection) {
    for (const value of Object.values(query)) {
      if (value !== undefined && SUPERUSER_ONLY.some((f) => value.includes(f))) throw forbidden(MESSAGES.superusersOnlyFilter);
    }
  }
  const sort = query.sort ?? '';
  // Most requests have no sort (every getOne): its syntax is checked only when there is one.
  if (sort !== '') parseSortParam(sort);
  const filterText = query.filter ?? '';
  return {
    filterText,
    filter: parseClientFilter(filterText),
    sort,
    search: parseSearchParam(query.search),
    expand: parseExpand(query.expand),
    fields: parseFields(query.fields),
  } as ClientQuery;
}

