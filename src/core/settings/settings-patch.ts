/**
 * Applying a `PATCH /api/settings` body: a deep merge into the current settings, type-checked
 * key by key, then validated as a whole. Unknown keys are refused (as record bodies are), so a
 * typo never silently does nothing. Field errors nest like the body: `data.smtp.host.code`.
 */
import { fieldError, type ErrorData, type FieldError } from '../errors.js';
import { DEFAULT_RATE_LIMIT_RULES, type RateLimitRule, type Settings } from './settings.js';

type Kind = 'string' | 'bool' | 'int';

const SECTIONS: Record<keyof Settings, Record<string, Kind | 'rules'>> = {
  meta: { appName: 'string', appURL: 'string', senderName: 'string', senderAddress: 'string', hideControls: 'bool' },
  smtp: { enabled: 'bool', host: 'string', port: 'int', username: 'string', password: 'string', authMethod: 'string', tls: 'bool', localName: 'string' },
  rateLimits: { enabled: 'bool', rules: 'rules' },
  batch: { enabled: 'bool', maxRequests: 'int', timeout: 'int', maxBodySize: 'int' },
  logs: { maxDays: 'int', minLevel: 'int', logIP: 'bool', logAuthId: 'bool' },
};

/** Longest retention accepted (~270 years): the cutoff date stays a valid date. */
const MAX_LOG_DAYS = 100_000;

const RULE_KEYS: Record<keyof RateLimitRule, Kind> = { label: 'string', audience: 'string', duration: 'int', maxRequests: 'int' };

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// A host name or an IPv4/IPv6 literal; no scheme, path or port.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/;
// PocketBase's label forms: `METHOD /path`, `/path`, `collection:action`, `*:action`, `tag`.
const RULE_LABEL = /^(?:\w+ \/[\w/-]*|\/[\w/-]*|\w+:\w+|\*:\w+|\w+)$/;

const invalidType = (kind: Kind) => fieldError('validation_invalid_type', `Must be a ${kind === 'int' ? 'whole number' : kind === 'bool' ? 'boolean' : 'string'}.`);
const required = () => fieldError('validation_required', 'Missing required value.');

function coerce(value: unknown, kind: Kind): { ok: true; value: unknown } | { ok: false } {
  if (kind === 'string') return typeof value === 'string' ? { ok: true, value: value.trim() } : { ok: false };
  if (kind === 'bool') return typeof value === 'boolean' ? { ok: true, value } : { ok: false };
  return typeof value === 'number' && Number.isInteger(value) ? { ok: true, value } : { ok: false };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeRules(value: unknown, errors: ErrorData): RateLimitRule[] | null {
  if (!Array.isArray(value)) {
    errors.rules = fieldError('validation_invalid_type', 'Must be an array of rules.');
    return null;
  }
  const rules: RateLimitRule[] = [];
  const ruleErrors: ErrorData = {};
  value.forEach((raw, i) => {
    const e: Record<string, FieldError> = {};
    const rule: RateLimitRule = { label: '', audience: '', duration: 0, maxRequests: 0 };
    if (!isObject(raw)) {
      ruleErrors[String(i)] = fieldError('validation_invalid_type', 'Must be an object.');
      return;
    }
    for (const [key, v] of Object.entries(raw)) {
      const kind = RULE_KEYS[key as keyof RateLimitRule];
      if (!kind) e[key] = fieldError('validation_unknown_field', 'Unknown field.');
      else {
        const c = coerce(v, kind);
        if (c.ok) (rule as unknown as Record<string, unknown>)[key] = c.value;
        else e[key] = invalidType(kind);
      }
    }
    if (!e.label && !RULE_LABEL.test(rule.label)) e.label = rule.label === '' ? required() : fieldError('validation_match_invalid', 'Invalid label format.');
    if (!e.audience && !['', '@guest', '@auth'].includes(rule.audience)) e.audience = fieldError('validation_in_invalid', 'Must be "", "@guest" or "@auth".');
    if (!e.duration && rule.duration < 1) e.duration = fieldError('validation_min_greater_equal_than_required', 'Must be no less than 1.');
    if (!e.maxRequests && rule.maxRequests < 1) e.maxRequests = fieldError('validation_min_greater_equal_than_required', 'Must be no less than 1.');
    if (!e.label && rules.some((r) => r.label === rule.label && r.audience === rule.audience)) {
      e.label = fieldError('validation_conflicting_rate_limit_rule', `Rate limit rule configuration with label ${rule.label} already exists or conflicts with another rule.`, { label: rule.label });
    }
    if (Object.keys(e).length > 0) ruleErrors[String(i)] = e;
    rules.push(rule);
  });
  if (Object.keys(ruleErrors).length > 0) {
    errors.rules = ruleErrors;
    return null;
  }
  return rules;
}

function validate(s: Settings): ErrorData {
  const errors: ErrorData = {};
  const meta: Record<string, FieldError> = {};
  if (s.meta.appName === '' || s.meta.appName.length > 255) meta.appName = s.meta.appName === '' ? required() : fieldError('validation_length_out_of_range', 'The length must be between 1 and 255.');
  if (!isHttpUrl(s.meta.appURL)) meta.appURL = s.meta.appURL === '' ? required() : fieldError('validation_is_url', 'Must be a valid http(s) URL.');
  if (s.meta.senderName === '' || s.meta.senderName.length > 255) meta.senderName = s.meta.senderName === '' ? required() : fieldError('validation_length_out_of_range', 'The length must be between 1 and 255.');
  if (!EMAIL.test(s.meta.senderAddress)) meta.senderAddress = s.meta.senderAddress === '' ? required() : fieldError('validation_is_email', 'Must be a valid email address.');
  if (Object.keys(meta).length > 0) errors.meta = meta;

  const smtp: Record<string, FieldError> = {};
  if (s.smtp.enabled && s.smtp.host === '') smtp.host = required();
  else if (s.smtp.host !== '' && !HOST.test(s.smtp.host)) smtp.host = fieldError('validation_is_host', 'Must be a host name or an IP address.');
  if (s.smtp.port < 0 || s.smtp.port > 65535 || (s.smtp.enabled && s.smtp.port === 0)) smtp.port = fieldError('validation_out_of_range', 'Must be a port between 1 and 65535.');
  if (!['', 'PLAIN', 'LOGIN'].includes(s.smtp.authMethod)) smtp.authMethod = fieldError('validation_in_invalid', 'Must be PLAIN or LOGIN.');
  if (s.smtp.localName !== '' && !HOST.test(s.smtp.localName)) smtp.localName = fieldError('validation_is_host', 'Must be a host name or an IP address.');
  if (Object.keys(smtp).length > 0) errors.smtp = smtp;

  if (s.rateLimits.enabled && s.rateLimits.rules.length === 0) errors.rateLimits = { rules: required() };

  // PocketBase's BatchConfig rules: no negatives; an enabled batch needs a request count and a
  // timeout (0 would refuse every batch / mean "default"); maxBodySize 0 means the default.
  const batch: Record<string, FieldError> = {};
  for (const key of ['maxRequests', 'timeout', 'maxBodySize'] as const) {
    if (s.batch[key] < 0) batch[key] = fieldError('validation_min_greater_equal_than_required', 'Must be no less than 0.');
    else if (s.batch.enabled && key !== 'maxBodySize' && s.batch[key] === 0) batch[key] = required();
  }
  if (Object.keys(batch).length > 0) errors.batch = batch;

  // PocketBase: maxDays ≥ 0. Basalt also bounds both numbers (a cutoff date must stay a date).
  const logs: Record<string, FieldError> = {};
  if (s.logs.maxDays < 0) logs.maxDays = fieldError('validation_min_greater_equal_than_required', 'Must be no less than 0.');
  else if (s.logs.maxDays > MAX_LOG_DAYS) logs.maxDays = fieldError('validation_max_less_equal_than_required', `Must be no greater than ${MAX_LOG_DAYS}.`);
  if (Math.abs(s.logs.minLevel) > 1000) logs.minLevel = fieldError('validation_out_of_range', 'Must be between -1000 and 1000.');
  if (Object.keys(logs).length > 0) errors.logs = logs;
  return errors;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Merges `patch` into `current`. Returns the new settings, or the field errors. `stored` is the
 * partial document kept in the database: it receives the same keys, so values never saved keep
 * following the start-up defaults.
 */
export function applySettingsPatch(
  current: Settings,
  stored: Record<string, Record<string, unknown>>,
  patch: unknown,
): { settings: Settings; stored: Record<string, Record<string, unknown>> } | { errors: ErrorData } {
  if (!isObject(patch)) return { errors: {} };
  const next = structuredClone(current);
  const nextStored = structuredClone(stored);
  const errors: ErrorData = {};
  for (const [sectionName, sectionPatch] of Object.entries(patch)) {
    const spec = SECTIONS[sectionName as keyof Settings];
    if (!spec) {
      errors[sectionName] = fieldError('validation_unknown_field', 'Unknown settings section.');
      continue;
    }
    if (!isObject(sectionPatch)) {
      errors[sectionName] = fieldError('validation_invalid_type', 'Must be an object.');
      continue;
    }
    const target = next[sectionName as keyof Settings] as unknown as Record<string, unknown>;
    const storedSection = (nextStored[sectionName] ??= {});
    const sectionErrors: ErrorData = {};
    for (const [key, value] of Object.entries(sectionPatch)) {
      const kind = spec[key];
      if (!kind) {
        sectionErrors[key] = fieldError('validation_unknown_field', 'Unknown field.');
      } else if (kind === 'rules') {
        const rules = mergeRules(value, sectionErrors);
        if (rules) target[key] = storedSection[key] = rules;
      } else {
        const c = coerce(value, kind);
        if (c.ok) target[key] = storedSection[key] = c.value;
        else sectionErrors[key] = invalidType(kind);
      }
    }
    if (Object.keys(sectionErrors).length > 0) errors[sectionName] = sectionErrors;
  }
  if (Object.keys(errors).length > 0) return { errors };
  const invalid = validate(next);
  if (Object.keys(invalid).length > 0) return { errors: invalid };
  return { settings: next, stored: nextStored };
}

/** Effective settings: the start-up defaults overlaid with what was saved. */
export function overlaySettings(defaults: Settings, stored: Record<string, Record<string, unknown>>): Settings {
  const out = structuredClone(defaults);
  for (const [sectionName, section] of Object.entries(stored)) {
    const spec = SECTIONS[sectionName as keyof Settings];
    if (!spec || !isObject(section)) continue;
    const target = out[sectionName as keyof Settings] as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(section)) if (spec[key]) target[key] = value;
  }
  if (!Array.isArray(out.rateLimits.rules)) out.rateLimits.rules = DEFAULT_RATE_LIMIT_RULES.map((r) => ({ ...r }));
  return out;
}
