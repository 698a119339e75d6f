/**
 * Conversions of submitted values, shared by the field types. JSON bodies carry real types;
 * form and multipart bodies carry strings, so each conversion accepts both.
 */
import { INVALID } from './field-type.js';

export function toText(raw: unknown): string | typeof INVALID {
  if (raw === null || raw === undefined) return '';
  // NUL cannot be stored in PostgreSQL text (and truncates C strings elsewhere): refuse it on every engine.
  if (typeof raw === 'string') return raw.includes('\u0000') ? INVALID : raw;
  if (typeof raw === 'number') return Number.isFinite(raw) ? String(raw) : INVALID;
  if (typeof raw === 'boolean') return raw ? 'true' : 'false';
  return INVALID;
}

/** The longest list a select, relation or file field accepts in one body. */
export const MAX_LIST_ITEMS = 10_000;

/** Length in Unicode code points, without materialising an array of characters. */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export function toNumber(raw: unknown): number | typeof INVALID {
  if (raw === null || raw === undefined || raw === '') return 0;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : INVALID;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (text === '') return 0;
    const n = Number(text);
    return Number.isFinite(n) ? n : INVALID;
  }
  return INVALID;
}

const TRUE_WORDS = new Set(['1', 't', 'true', 'on', 'yes']);
const FALSE_WORDS = new Set(['0', 'f', 'false', 'off', 'no', '']);

export function toBool(raw: unknown): boolean | typeof INVALID {
  if (raw === null || raw === undefined) return false;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number') return raw !== 0;
  if (typeof raw === 'string') {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return INVALID;
}

/**
 * A list of unique non-empty strings, from an array, a single string, or a JSON array string
 * (forms send `["a","b"]` as text). Order is kept; duplicates are dropped as PocketBase does.
 */
export function toStringList(raw: unknown): string[] | typeof INVALID {
  if (raw === null || raw === undefined || raw === '') return [];
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string') {
    const text = raw.trim();
    if (text.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(text);
        items = Array.isArray(parsed) ? parsed : [raw];
      } catch {
        items = [raw];
      }
    } else items = [raw];
  } else if (typeof raw === 'number') items = [String(raw)];
  else return INVALID;
  // A list is at most MAX_LIST_ITEMS long (maxSelect is checked later): bounds the work a body can cause.
  if (items.length > MAX_LIST_ITEMS) return INVALID;
  const seen = new Set<string>();
  for (const item of items) {
    if (item === null || item === undefined || item === '') continue;
    if (typeof item !== 'string' && typeof item !== 'number') return INVALID;
    const s = String(item);
    if (s.includes('\u0000')) return INVALID;
    seen.add(s);
  }
  return [...seen];
}

/** Parses stored JSON text, falling back to `fallback` for NULL or corrupt values. */
export function parseStoredJson(raw: unknown, fallback: unknown): unknown {
  if (raw === null || raw === undefined) return fallback;
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a numeric option that may be absent or null. */
export function optNumber(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function optString(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function optStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
