/**
 * How large a record create/update body may be (PocketBase's dynamicCollectionBodyLimit): the
 * server-wide limit plus, for each file field, room for its largest allowed uploads
 * (maxSize × maxSelect). Without it a field allowing 100 MiB files could never receive one.
 */
import type { CollectionModel } from '../model/collection-model.js';
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

/**
 * Caps of one multipart part and of the number of file parts: no single upload larger than the
 * largest file the collection accepts, no more files than its fields could keep in all. They
 * bound what a request can make the server hold before the record is validated.
 */
export function recordUploadCaps(collection: CollectionModel): { maxFileSize: number; maxFiles: number } {
  let maxFiles = 0;
  for (const f of collection.fields) {
    if (f.type === 'file') maxFiles += typeof f.maxSelect === 'number' && f.maxSelect > 1 ? f.maxSelect : 1;
  }
  // A few spare file parts, so a request with one too many is told so by the field's own error.
  return { maxFileSize: largestUploadKept([collection]), maxFiles: maxFiles + 5 };
}

/**
 * Bytes of one file part worth keeping for `collections`: one more than their largest file
 * field's maxSize. A longer part is kept cut at that length and flagged oversize: it is over
 * every field's maxSize, so the size check refuses it with its own field error (a 400, as in
 * PocketBase) and the rest of it never sits in memory. A batch, whose target collections are
 * known only once its body is read, passes every collection.
 */
export function largestUploadKept(collections: Iterable<CollectionModel>): number {
  let largest = 0;
  for (const collection of collections) {
    for (const f of collection.fields) {
      if (f.type !== 'file') continue;
      largest = Math.max(largest, typeof f.maxSize === 'number' && f.maxSize > 0 ? f.maxSize : DEFAULT_FILE_MAX_SIZE);
    }
  }
  return largest + 1;
}
