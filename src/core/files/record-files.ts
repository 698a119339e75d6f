/**
 * The files of records, kept in step with the transactions that write the records (spec §1.7
 * layout `<collectionId>/<recordId>/<name>`, thumbnails under `thumbs_<name>/`):
 *
 * - new uploads are stored just before the write transaction (never holding its locks), and
 *   removed again if the write fails (its own failure, a later failure of a batch sharing the
 *   transaction, or the commit itself failing): no orphans;
 * - files a write replaces or removes, and the folders of deleted records and collections, are
 *   deleted only after the commit: a write that fails never loses a stored file.
 *
 * Storage errors after the commit are logged, not thrown: the write has happened.
 */
import type { CollectionModel } from '../model/collection-model.js';
import { badRequest, fieldError } from '../errors.js';
import type { Tx } from '../events/transaction.js';
import type { FileStorage, Logger } from '../ports.js';
import type { RecordModel } from '../model/record-model.js';
import { valuesOf } from '../collections/fields/multi-value.js';
import { isSafeStorageKey } from './storage-key.js';
import type { PendingUpload } from './upload-plan.js';

export const recordFolder = (collectionId: string, recordId: string) => `${collectionId}/${recordId}`;
export const thumbsFolder = (collectionId: string, recordId: string, name: string) => `${collectionId}/${recordId}/thumbs_${name}`;

const hasFileFields = (c: CollectionModel) => c.fields.some((f) => f.type === 'file');

/** Uploads stored ahead of their write (see RecordFiles.stage). */
export interface StagedUploads {
  readonly keys: readonly string[];
  /** Removes them (the write failed). */
  discard(): Promise<void>;
}

export class RecordFiles {
  constructor(
    readonly storage: FileStorage,
    private readonly logger: Logger,
  ) {}

  /**
   * Stores a write's uploads before its transaction opens, so storage time (a large file, a slow
   * bucket) never holds the database's write lock. Names are random: nothing can read them until
   * the record that names them commits. The caller discards them if the write fails; inside a
   * shared transaction (a batch), its rollback does.
   */
  async stage(collectionId: string, recordId: string, uploads: Iterable<PendingUpload>, failMessage: string, outer?: Tx): Promise<StagedUploads> {
    const list = [...uploads];
    const stored: string[] = [];
    const staged: StagedUploads = { keys: stored, discard: () => this.removeNow(stored.splice(0)) };
    if (list.length === 0) return staged;
    const folder = recordFolder(collectionId, recordId);
    // The id was validated by its field; the key check is what storage itself would refuse.
    if (!isSafeStorageKey(folder)) throw badRequest(failMessage, { id: fieldError('validation_invalid_value', 'Invalid value.') });
    outer?.onRollback(() => staged.discard());
    try {
      for (const upload of list) {
        const key = `${folder}/${upload.name}`;
        await this.storage.put(key, upload.data, upload.type.mime);
        stored.push(key);
      }
    } catch (err) {
      if (!outer) await staged.discard();
      throw err;
    }
    return staged;
  }

  /** Once `tx` commits, removes the staged uploads the record did not keep (a replaced single file, say). */
  keep(tx: Tx, staged: StagedUploads, kept: readonly PendingUpload[]): void {
    const keep = new Set(kept.map((u) => u.name));
    const extra = staged.keys.filter((key) => !keep.has(key.slice(key.lastIndexOf('/') + 1)));
    if (extra.length > 0) tx.afterCommit(() => this.removeNow(extra));
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
