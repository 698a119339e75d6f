import { fieldError } from '../../errors.js';
import { optStrings } from './coerce.js';
import type { FieldType } from './field-type.js';
import { checkCount, checkMaxSelectOption, valuesOf, multiValueStorage } from './multi-value.js';

export const selectField: FieldType = {
  type: 'select',
  defaults: { required: false, maxSelect: 1, values: [] },
  checkOptions(field, issues) {
    const values = field.values;
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string' || v === '')) {
      issues.add('values', fieldError('validation_required', 'Provide at least one non-empty value.'));
    } else if (new Set(values).size !== values.length) {
      issues.add('values', fieldError('validation_duplicated_values', 'Values must be unique.'));
    }
    checkMaxSelectOption(field, issues);
    if (Array.isArray(values) && typeof field.maxSelect === 'number' && field.maxSelect > values.length) {
      issues.add('maxSelect', fieldError('validation_max_select_values', `Must be no more than the ${values.length} values.`));
    }
  },
  ...multiValueStorage,
  validate(field, value) {
    const values = valuesOf(value);
    const allowed = optStrings(field.values);
    const bad = values.find((v) => !allowed.includes(v));
    if (bad !== undefined) return fieldError('validation_invalid_value', `Invalid value ${bad}.`, { value: bad });
    return checkCount(field, values);
  },
};
