/**
 * What the file parts of a write ask for (spec §1.2): parts named `field` (set; merged after any
 * filenames the body lists under the same key), `field+` (append) and `+field` (prepend) of file
 * fields. Each part gets its stored name and its detected type before the write transaction
 * opens (detection is async and needs no lock); the body then refers to uploads by stored name,
 * so the body modifiers treat them like any other filename. Only the uploads still in the final
 * value are validated and stored (a single-file field keeps the last one, as PocketBase does).
 */
import type { CollectionModel } from '../model/collection-model.js';
import { DEFAULT_FILE_MAX_SIZE } from '../collections/fields/file-field.js';
import { valuesOf } from '../collections/fields/multi-value.js';
import type { Field } from '../model/collection-types.js';
import { fieldError, type ErrorData } from '../errors.js';
import type { RecordValues } from '../model/record-model.js';
import { detectFileType, mimeTypeAllowed, type DetectedType } from './detect-file-type.js';
import { storedFileName } from './stored-file-name.js';
import type { UploadedFile } from './uploaded-file.js';

export interface PendingUpload {
  field: Field;
  /** The stored name (`logo_vcfJJG5TAh.svg`). */
  name: string;
  /** The client's name, for error messages only. */
  original: string;
  data: Buffer;
  type: DetectedType;
  /** Larger than the request reader kept (see UploadedFile.oversize): always over maxSize. */
  oversize: boolean;
}

export interface UploadPlan {
  /** Stored names by body key (`doc`, `doc+`, `+doc`), in the order the parts came. */
  readonly keys: ReadonlyMap<string, readonly string[]>;
  /** Every upload, by stored name. */
  readonly uploads: ReadonlyMap<string, PendingUpload>;
  /** Parts that cannot be uploads (unknown field, not a file field, empty). */
  readonly errors: ErrorData;
}

export const NO_UPLOADS: UploadPlan = { keys: new Map(), uploads: new Map(), errors: {} };

function fieldNameOf(key: string): { name: string; modifier: 'set' | 'append' | 'prepend' | 'other' } {
  if (key.startsWith('+')) return { name: key.slice(1), modifier: 'prepend' };
  if (key.endsWith('+')) return { name: key.slice(0, -1), modifier: 'append' };
  if (key.endsWith('-') || key.includes(':')) return { name: key.replace(/-$|:.*$/, ''), modifier: 'other' };
  return { name: key, modifier: 'set' };
}

export async function planUploads(collection: CollectionModel, files: readonly UploadedFile[]): Promise<UploadPlan> {
  if (files.length === 0) return NO_UPLOADS;
  const keys = new Map<string, string[]>();
  const uploads = new Map<string, PendingUpload>();
  const errors: ErrorData = {};
  for (const file of files) {
    const { name, modifier } = fieldNameOf(file.field);
    const field = collection.fields.find((f) => f.name === name);
    if (!field) {
      errors[file.field] ??= fieldError('validation_unknown_field', `Unknown field "${file.field}".`);
      continue;
    }
    if (field.type !== 'file') {
      errors[file.field] ??= fieldError('validation_invalid_value', `"${field.name}" is not a file field: it does not take uploaded files.`);
      continue;
    }
    if (modifier === 'other') {
      errors[file.field] ??= fieldError('validation_invalid_value', `Files are uploaded as "${name}", "${name}+" or "+${name}".`);
      continue;
    }
    if (file.data.length === 0) {
      errors[field.name] ??= fieldError('validation_file_empty', `Failed to upload "${file.filename}" - the file is empty.`, { file: file.filename });
      continue;
    }
    const type = await detectFileType(file.data);
    const stored = storedFileName(file.filename, type.ext);
    uploads.set(stored, { field, name: stored, original: file.filename, data: file.data, type, oversize: file.oversize === true });
    const list = keys.get(file.field) ?? [];
    list.push(stored);
    keys.set(file.field, list);
  }
  return { keys, uploads, errors };
}

/** The uploads the final values keep (those to validate and store). */
export function keptUploads(collection: CollectionModel, values: RecordValues, plan: UploadPlan): PendingUpload[] {
  if (plan.uploads.size === 0) return [];
  const kept: PendingUpload[] = [];
  for (const field of collection.fields) {
    if (field.type !== 'file') continue;
    for (const name of valuesOf(values[field.name])) {
      const upload = plan.uploads.get(name);
      if (upload && upload.field === field) kept.push(upload);
    }
  }
  return kept;
}

/** Size and type of each kept upload, with PocketBase's codes; one error per field. */
export function checkUploads(uploads: readonly PendingUpload[], errors: ErrorData): void {
  for (const upload of uploads) {
    const field = upload.field;
    if (errors[field.name]) continue;
    const maxSize = typeof field.maxSize === 'number' && field.maxSize > 0 ? field.maxSize : DEFAULT_FILE_MAX_SIZE;
    if (upload.oversize || upload.data.length > maxSize) {
      // PocketBase's validators.UploadedFileSize: the name unquoted, cut at 300 characters.
      const file = upload.original.length > 300 ? `${upload.original.slice(0, 300)}...` : upload.original;
      errors[field.name] = fieldError('validation_file_size_limit', `Failed to upload ${file} - the maximum allowed file size is ${maxSize} bytes.`, {
        file,
        maxSize,
      });
      continue;
    }
    const allowed = Array.isArray(field.mimeTypes) ? (field.mimeTypes as unknown[]).filter((m): m is string => typeof m === 'string' && m !== '') : [];
    if (allowed.length > 0 && !mimeTypeAllowed(upload.type.mime, allowed)) {
      errors[field.name] = fieldError('validation_invalid_mime_type', `"${upload.name}" mime type must be one of: ${allowed.join(', ')}.`);
    }
  }
}
