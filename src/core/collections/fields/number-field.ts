import { fieldError } from '../../errors.js';
import { optNumber, toNumber } from './coerce.js';
import { requiredError, type FieldType } from './field-type.js';

export const numberField: FieldType = {
  type: 'number',
  defaults: { required: false, min: null, max: null, onlyInt: false },

  checkOptions(field, issues) {
    for (const key of ['min', 'max'] as const) {
      const v = field[key];
      if (v !== null && v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
        issues.add(key, fieldError('validation_invalid_value', 'Must be a number or null.'));
      } else if (field.onlyInt && typeof v === 'number' && !Number.isInteger(v)) {
        issues.add(key, fieldError('validation_only_int_constraint', 'Decimal numbers are not allowed.'));
      }
    }
    const min = optNumber(field.min);
    const max = optNumber(field.max);
    if (min !== null && max !== null && max < min) {
      issues.add('max', fieldError('validation_min_greater_equal_than_required', `Must be no less than ${min}.`));
    }
  },

  column: () => ({ kind: 'number', nullable: false, default: 0 }),
  isMultiple: () => false,
  zero: () => 0,
  prepare: (_field, raw) => toNumber(raw),

  validate(field, value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return fieldError('validation_not_a_number', 'The submitted number is not properly formatted.');
    }
    if (value === 0) return field.required ? requiredError() : null;
    if (field.onlyInt && !Number.isInteger(value)) {
      return fieldError('validation_only_int_constraint', 'Decimal numbers are not allowed.');
    }
    const min = optNumber(field.min);
    if (min !== null && value < min) return fieldError('validation_min_number_constraint', `Must be larger than ${min}.`, { min });
    const max = optNumber(field.max);
    if (max !== null && value > max) return fieldError('validation_max_number_constraint', `Must be less than ${max}.`, { max });
    return null;
  },

  toDb: (_field, value) => value,
  fromDb: (_field, raw) => {
    const n = typeof raw === 'number' ? raw : Number(raw);
    return Number.isFinite(n) ? n : 0;
  },
};
