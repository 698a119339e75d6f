import { fieldError } from '../../errors.js';
import { isPlainObject, optNumber, parseStoredJson } from './coerce.js';
import { requiredError, type FieldType } from './field-type.js';

/** JSON values without an explicit `maxSize` are capped at 1 MiB of serialized text. */
export const DEFAULT_JSON_MAX_SIZE = 1 << 20;

function isEmptyJson(value: unknown): boolean {
  if (value === null || value === undefined || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return false;
}

export const jsonField: FieldType = {
  type: 'json',
  defaults: { required: false, maxSize: 0 },
  checkOptions(field, issues) {
    const v = field.maxSize ?? 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      issues.add('maxSize', fieldError('validation_invalid_value', 'Must be a non-negative integer.'));
    }
  },
  column: () => ({ kind: 'json', nullable: true, default: null }),
  isMultiple: () => false,
  zero: () => null,
  prepare(_field, raw) {
    if (raw === undefined) return null;
    // Form bodies carry JSON as text: parse it when it is valid JSON, otherwise keep the string
    // (PocketBase does the same, so `{"a":1}` typed into a form field becomes an object).
    if (typeof raw === 'string') {
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    }
    return raw;
  },
  validate(field, value) {
    if (isEmptyJson(value)) return field.required ? requiredError() : null;
    const max = optNumber(field.maxSize) || DEFAULT_JSON_MAX_SIZE;
    const text = JSON.stringify(value) ?? '';
    // PostgreSQL's jsonb cannot hold NUL: refuse it on every engine, as text fields do.
    if (text.includes('\\u0000')) return fieldError('validation_invalid_value', 'Text cannot contain NUL characters.');
    const size = Buffer.byteLength(text);
    if (size > max) return fieldError('validation_json_size_limit', `The maximum allowed JSON size is ${max} bytes.`, { maxSize: max });
    return null;
  },
  toDb: (_field, value) => (value === null || value === undefined ? null : JSON.stringify(value)),
  fromDb: (_field, raw) => parseStoredJson(raw, null),
};
