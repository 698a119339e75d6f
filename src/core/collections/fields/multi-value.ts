/**
 * Shared behaviour of the fields that hold one or many strings (select, relation, file):
 * `maxSelect` ≤ 1 stores a plain string, otherwise a JSON array of unique strings.
 */
import { fieldError, type FieldError } from '../../errors.js';
import { optNumber, parseStoredJson, toStringList } from './coerce.js';
import { INVALID, requiredError, type ColumnSpec, type FieldType, type OptionIssues } from './field-type.js';

export function isMultiple(field: Record<string, unknown>): boolean {
  return (optNumber(field.maxSelect) ?? 1) > 1;
}

export function multiColumn(field: Record<string, unknown>): ColumnSpec {
  return isMultiple(field) ? { kind: 'json', nullable: false, default: '[]' } : { kind: 'text', nullable: false, default: '' };
}

export function multiZero(field: Record<string, unknown>): string | string[] {
  return isMultiple(field) ? [] : '';
}

/** Submitted → canonical. A single-value field keeps the last of several submitted values. */
export function prepareMulti(field: Record<string, unknown>, raw: unknown): string | string[] | typeof INVALID {
  const list = toStringList(raw);
  if (list === INVALID) return INVALID;
  if (isMultiple(field)) return list;
  return list.length === 0 ? '' : list[list.length - 1];
}

export function valuesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value as string[];
  return typeof value === 'string' && value !== '' ? [value] : [];
}

export function checkCount(field: Record<string, unknown>, values: string[]): FieldError | null {
  if (values.length === 0) return field.required ? requiredError() : null;
  const max = Math.max(optNumber(field.maxSelect) ?? 1, 1);
  if (values.length > max) {
    return fieldError('validation_too_many_values', `Select no more than ${max}.`, { maxSelect: max });
  }
  return null;
}

export function checkMaxSelectOption(field: Record<string, unknown>, issues: OptionIssues): void {
  const v = field.maxSelect ?? 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    issues.add('maxSelect', fieldError('validation_invalid_value', 'Must be a non-negative integer.'));
  }
}

export function multiToDb(field: Record<string, unknown>, value: unknown): string {
  if (isMultiple(field)) return JSON.stringify(valuesOf(value));
  const values = valuesOf(value);
  return values.length === 0 ? '' : values[values.length - 1];
}

/** Stored → canonical. Tolerates a plain string in a multiple column and vice versa (after a schema change). */
export function multiFromDb(field: Record<string, unknown>, raw: unknown): string | string[] {
  let list: string[];
  if (raw === null || raw === undefined || raw === '') list = [];
  else if (typeof raw === 'string' && raw.startsWith('[')) {
    const parsed = parseStoredJson(raw, []);
    list = Array.isArray(parsed) ? parsed.map(String) : [];
  } else list = [String(raw)];
  if (isMultiple(field)) return list;
  return list.length === 0 ? '' : list[list.length - 1];
}

/** The storage half of a multi-value field type, shared by select, relation and file. */
export const multiValueStorage: Pick<FieldType, 'column' | 'isMultiple' | 'zero' | 'prepare' | 'toDb' | 'fromDb'> = {
  column: multiColumn,
  isMultiple,
  zero: multiZero,
  prepare: prepareMulti,
  toDb: multiToDb,
  fromDb: multiFromDb,
};
