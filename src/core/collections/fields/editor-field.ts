import { fieldError } from '../../errors.js';
import { optNumber, toText } from './coerce.js';
import { plainTextStorage } from './text-storage.js';
import { requiredError, type FieldType } from './field-type.js';

/** Editor content without an explicit `maxSize` is capped at 5 MiB (bytes of UTF-8). */
export const DEFAULT_EDITOR_MAX_SIZE = 5 << 20;

export const editorField: FieldType = {
  type: 'editor',
  defaults: { required: false, maxSize: 0, convertURLs: false },
  // `searchable: true` keeps a substring index for `~` on the field (core/collections/search-indexes.ts).
  optionalKeys: ['searchable'],
  checkOptions(field, issues) {
    const v = field.maxSize ?? 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      issues.add('maxSize', fieldError('validation_invalid_value', 'Must be a non-negative integer.'));
    }
  },
  ...plainTextStorage,
  prepare: (_field, raw) => toText(raw),
  validate(field, value) {
    if (typeof value !== 'string') return fieldError('validation_invalid_value', 'Invalid value.');
    if (value === '') return field.required ? requiredError() : null;
    const max = optNumber(field.maxSize) || DEFAULT_EDITOR_MAX_SIZE;
    if (Buffer.byteLength(value) > max) {
      return fieldError('validation_content_size_limit', `The maximum allowed content size is ${max} bytes.`, { maxSize: max });
    }
    return null;
  },
};
