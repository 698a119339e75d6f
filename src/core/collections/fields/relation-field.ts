import { fieldError } from '../../errors.js';
import { optNumber } from './coerce.js';
import type { FieldType } from './field-type.js';
import { checkCount, checkMaxSelectOption, valuesOf, multiValueStorage } from './multi-value.js';

export const relationField: FieldType = {
  type: 'relation',
  defaults: { required: false, collectionId: '', cascadeDelete: false, minSelect: 0, maxSelect: 1 },
  // `indexed: false` opts out of the index Basalt keeps on the column (relation-indexes.ts).
  optionalKeys: ['indexed'],
  checkOptions(field, issues, ctx) {
    const target = typeof field.collectionId === 'string' && field.collectionId !== '' ? ctx.findCollection(field.collectionId) : undefined;
    if (!target) {
      issues.add('collectionId', fieldError('validation_missing_collection', 'Select an existing collection.'));
    } else {
      // Relations always store the target's id, even when the client names the collection.
      field.collectionId = target.id;
      if (target.type === 'view' && ctx.collection.type !== 'view') {
        issues.add('collectionId', fieldError('validation_invalid_view_relation', 'Non-view collections cannot relate to view collections.'));
      }
    }
    checkMaxSelectOption(field, issues);
    const min = field.minSelect ?? 0;
    if (typeof min !== 'number' || !Number.isInteger(min) || min < 0) {
      issues.add('minSelect', fieldError('validation_invalid_value', 'Must be a non-negative integer.'));
    } else if (min > Math.max(optNumber(field.maxSelect) ?? 1, 1)) {
      issues.add('minSelect', fieldError('validation_min_greater_than_max', 'Must be no more than maxSelect.'));
    }
    if (field.indexed !== undefined && typeof field.indexed !== 'boolean') {
      issues.add('indexed', fieldError('validation_invalid_value', 'Must be a boolean.'));
    }
    if (field.cascadeDelete !== undefined && typeof field.cascadeDelete !== 'boolean') {
      issues.add('cascadeDelete', fieldError('validation_invalid_value', 'Must be a boolean.'));
    }
  },
  ...multiValueStorage,
  validate(field, value) {
    const values = valuesOf(value);
    const min = optNumber(field.minSelect) ?? 0;
    if (values.length > 0 && values.length < min) {
      return fieldError('validation_not_enough_values', `Select at least ${min}.`, { minSelect: min });
    }
    return checkCount(field, values);
  },
};
