/**
 * A paginated list of an internal table seen as a collection (internal-table-model.ts): the
 * client's filter and sort pass the client-query gate and compile against the model's columns,
 * with the same checks and cost bounds as a records list.
 */
import { sql } from 'kysely';
import type { Sql } from '../rules/filter-dialect.js';
import type { CollectionModel } from '../model/collection-model.js';
import type { Caller } from '../records/caller.js';
import { checkClientQuery } from '../records/client-query.js';
import { parseListParams } from '../records/list-params.js';
import { and, filterPredicate, ROOT, sortPlan, type QueryContext } from '../records/record-query.js';
import type { ListResult } from '../records/record-reader.js';

export interface InternalListOptions {
  /** Sort when the query names none (`created`, `-created`). */
  defaultSort: string;
  /** Columns read for each row. */
  columns: readonly string[];
  /** A condition of the caller's own on the rows (`__r` is the table's alias), e.g. one endpoint's deliveries. */
  where?: Sql;
}

/** `?filter=`, `?sort=`, `?page=`, `?perPage=`, `?skipTotal=` over the table of `model`; raw rows. */
export async function listInternalTable<Row>(ctx: QueryContext, model: CollectionModel, query: Record<string, string | undefined>, caller: Caller, options: InternalListOptions): Promise<ListResult<Row>> {
  const params = parseListParams(query);
  const qctx = { ...ctx, schema: { find: (idOrName: string) => (idOrName === model.id ? model : undefined), all: () => [model] } };
  const checked = checkClientQuery({ ...query, sort: params.sort || options.defaultSort }, caller);
  const where = and([options.where ?? null, filterPredicate(qctx, model, checked, caller)]) ?? sql`1=1`;
  const sort = sortPlan(qctx, model, checked, caller);
  const table = sql`${sql.id(model.table)} AS ${sql.id(ROOT)}`;
  const columns = sql.join(options.columns.map((c) => sql.ref(`${ROOT}.${c}`)));
  const offset = (params.page - 1) * params.perPage;
  const [rows, total] = await Promise.all([
    ctx.db.rows<Row>(sql`SELECT ${columns} FROM ${table} WHERE ${where} ORDER BY ${sort.orderBy} LIMIT ${params.perPage} OFFSET ${offset}`),
    params.skipTotal ? Promise.resolve(-1) : ctx.db.rows<{ n: number }>(sql`SELECT COUNT(*) AS ${sql.id('n')} FROM ${table} WHERE ${where}`).then((r) => Number(r[0]?.n ?? 0)),
  ]);
  return { page: params.page, perPage: params.perPage, totalItems: total, totalPages: total < 0 ? -1 : Math.ceil(total / params.perPage), items: rows };
}
