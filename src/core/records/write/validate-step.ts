/**
 * Step 5, validate: every field's value (PocketBase's validation codes), the auth fields, the
 * uploads the record keeps and the records its relations name. One 400 carries every error found,
 * the body's own included.
 */
import { badRequest } from '../../errors.js';
import { checkRelations, validateValues } from '../record-validation.js';
import { checkAuthFields } from './auth-fields-step.js';
import { checkFiles } from './files-step.js';
import { checkStateChange } from './workflow-step.js';
import type { WriteContext, WriterDeps } from './write-context.js';

export async function validateWrite(w: WriteContext, deps: WriterDeps): Promise<void> {
  const isNew = w.action === 'create';
  validateValues(w.collection, w.record.values, isNew, w.previous?.values ?? null, w.errors);
  checkFiles(w);
  checkAuthFields(w);
  checkStateChange(w);
  await checkRelations(w.tx.db, deps.schema, w.collection, w.record.values, w.touched, w.errors);
  if (Object.keys(w.errors).length > 0) throw badRequest(w.failMessage, w.errors);
}
