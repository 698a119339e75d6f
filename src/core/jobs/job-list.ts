/**
 * `GET /api/jobs`: `_jobs` as a paginated list, filterable and sortable with the ordinary filter
 * language. Like the collections list (collection-list.ts), the internal table is seen through a
 * synthetic collection model and the client-query gate, so a filter compiles with the same checks
 * and cost bounds as a records filter; only the columns below exist for it.
 */
import { sql } from 'kysely';
import { makeField } from '../collections/scaffolds.js';
import { internalTableModel } from '../collections/internal-table-model.js';
import type { Caller } from '../records/caller.js';
import { checkClientQuery } from '../records/client-query.js';
import { parseListParams } from '../records/list-params.js';
import { and, filterPredicate, ROOT, sortPlan, type QueryContext } from '../records/record-query.js';
import type { ListResult } from '../records/record-reader.js';
import { jobToJson } from './job-json.js';
import { JOBS_TABLE, type JobRow } from './job-store.js';
import type { JobJson } from './job-types.js';

const JOBS_MODEL = internalTableModel(JOBS_TABLE, [
    makeField('text', 'id'),
    makeField('text', 'name'),
    makeField('text', 'state'),
    makeField('number', 'priority'),
    makeField('date', 'runAt'),
    makeField('number', 'attempts'),
    makeField('number', 'maxAttempts'),
    makeField('text', 'lockedBy'),
    makeField('date', 'lockedUntil'),
    makeField('text', 'lastError'),
    makeField('text', 'key'),
    makeField('date', 'created'),
    makeField('date', 'updated'),
    makeField('date', 'finished'),
]);

const COLUMNS = ['id', 'name', 'payload', 'state', 'priority', 'runAt', 'attempts', 'maxAttempts', 'lockedBy', 'lockedUntil', 'lastError', 'lastStack', 'key', 'created', 'updated', 'finished'];

/** `?filter=`, `?sort=` (default `-created`), `?page=`, `?perPage=`, `?skipTotal=` over `_jobs`. */
export async function listJobs(ctx: QueryContext, query: Record<string, string | undefined>, caller: Caller): Promise<ListResult<JobJson>> {
  const params = parseListParams(query);
  const schema = { find: (idOrName: string) => (idOrName === JOBS_TABLE ? JOBS_MODEL : undefined), all: () => [JOBS_MODEL] };
  const qctx = { ...ctx, schema };
  const checked = checkClientQuery({ ...query, sort: params.sort || '-created' }, caller);
  const where = and([filterPredicate(qctx, JOBS_MODEL, checked, caller)]) ?? sql`1=1`;
  const sort = sortPlan(qctx, JOBS_MODEL, checked, caller);
  const table = sql`${sql.id(JOBS_TABLE)} AS ${sql.id(ROOT)}`;
  const columns = sql.join(COLUMNS.map((c) => sql.ref(`${ROOT}.${c}`)));
  const offset = (params.page - 1) * params.perPage;
  const [rows, total] = await Promise.all([
    ctx.db.rows<JobRow>(sql`SELECT ${columns} FROM ${table} WHERE ${where} ORDER BY ${sort.orderBy} LIMIT ${params.perPage} OFFSET ${offset}`),
    params.skipTotal ? Promise.resolve(-1) : ctx.db.rows<{ n: number }>(sql`SELECT COUNT(*) AS ${sql.id('n')} FROM ${table} WHERE ${where}`).then((r) => Number(r[0]?.n ?? 0)),
  ]);
  return {
    page: params.page,
    perPage: params.perPage,
    totalItems: total,
    totalPages: total < 0 ? -1 : Math.ceil(total / params.perPage),
    items: rows.map(jobToJson),
  };
}
