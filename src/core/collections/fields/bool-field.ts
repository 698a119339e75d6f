import { toBool } from './coerce.js';
import { requiredError, type FieldType } from './field-type.js';

export const boolField: FieldType = {
  type: 'bool',
  defaults: { required: false },
  checkOptions() {},
  column: () => ({ kind: 'bool', nullable: false, default: false }),
  isMultiple: () => false,
  zero: () => false,
  prepare: (_field, raw) => toBool(raw),
  // "Required" for a bool means it must be true (e.g. "accepted the terms").
  validate: (field, value) => (field.required && value !== true ? requiredError() : null),
  toDb: (_field, value) => value === true,
  fromDb: (_field, raw) => raw === true || raw === 1 || raw === '1' || raw === 't' || raw === 'true',
};
