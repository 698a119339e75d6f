import { fieldError } from '../../errors.js';
import { plainTextStorage, prepareTrimmed } from './text-storage.js';
import { checkDomain, checkDomainOptions } from './domain-list.js';
import { requiredError, type FieldType } from './field-type.js';

// Pragmatic RFC 5322 subset (the HTML5 "valid e-mail address" rule), plus a TLD-like last label.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

export const emailField: FieldType = {
  type: 'email',
  defaults: { required: false, exceptDomains: null, onlyDomains: null },
  checkOptions: (field, issues) => checkDomainOptions(field, issues),
  ...plainTextStorage,
  prepare: prepareTrimmed,
  validate(field, value) {
    if (typeof value !== 'string') return fieldError('validation_invalid_value', 'Invalid value.');
    if (value === '') return field.required ? requiredError() : null;
    if (!isEmail(value)) return fieldError('validation_is_email', 'Must be a valid email address.');
    return checkDomain(field, value.slice(value.lastIndexOf('@') + 1), 'validation_email_domain_not_allowed');
  },
};
