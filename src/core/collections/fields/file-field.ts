import { fieldError } from '../../errors.js';
import { optStrings } from './coerce.js';
import type { FieldType } from './field-type.js';
import { optNumber } from './coerce.js';
import { requiredError } from './field-type.js';
import { checkMaxSelectOption, valuesOf, multiValueStorage } from './multi-value.js';

/** Upload size cap when the field sets none (PocketBase's default). */
export const DEFAULT_FILE_MAX_SIZE = 5 << 20;

/** Thumb sizes of spec §1.7: WxH, WxHt, WxHb, WxHf, 0xH, Wx0. */
export const THUMB_SIZE = /^(\d+)x(\d+)([tbf])?$/;

export const fileField: FieldType = {
  type: 'file',
  defaults: { required: false, maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: [], protected: false },
  checkOptions(field, issues) {
    checkMaxSelectOption(field, issues);
    const maxSize = field.maxSize ?? 0;
    if (typeof maxSize !== 'number' || !Number.isInteger(maxSize) || maxSize < 0) {
      issues.add('maxSize', fieldError('validation_invalid_value', 'Must be a non-negative integer.'));
    }
    if (field.mimeTypes !== undefined && field.mimeTypes !== null && (!Array.isArray(field.mimeTypes) || optStrings(field.mimeTypes).length !== field.mimeTypes.length)) {
      issues.add('mimeTypes', fieldError('validation_invalid_value', 'Must be a list of MIME types.'));
    }
    const thumbs = field.thumbs ?? [];
    if (!Array.isArray(thumbs) || thumbs.some((t) => typeof t !== 'string' || !THUMB_SIZE.test(t) || t.startsWith('0x0'))) {
      issues.add('thumbs', fieldError('validation_invalid_thumb_size', 'Thumb sizes look like 100x100, 100x100t, 100x100b, 100x100f, 0x100 or 100x0.'));
    }
    if (field.protected !== undefined && typeof field.protected !== 'boolean') {
      issues.add('protected', fieldError('validation_invalid_value', 'Must be a boolean.'));
    }
  },
  ...multiValueStorage,
  // Uploads (size, type) are checked by core/files/upload-plan.ts: the value holds names only.
  validate(field, value) {
    const files = valuesOf(value);
    if (files.length === 0) return field.required ? requiredError() : null;
    const max = Math.max(optNumber(field.maxSelect) ?? 1, 1);
    // PocketBase's own code for files (not validation_too_many_values).
    if (files.length > max) return fieldError('validation_too_many_files', `The maximum allowed files is ${max}.`, { maxSelect: max });
    return null;
  },
};
