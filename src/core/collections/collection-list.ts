/**
 * `GET /api/collections`: the collection definitions as a paginated list, filterable and
 * sortable by id, created, updated, name, system and type with the ordinary filter language.
 */
import { sql } from 'kysely';
import type { Caller } from '../records/caller.js';
import { checkClientQuery } from '../records/client-query.js';
import { parseListParams } from '../records/list-params.js';
import { and, filterPredicate, ROOT, sortPlan, type QueryContext } from '../records/record-query.js';
import type { ListResult } from '../records/record-reader.js';
import { COLLECTIONS_TABLE } from './collection-store.js';
import { makeField } from './scaffolds.js';
import { internalTableModel } from './internal-table-model.js';
import type { Collection } from '../model/collection-types.js';

/** `_collections` seen as a collection with the filterable columns only. */
const CATALOGUE = internalTableModel(COLLECTIONS_TABLE, [
    makeField('text', 'id'),
    makeField('autodate', 'created'),
    makeField('autodate', 'updated'),
    makeField('text', 'name'),
    makeField('bool', 'system'),
    makeField('text', 'type'),
]);

export async function listCollections(
  ctx: QueryContext,
  query: Record<string, string | undefined>,
  caller: Caller,
  find: (id: string) => Collection | undefined,
): Promise<ListResult<Collection>> {
  const params = parseListParams(query);
  const schema = { find: (idOrName: string) => (idOrName === COLLECTIONS_TABLE ? CATALOGUE : undefined), all: () => [CATALOGUE] };
  const qctx = { ...ctx, schema };
  const checked = checkClientQuery({ ...query, sort: params.sort || 'created' }, caller);
  const where = and([filterPredicate(qctx, CATALOGUE, checked, caller)]) ?? sql`1=1`;
  const sort = sortPlan(qctx, CATALOGUE, checked, caller);
  const table = sql`${sql.id(COLLECTIONS_TABLE)} AS ${sql.id(ROOT)}`;
  const offset = (params.page - 1) * params.perPage;
  const [rows, total] = await Promise.all([
    ctx.db.rows<{ id: string }>(sql`SELECT ${sql.ref(`${ROOT}.id`)} AS ${sql.id('id')} FROM ${table} WHERE ${where} ORDER BY ${sort.orderBy} LIMIT ${params.perPage} OFFSET ${offset}`),
    params.skipTotal ? Promise.resolve(-1) : ctx.db.rows<{ n: number }>(sql`SELECT COUNT(*) AS ${sql.id('n')} FROM ${table} WHERE ${where}`).then((r) => Number(r[0]?.n ?? 0)),
  ]);
  return {
    page: params.page,
    perPage: params.perPage,
    totalItems: total,
    totalPages: total < 0 ? -1 : Math.ceil(total / params.perPage),
    items: rows.map((r) => find(r.id)).filter((c): c is Collection => c !== undefined),
  };
}
