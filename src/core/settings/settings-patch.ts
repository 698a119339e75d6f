/**
 * Applying a `PATCH /api/settings` body: a deep merge into the current settings, type-checked
 * key by key, then validated as a whole. Unknown keys are refused (as record bodies are), so a
 * typo never silently does nothing. `null` does what it does in PocketBase: a value or section
 * stays as it was, a list becomes empty. Field errors nest like the body: `data.smtp.host.code`,
 * `data.superuserIPs.1.code` for the second entry of a list.
 */
import { fieldError, type ErrorData, type FieldError } from '../errors.js';
import { isIpOrSubnet } from '../net/ip-list.js';
import { CronDefinitionError, CronSchedule } from '../cron/cron-schedule.js';
import { validateS3Settings } from './s3-settings.js';
import { DEFAULT_RATE_LIMIT_RULES, type BackupS3Settings, type RateLimitRule, type Settings } from './settings.js';

type Kind = 'string' | 'bool' | 'int';
/** `ips`: IPs or CIDR subnets; `headers`: HTTP header names. */
type ListKind = 'ips' | 'headers';
type SectionName = Exclude<keyof Settings, 'superuserIPs'>;

/** `s3`: a nested object of {@link S3_KEYS}, merged key by key (a PATCH without `secret` keeps it). */
const SECTIONS: Record<SectionName, Record<string, Kind | ListKind | 'rules' | 's3'>> = {
  meta: { appName: 'string', appURL: 'string', senderName: 'string', senderAddress: 'string', hideControls: 'bool', accentColor: 'string' },
  smtp: { enabled: 'bool', host: 'string', port: 'int', username: 'string', password: 'string', authMethod: 'string', tls: 'bool', localName: 'string' },
  rateLimits: { enabled: 'bool', rules: 'rules', excludedIPs: 'ips' },
  batch: { enabled: 'bool', maxRequests: 'int', timeout: 'int', maxBodySize: 'int' },
  sqlConsole: { allowWrites: 'bool' },
  trustedProxy: { headers: 'headers', useLeftmostIP: 'bool' },
  logs: { maxDays: 'int', minLevel: 'int', logIP: 'bool', logAuthId: 'bool' },
  s3: { enabled: 'bool', bucket: 'string', region: 'string', endpoint: 'string', accessKey: 'string', secret: 'string', forcePathStyle: 'bool' },
  backups: { cron: 'string', cronMaxKeep: 'int', s3: 's3' },
};

const S3_KEYS: Record<keyof BackupS3Settings, Kind> = {
  enabled: 'bool',
  bucket: 'string',
  region: 'string',
  endpoint: 'string',
  accessKey: 'string',
  secret: 'string',
  forcePathStyle: 'bool',
};

/** Longest retention accepted (~270 years): the cutoff date stays a valid date. */
const MAX_LOG_DAYS = 100_000;

/** Settings that are a list at the top level rather than a section (PocketBase's `superuserIPs`). */
const TOP_LEVEL_LISTS: Record<string, ListKind> = { superuserIPs: 'ips' };

/** Bounds on lists, so one PATCH cannot make every request's lookup large. */
const LIST_LIMITS: Record<ListKind, { items: number; length: number }> = {
  ips: { items: 1000, length: 64 },
  headers: { items: 20, length: 100 },
};

/** The stored document: sections (objects) and top-level lists. */
export type StoredSettings = Record<string, unknown>;

const RULE_KEYS: Record<keyof RateLimitRule, Kind> = { label: 'string', audience: 'string', duration: 'int', maxRequests: 'int' };

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// A host name or an IPv4/IPv6 literal; no scheme, path or port.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/;
// PocketBase's label forms: `METHOD /path`, `/path`, `collection:action`, `*:action`, `tag`.
const RULE_LABEL = /^(?:\w+ \/[\w/-]*|\/[\w/-]*|\w+:\w+|\*:\w+|\w+)$/;
// RFC 9110 §5.1: a field name is a token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// PocketBase: Length(7, 7) and is.HexColor, i.e. `#RRGGBB`; empty is allowed.
const HEX_COLOR = /^#[0-9A-Fa-f]{6}$/;

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

/**
 * A nested S3 object merged key by key into `target` and `stored` (both changed in place), so a
 * PATCH that leaves out `secret` keeps the stored one; false with `errors[key]` set when wrong.
 */
function mergeS3(value: unknown, target: Record<string, unknown>, stored: Record<string, unknown>, errors: ErrorData, key: string): boolean {
  if (!isObject(value)) {
    errors[key] = fieldError('validation_invalid_type', 'Must be an object.');
    return false;
  }
  const e: Record<string, FieldError> = {};
  for (const [k, v] of Object.entries(value)) {
    const kind = S3_KEYS[k as keyof BackupS3Settings];
    if (!kind) {
      e[k] = fieldError('validation_unknown_field', 'Unknown field.');
      continue;
    }
    const c = coerce(v, kind);
    if (c.ok) target[k] = stored[k] = c.value;
    else e[k] = invalidType(kind);
  }
  if (Object.keys(e).length === 0) return true;
  errors[key] = e;
  return false;
}

/** A list of strings (trimmed), each checked; null with `errors[key]` set when any is wrong. */
function mergeList(value: unknown, kind: ListKind, errors: ErrorData, key: string): string[] | null {
  const limits = LIST_LIMITS[kind];
  if (!Array.isArray(value)) {
    errors[key] = fieldError('validation_invalid_type', 'Must be an array of strings.');
    return null;
  }
  if (value.length > limits.items) {
    errors[key] = fieldError('validation_length_too_long', `Must have at most ${limits.items} items.`, { max: limits.items });
    return null;
  }
  const items: string[] = [];
  const itemErrors: ErrorData = {};
  value.forEach((raw, i) => {
    if (typeof raw !== 'string') {
      itemErrors[String(i)] = fieldError('validation_invalid_type', 'Must be a string.');
      return;
    }
    const item = raw.trim();
    if (item === '') itemErrors[String(i)] = required();
    else if (item.length > limits.length) itemErrors[String(i)] = fieldError('validation_length_too_long', `Must be no more than ${limits.length} characters.`, { max: limits.length });
    // `validation_invlaid_ip_or_subnet` (sic) is PocketBase's code, kept for clients that match it.
    else if (kind === 'ips' && !isIpOrSubnet(item)) itemErrors[String(i)] = fieldError('validation_invlaid_ip_or_subnet', 'Must be an IP address or a CIDR subnet (10.0.0.0/8).');
    else if (kind === 'headers' && !HEADER_NAME.test(item)) itemErrors[String(i)] = fieldError('validation_invalid_header_name', 'Must be an HTTP header name.');
    items.push(item);
  });
  if (Object.keys(itemErrors).length > 0) {
    errors[key] = itemErrors;
    return null;
  }
  return items;
}

function validate(s: Settings): ErrorData {
  const errors: ErrorData = {};
  const meta: Record<string, FieldError> = {};
  if (s.meta.appName === '' || s.meta.appName.length > 255) meta.appName = s.meta.appName === '' ? required() : fieldError('validation_length_out_of_range', 'The length must be between 1 and 255.');
  if (!isHttpUrl(s.meta.appURL)) meta.appURL = s.meta.appURL === '' ? required() : fieldError('validation_is_url', 'Must be a valid http(s) URL.');
  if (s.meta.senderName === '' || s.meta.senderName.length > 255) meta.senderName = s.meta.senderName === '' ? required() : fieldError('validation_length_out_of_range', 'The length must be between 1 and 255.');
  if (!EMAIL.test(s.meta.senderAddress)) meta.senderAddress = s.meta.senderAddress === '' ? required() : fieldError('validation_is_email', 'Must be a valid email address.');
  if (s.meta.accentColor !== '' && !HEX_COLOR.test(s.meta.accentColor)) {
    meta.accentColor =
      s.meta.accentColor.length !== 7 ? fieldError('validation_length_invalid', 'The length must be exactly 7.', { length: 7 }) : fieldError('validation_is_hex_color', 'Must be a valid hex color code (#RRGGBB).');
  }
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

  const s3 = validateS3Settings(s.s3);
  if (Object.keys(s3).length > 0) errors.s3 = s3;
  const backups = validateBackups(s.backups);
  if (Object.keys(backups).length > 0) errors.backups = backups;
  return errors;
}

/** PocketBase's BackupsConfig rules: a valid cron expression, a count to keep when it is set, a complete S3 target when enabled. */
function validateBackups(b: Settings['backups']): ErrorData {
  const errors: ErrorData = {};
  if (b.cron !== '') {
    try {
      CronSchedule.parse(b.cron);
    } catch (err) {
      if (!(err instanceof CronDefinitionError)) throw err;
      errors.cron = fieldError('validation_invalid_cron', `Invalid cron expression: ${err.message}.`);
    }
  }
  if (b.cronMaxKeep < 0) errors.cronMaxKeep = fieldError('validation_min_greater_equal_than_required', 'Must be no less than 1.');
  else if (b.cron !== '' && b.cronMaxKeep === 0) errors.cronMaxKeep = required();
  else if (b.cronMaxKeep > 10_000) errors.cronMaxKeep = fieldError('validation_max_less_equal_than_required', 'Must be no greater than 10000.');
  // The same rules as the file storage's section (a complete target when enabled, lengths, the endpoint).
  const s3 = validateS3Settings(b.s3);
  if (Object.keys(s3).length > 0) errors.s3 = s3;
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
  stored: StoredSettings,
  patch: unknown,
): { settings: Settings; stored: StoredSettings } | { errors: ErrorData } {
  if (!isObject(patch)) return { errors: {} };
  const next = structuredClone(current);
  const nextStored = structuredClone(stored);
  const errors: ErrorData = {};
  for (const [sectionName, sectionPatch] of Object.entries(patch)) {
    const listKind = TOP_LEVEL_LISTS[sectionName];
    if (listKind) {
      const list = sectionPatch === null ? [] : mergeList(sectionPatch, listKind, errors, sectionName);
      if (list) (next as unknown as Record<string, unknown>)[sectionName] = nextStored[sectionName] = list;
      continue;
    }
    const spec = SECTIONS[sectionName as SectionName];
    if (!spec) {
      errors[sectionName] = fieldError('validation_unknown_field', 'Unknown settings section.');
      continue;
    }
    if (sectionPatch === null) continue; // as Go's encoding/json leaves a struct: unchanged
    if (!isObject(sectionPatch)) {
      errors[sectionName] = fieldError('validation_invalid_type', 'Must be an object.');
      continue;
    }
    const target = next[sectionName as SectionName] as unknown as Record<string, unknown>;
    const storedSection = isObject(nextStored[sectionName]) ? (nextStored[sectionName] as Record<string, unknown>) : (nextStored[sectionName] = {});
    const sectionErrors: ErrorData = {};
    for (const [key, value] of Object.entries(sectionPatch)) {
      const kind = spec[key];
      if (!kind) {
        sectionErrors[key] = fieldError('validation_unknown_field', 'Unknown field.');
      } else if (value === null) {
        // PocketBase (Go's encoding/json) leaves a scalar unchanged on null and empties a list;
        // its dashboard sends null for a cleared number input (parseInt('') is NaN).
        if (kind === 'rules' || kind === 'ips' || kind === 'headers') target[key] = storedSection[key] = [];
      } else if (kind === 's3') {
        const storedS3 = isObject(storedSection[key]) ? (storedSection[key] as Record<string, unknown>) : (storedSection[key] = {});
        mergeS3(value, target[key] as Record<string, unknown>, storedS3, sectionErrors, key);
      } else if (kind === 'rules') {
        const rules = mergeRules(value, sectionErrors);
        if (rules) target[key] = storedSection[key] = rules;
      } else if (kind === 'ips' || kind === 'headers') {
        const list = mergeList(value, kind, sectionErrors, key);
        if (list) target[key] = storedSection[key] = list;
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
export function overlaySettings(defaults: Settings, stored: StoredSettings): Settings {
  const out = structuredClone(defaults);
  for (const [sectionName, section] of Object.entries(stored)) {
    if (TOP_LEVEL_LISTS[sectionName]) {
      if (Array.isArray(section)) (out as unknown as Record<string, unknown>)[sectionName] = section.filter((v) => typeof v === 'string');
      continue;
    }
    const spec = SECTIONS[sectionName as SectionName];
    if (!spec || !isObject(section)) continue;
    const target = out[sectionName as SectionName] as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(section)) {
      if (spec[key] === 's3') {
        if (isObject(value)) for (const [k, v] of Object.entries(value)) if (S3_KEYS[k as keyof BackupS3Settings]) (target[key] as Record<string, unknown>)[k] = v;
      } else if (spec[key]) target[key] = value;
    }
  }
  if (!Array.isArray(out.rateLimits.rules)) out.rateLimits.rules = DEFAULT_RATE_LIMIT_RULES.map((r) => ({ ...r }));
  if (!Array.isArray(out.rateLimits.excludedIPs)) out.rateLimits.excludedIPs = [];
  if (!Array.isArray(out.trustedProxy.headers)) out.trustedProxy.headers = [];
  return out;
}
