import { fieldError } from '../../errors.js';
import { PatternError, randomStringFromPattern } from '../../random-pattern.js';
import { codePointLength, optNumber, optString, toText } from './coerce.js';
import { requiredError, type FieldType } from './field-type.js';

/** Text without an explicit `max` is capped here (PocketBase's default). */
export const DEFAULT_TEXT_MAX = 5000;

/** Characters a primary key may never contain: ids end up in file paths and URLs. */
const FORBIDDEN_PK_CHARS = ['/', '\\'];

function compile(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return null;
  }
}

const patternCache = new Map<string, RegExp | null>();
function patternOf(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    re = compile(pattern);
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

export function checkText(field: Record<string, unknown>, value: string) {
  if (value === '') return field.required || field.primaryKey ? requiredError() : null;
  const length = codePointLength(value);
  const min = optNumber(field.min) ?? 0;
  if (min > 0 && length < min) {
    return fieldError('validation_min_text_constraint', `Must be at least ${min} character(s).`, { min });
  }
  const max = optNumber(field.max) || DEFAULT_TEXT_MAX;
  if (length > max) {
    return fieldError('validation_max_text_constraint', `Must be no more than ${max} character(s).`, { max });
  }
  const pattern = optString(field.pattern);
  if (pattern !== '') {
    const re = patternOf(pattern);
    if (!re || !re.test(value)) return fieldError('validation_invalid_format', 'Invalid value format.');
  }
  return null;
}

/** Generates a value from the field's autogenerate pattern ('' when it has none). */
export function autogenerateText(field: Record<string, unknown>): string {
  const pattern = optString(field.autogeneratePattern);
  return pattern === '' ? '' : randomStringFromPattern(pattern);
}

export const textField: FieldType = {
  type: 'text',
  defaults: { required: false, min: 0, max: 0, pattern: '', autogeneratePattern: '', primaryKey: false },
  // `searchable: true` keeps a substring index for `~` on the field (core/collections/search-indexes.ts).
  optionalKeys: ['searchable'],

  checkOptions(field, issues, { collection }) {
    const min = field.min ?? 0;
    const max = field.max ?? 0;
    if (typeof min !== 'number' || !Number.isInteger(min) || min < 0) {
      issues.add('min', fieldError('validation_min_greater_equal_than_required', 'Must be a non-negative integer.'));
    }
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || (max > 0 && typeof min === 'number' && max < min)) {
      issues.add('max', fieldError('validation_min_greater_equal_than_required', 'Must be a non-negative integer, at least min.'));
    }
    for (const key of ['pattern', 'autogeneratePattern'] as const) {
      const value = field[key] ?? '';
      if (typeof value !== 'string' || (value !== '' && compile(value) === null)) {
        issues.add(key, fieldError('validation_invalid_regex', 'Invalid regular expression.'));
      }
    }
    if (typeof field.autogeneratePattern === 'string' && field.autogeneratePattern !== '') {
      // Sample the generator: a pattern that can produce values the field itself rejects is a trap.
      try {
        for (let i = 0; i < 10; i++) {
          const sample = autogenerateText(field);
          if (checkText({ ...field, required: false }, sample)) {
            issues.add(
              'autogeneratePattern',
              fieldError(
                'validation_invalid_autogenerate_pattern_value',
                `The autogenerate pattern could produce invalid values, e.g. "${sample}".`,
              ),
            );
            break;
          }
        }
      } catch (err) {
        const message = err instanceof PatternError ? err.message : 'unsupported pattern';
        issues.add('autogeneratePattern', fieldError('validation_invalid_autogenerate_pattern', `Invalid pattern: ${message}.`));
      }
    }
    if (field.primaryKey) {
      if (field.name !== 'id') issues.add('name', fieldError('validation_invalid_pk', 'The primary key must be named "id".'));
      if (field.hidden) issues.add('hidden', fieldError('validation_invalid_pk', 'The primary key cannot be hidden.'));
      const pks = collection.fields.filter((f) => f.type === 'text' && f.primaryKey).length;
      if (pks > 1) {
        issues.add('primaryKey', fieldError('validation_unsupported_composite_pk', 'A collection can have only one primary key.'));
      }
    }
  },

  column: (field) => ({ kind: 'text', nullable: false, default: '', primaryKey: Boolean(field.primaryKey) }),
  isMultiple: () => false,
  zero: () => '',
  prepare: (_field, raw) => toText(raw),

  validate(field, value, ctx) {
    if (typeof value !== 'string') return fieldError('validation_invalid_value', 'Invalid value.');
    if (field.primaryKey) {
      if (!ctx.isNew) {
        if (value !== ctx.previous) return fieldError('validation_pk_change', 'The record primary key cannot be changed.');
        return null;
      }
      const bad = FORBIDDEN_PK_CHARS.find((c) => value.includes(c));
      if (bad) {
        return fieldError('validation_pk_forbidden', 'The record primary key contains forbidden characters.', { forbidden: bad });
      }
    }
    return checkText(field, value);
  },

  toDb: (_field, value) => value,
  fromDb: (_field, raw) => (raw === null || raw === undefined ? '' : String(raw)),
};

