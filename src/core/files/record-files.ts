/**
 * The files of records, kept in step with the transactions that write the records (spec §1.7
 * layout `<collectionId>/<recordId>/<name>`, thumbnails under `thumbs_<name>/`):
 *
 * - new uploads are stored during the write transaction, and removed again if it rolls back
 *   (the write's own failure, a later failure of a batch sharing the transaction, or the commit
 *   itself failing): no orphans;
 * - files a write replaces or removes, and the folders of deleted records and collections, are
 *   deleted only after the commit: a write that fails never loses a stored file.
 *
 * Storage errors after the commit are logged, not thrown: the write has happened.
 */
import type { CollectionModel } from '../collections/collection-model.js';
import { badRequest, fieldError } from '../errors.js';
import type { Tx } from '../events/transaction.js';
import type { FileStorage, Logger } from '../ports.js';
import type { RecordModel } from '../records/record.js';
import { valuesOf } from '../collections/fields/multi-value.js';
import { isSafeStorageKey } from './storage-key.js';
import type { PendingUpload } from './upload-plan.js';

export const recordFolder = (collectionId: string, recordId: string) => `${collectionId}/${recordId}`;
export const thumbsFolder = (collectionId: string, recordId: string, name: string) => `${collectionId}/${recordId}/thumbs_${name}`;

const hasFileFields = (c: CollectionModel) => c.fields.some((f) => f.type === 'file');

export class RecordFiles {
  constructor(
    readonly storage: FileStorage,
    private readonly logger: Logger,
  ) {}

  /**
   * Stores `uploads` as files of the record `recordId` (inside the write transaction `tx`).
   * Whatever was stored is removed if the transaction rolls back, which a storage error here
   * makes it do too (the error leaves the write).
   */
  async store(tx: Tx, collectionId: string, recordId: string, uploads: readonly PendingUpload[], failMessage: string): Promise<void> {
    if (uploads.length === 0) return;
    const folder = recordFolder(collectionId, recordId);
    // The id was validated by its field; the key check is what storage itself would refuse.
    if (!isSafeStorageKey(folder)) throw badRequest(failMessage, { id: fieldError('validation_invalid_value', 'Invalid value.') });
    const stored: string[] = [];
    // Only what this write stored: the id may be another record's (a taken custom id), whose
    // files must stay. (Local disk removes a folder its last delete leaves empty.)
    tx.onRollback(() => this.removeNow(stored));
    for (const upload of uploads) {
      const key = `${folder}/${upload.name}`;
      await this.storage.put(key, upload.data, upload.type.mime);
      stored.push(key);
    }
  }

  /** Deletes files `names` of a record (and their thumbnails) once `tx` has committed. */
  deleteAfterCommit(tx: Tx, collectionId: string, recordId: string, names: readonly string[]): void {
    if (names.length === 0) return;
    tx.afterCommit(async () => {
      for (const name of names) {
        // Names come from stored values: never let one that is not a plain name reach storage.
        if (name === '' || name.includes('/') || name.includes('\\') || !isSafeStorageKey(`${collectionId}/${recordId}/${name}`)) continue;
        await this.quietly(() => this.storage.delete(`${collectionId}/${recordId}/${name}`));
        await this.quietly(() => this.storage.deletePrefix(thumbsFolder(collectionId, recordId, name)));
      }
    });
  }

  /**
   * Deletes the files of deleted records (cascades included) once `tx` has committed: the files
   * they held, not their whole folder — a later write in the same transaction (a batch deleting
   * a record and creating one with the same id) may have stored new files there.
   */
  deleteRecordsAfterCommit(tx: Tx, records: readonly RecordModel[], except?: string): void {
    for (const r of records) {
      if (r.collection.id === except || !hasFileFields(r.collection)) continue;
      const names = r.collection.fields.filter((f) => f.type === 'file').flatMap((f) => valuesOf(r.values[f.name]));
      this.deleteAfterCommit(tx, r.collection.id, String(r.values.id), names);
    }
  }

  /** Deletes every file of a collection once `tx` has committed (collection delete, truncate). */
  deleteCollectionAfterCommit(tx: Tx, collectionId: string): void {
    if (!isSafeStorageKey(collectionId)) return;
    tx.afterCommit(() => this.quietly(() => this.storage.deletePrefix(collectionId)));
  }

  private async removeNow(keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.quietly(() => this.storage.delete(key));
  }

  private async quietly(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.error({ err }, 'file storage cleanup failed');
    }
  }
}
