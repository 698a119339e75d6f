import { fieldError } from '../../errors.js';
import { normalizeDate } from '../../time.js';
import { optString } from './coerce.js';
import { plainTextStorage } from './text-storage.js';
import { INVALID, requiredError, type FieldType } from './field-type.js';

export const dateField: FieldType = {
  type: 'date',
  defaults: { required: false, min: '', max: '' },
  checkOptions(field, issues) {
    for (const key of ['min', 'max'] as const) {
      const normalized = normalizeDate(field[key] ?? '');
      if (normalized === null) issues.add(key, fieldError('validation_invalid_date', 'Must be a valid date.'));
      else field[key] = normalized;
    }
    const min = optString(field.min);
    const max = optString(field.max);
    if (min !== '' && max !== '' && max < min) {
      issues.add('max', fieldError('validation_min_greater_equal_than_required', 'Must be after min.'));
    }
  },
  ...plainTextStorage,
  prepare: (_field, raw) => normalizeDate(raw) ?? INVALID,
  validate(field, value) {
    if (typeof value !== 'string') return fieldError('validation_invalid_date', 'Must be a valid date.');
    if (value === '') return field.required ? requiredError() : null;
    const min = optString(field.min);
    if (min !== '' && value < min) return fieldError('validation_min_greater_equal_than_required', `Must be no earlier than ${min}.`, { min });
    const max = optString(field.max);
    if (max !== '' && value > max) return fieldError('validation_max_less_equal_than_required', `Must be no later than ${max}.`, { max });
    return null;
  },
};

/** `created`/`updated`-style timestamps: set by the server on create and/or update, never by clients. */
export const autodateField: FieldType = {
  type: 'autodate',
  defaults: { onCreate: true, onUpdate: false },
  checkOptions(field, issues) {
    for (const key of ['onCreate', 'onUpdate'] as const) {
      if (field[key] !== undefined && typeof field[key] !== 'boolean') {
        issues.add(key, fieldError('validation_invalid_value', 'Must be a boolean.'));
      }
    }
    if (!field.onCreate && !field.onUpdate) {
      issues.add('onCreate', fieldError('validation_required', 'Enable onCreate, onUpdate or both.'));
    }
  },
  ...plainTextStorage,
  prepare: (_field, raw) => normalizeDate(raw) ?? INVALID,
  validate: () => null,
};
