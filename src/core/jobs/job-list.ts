/**
 * `GET /api/jobs`: `_jobs` as a paginated list, filterable and sortable with the ordinary filter
 * language. Like the collections list (collection-list.ts), the internal table is seen through a
 * synthetic collection model and the client-query gate, so a filter compiles with the same checks
 * and cost bounds as a records filter; only the columns below exist for it.
 */
import { makeField } from '../collections/scaffolds.js';
import { internalTableModel } from '../collections/internal-table-model.js';
import type { Caller } from '../records/caller.js';
import type { QueryContext } from '../records/record-query.js';
import { listInternalTable } from '../collections/internal-table-list.js';
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
  const list = await listInternalTable<JobRow>(ctx, JOBS_MODEL, query, caller, { defaultSort: '-created', columns: COLUMNS });
  return { ...list, items: list.items.map(jobToJson) };
}
