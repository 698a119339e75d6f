import { toText } from './coerce.js';
import { INVALID, type FieldType } from './field-type.js';

/** Storage shared by the fields whose value is one string in a TEXT column ('' when empty). */
export const plainTextStorage: Pick<FieldType, 'column' | 'isMultiple' | 'zero' | 'toDb' | 'fromDb'> = {
  column: () => ({ kind: 'text', nullable: false, default: '' }),
  isMultiple: () => false,
  zero: () => '',
  toDb: (_field, value) => value,
  fromDb: (_field, raw) => (raw === null || raw === undefined ? '' : String(raw)),
};

/** Submitted text with surrounding whitespace removed (emails, URLs). */
export function prepareTrimmed(_field: unknown, raw: unknown): unknown {
  const text = toText(raw);
  return text === INVALID ? INVALID : text.trim();
}
