import { fieldError, type FieldError } from '../../errors.js';
import type { OptionIssues } from './field-type.js';
import { optStrings } from './coerce.js';

/** Shared by email and url fields: `exceptDomains` / `onlyDomains` option checks. */
export function checkDomainOptions(field: Record<string, unknown>, issues: OptionIssues): void {
  for (const key of ['exceptDomains', 'onlyDomains'] as const) {
    const v = field[key];
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((d) => typeof d !== 'string' || !/^[a-z0-9.-]+$/i.test(d)))) {
      issues.add(key, fieldError('validation_invalid_domains', 'Must be a list of domain names.'));
    }
  }
  if (optStrings(field.exceptDomains).length > 0 && optStrings(field.onlyDomains).length > 0) {
    issues.add('onlyDomains', fieldError('validation_domains_conflict', 'Use either exceptDomains or onlyDomains, not both.'));
  }
}

/** Checks a host against the field's allow/deny lists (case-insensitive, exact host match). */
export function checkDomain(field: Record<string, unknown>, host: string, code: string): FieldError | null {
  const domain = host.toLowerCase();
  const except = optStrings(field.exceptDomains).map((d) => d.toLowerCase());
  const only = optStrings(field.onlyDomains).map((d) => d.toLowerCase());
  if (except.length > 0 && except.includes(domain)) return fieldError(code, 'Domain is not allowed.');
  if (only.length > 0 && !only.includes(domain)) return fieldError(code, 'Domain is not allowed.');
  return null;
}
