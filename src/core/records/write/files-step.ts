/**
 * Step 3, files: uploads are planned from the file parts and stored ahead of the transaction
 * (RecordFiles.stage: storage time never holds the write lock); inside it, the uploads the final
 * values keep are checked, committed with the record, and the files it drops are deleted once
 * the write commits.
 */
import type { Tx } from '../../events/transaction.js';
import { checkUploads, keptUploads, planUploads } from '../../files/upload-plan.js';
import { valuesOf } from '../../collections/fields/multi-value.js';
import type { WriteContext, WriterDeps } from './write-context.js';

/** Reads the file parts into an upload plan (their names, types and sizes). */
export async function planFiles(w: WriteContext): Promise<void> {
  w.uploads = await planUploads(w.collection, w.input.files ?? []);
}

/**
 * Stores the planned uploads before the transaction; none when the body already has errors
 * (the write will fail). Inside a shared transaction (`outer`, a batch) its rollback removes them.
 */
export async function stageFiles(w: WriteContext, deps: WriterDeps, recordId: string, outer: Tx | undefined): Promise<void> {
  const failing = Object.keys(w.errors).length > 0 || Object.keys(w.uploads.errors).length > 0;
  const uploads = failing ? [] : w.uploads.uploads.values();
  w.staged = await deps.files.stage(w.collection.id, recordId, uploads, w.failMessage, outer);
}

/** Size and type errors of the uploads the final values keep. */
export function checkFiles(w: WriteContext): void {
  checkUploads(keptUploads(w.collection, w.record.values, w.uploads), w.errors);
}

/** Commits the kept uploads with the transaction, and deletes the files an update dropped once it commits. */
export function commitFiles(w: WriteContext, deps: WriterDeps): void {
  if (w.staged) deps.files.keep(w.tx, w.staged, keptUploads(w.collection, w.record.values, w.uploads));
  if (w.action !== 'update' || !w.previous) return;
  const dropped: string[] = [];
  for (const f of w.collection.fields) {
    if (f.type !== 'file') continue;
    const kept = new Set(valuesOf(w.record.values[f.name]));
    for (const name of valuesOf(w.previous.values[f.name])) if (!kept.has(name)) dropped.push(name);
  }
  // The replaced and removed files go only once the new value is committed.
  deps.files.deleteAfterCommit(w.tx, w.collection.id, String(w.record.values.id), dropped);
}
