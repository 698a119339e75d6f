import { fieldError } from '../../errors.js';
import { codePointLength, optNumber, optString, toText } from './coerce.js';
import { INVALID, requiredError, type FieldType } from './field-type.js';

/**
 * A submitted plain-text password, on its way to being hashed. The record engine validates the
 * plain text, hashes it before the write, and never lets the plain value reach storage or output.
 */
export class PasswordInput {
  constructor(readonly plain: string) {}
  toJSON(): string {
    return '';
  }
}

/** bcrypt reads at most 72 bytes; longer passwords would be silently truncated. */
export const PASSWORD_MAX_BYTES = 72;
export const DEFAULT_PASSWORD_COST = 10;

export const passwordField: FieldType = {
  type: 'password',
  defaults: { required: false, min: 0, max: 0, pattern: '', cost: 0 },
  checkOptions(field, issues) {
    const min = field.min ?? 0;
    const max = field.max ?? 0;
    if (typeof min !== 'number' || !Number.isInteger(min) || min < 0) {
      issues.add('min', fieldError('validation_invalid_value', 'Must be a non-negative integer.'));
    }
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > 71 || (max > 0 && typeof min === 'number' && max < min)) {
      issues.add('max', fieldError('validation_invalid_value', 'Must be between min and 71 (bcrypt reads 72 bytes at most).'));
    }
    const cost = field.cost ?? 0;
    if (typeof cost !== 'number' || (cost !== 0 && (!Number.isInteger(cost) || cost < 4 || cost > 31))) {
      issues.add('cost', fieldError('validation_invalid_value', 'Must be 0 (default) or a bcrypt cost between 4 and 31.'));
    }
    const pattern = field.pattern ?? '';
    if (typeof pattern !== 'string') issues.add('pattern', fieldError('validation_invalid_regex', 'Invalid regular expression.'));
    else if (pattern !== '') {
      try {
        new RegExp(pattern, 'u');
      } catch {
        issues.add('pattern', fieldError('validation_invalid_regex', 'Invalid regular expression.'));
      }
    }
  },
  column: () => ({ kind: 'text', nullable: false, default: '' }),
  isMultiple: () => false,
  zero: () => '',
  prepare(_field, raw) {
    const text = toText(raw);
    return text === INVALID ? INVALID : new PasswordInput(text);
  },
  validate(field, value) {
    // A stored hash (no new input) is valid as long as one exists.
    if (!(value instanceof PasswordInput)) {
      return field.required && (typeof value !== 'string' || value === '') ? requiredError() : null;
    }
    const plain = value.plain;
    if (plain === '') return field.required ? requiredError() : null;
    const length = codePointLength(plain);
    const min = optNumber(field.min) ?? 0;
    if (min > 0 && length < min) return fieldError('validation_min_text_constraint', `Must be at least ${min} character(s).`, { min });
    const max = optNumber(field.max) || 71;
    if (length > max || Buffer.byteLength(plain) > PASSWORD_MAX_BYTES - 1) {
      return fieldError('validation_max_text_constraint', `Must be less than ${max} character(s).`, { max });
    }
    const pattern = optString(field.pattern);
    if (pattern !== '' && !new RegExp(pattern, 'u').test(plain)) return fieldError('validation_invalid_format', 'Invalid value format.');
    return null;
  },
  toDb: (_field, value) => (typeof value === 'string' ? value : ''),
  fromDb: (_field, raw) => (raw === null || raw === undefined ? '' : String(raw)),
};
