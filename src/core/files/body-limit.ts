/**
 * How large a record create/update body may be (PocketBase's dynamicCollectionBodyLimit): the
 * server-wide limit plus, for each file field, room for its largest allowed uploads
 * (maxSize × maxSelect). Without it a field allowing 100 MiB files could never receive one.
 */
import type { CollectionModel } from '../collections/collection-model.js';
import { DEFAULT_FILE_MAX_SIZE } from '../collections/fields/file-field.js';

export function recordBodyLimit(collection: CollectionModel, baseLimit: number): number {
  if (collection.isView) return baseLimit;
  let limit = baseLimit;
  for (const f of collection.fields) {
    if (f.type !== 'file') continue;
    const maxSize = typeof f.maxSize === 'number' && f.maxSize > 0 ? f.maxSize : DEFAULT_FILE_MAX_SIZE;
    const maxSelect = typeof f.maxSelect === 'number' && f.maxSelect > 1 ? f.maxSelect : 1;
    limit += maxSize * maxSelect;
  }
  return limit;
}
