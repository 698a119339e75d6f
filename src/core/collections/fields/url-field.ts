import { fieldError } from '../../errors.js';
import { plainTextStorage, prepareTrimmed } from './text-storage.js';
import { checkDomain, checkDomainOptions } from './domain-list.js';
import { requiredError, type FieldType } from './field-type.js';

function parseUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' ? url : null;
  } catch {
    return null;
  }
}

export const urlField: FieldType = {
  type: 'url',
  defaults: { required: false, exceptDomains: null, onlyDomains: null },
  checkOptions: (field, issues) => checkDomainOptions(field, issues),
  ...plainTextStorage,
  prepare: prepareTrimmed,
  validate(field, value) {
    if (typeof value !== 'string') return fieldError('validation_invalid_value', 'Invalid value.');
    if (value === '') return field.required ? requiredError() : null;
    const url = parseUrl(value);
    if (!url) return fieldError('validation_is_url', 'Must be a valid url.');
    return checkDomain(field, url.hostname, 'validation_url_domain_not_allowed');
  },
};
