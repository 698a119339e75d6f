/**
 * `GET /api/collections`: the collection definitions as a paginated list, filterable and
 * sortable by id, created, updated, name, system and type with the ordinary filter language.
 */
import type { Caller } from '../records/caller.js';
import type { QueryContext } from '../records/record-query.js';
import { listInternalTable } from './internal-table-list.js';
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
  const list = await listInternalTable<{ id: string }>(ctx, CATALOGUE, query, caller, { defaultSort: 'created', columns: ['id'] });
  return { ...list, items: list.items.map((r) => find(r.id)).filter((c): c is Collection => c !== undefined) };
}
