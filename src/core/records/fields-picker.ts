/**
 * The `fields` query parameter: picks a subset of any 2xx JSON response (spec §1.1 "Success
 * JSON", §2.4), e.g. `fields=id,title,expand.author.name,description:excerpt(200,true),*`.
 *
 * Behaviour follows PocketBase's `tools/picker`:
 * - comma-separated paths, dots for nesting; names are trimmed, empty entries ignored;
 * - `*` keeps every key of its level that no other path names; `*,expand.author.name` keeps all
 *   top-level keys but reduces `expand` to `{author: {name}}`; `rel.*` keeps all keys of `rel`;
 * - arrays are picked item by item, at any depth (`expand.tags.name` on an array of records);
 * - a missing key is simply absent; a key on the path whose value cannot be descended into
 *   (a string, a number, null) is kept as it is, as PocketBase does (`title.x` keeps `title`);
 * - a modifier applies to the picked value; `excerpt` changes strings only;
 * - for a list result, the items are picked, never the envelope.
 *
 * Where PocketBase is loose or ambiguous we choose, and say so in the tests:
 * - a path named both whole and with sub-paths (`a,a.b`) keeps `a` whole;
 * - the same path given twice keeps the last modifier (PocketBase's map overwrite);
 * - invalid input is a 400 (PocketBase fails the response after writing its status): unbalanced
 *   parentheses, a modifier that is not `name` or `name(args)`, an unknown modifier, a missing
 *   path before `:`, excerpt arguments that are not a positive integer and an optional
 *   `strconv.ParseBool` value (PocketBase silently reads a bad boolean as false);
 * - at most 2000 characters and 100 paths, like the caps on `filter` and `sort` (spec §1.1).
 *
 * The parameter is parsed once per request into a tree; picking walks that tree with plain loops
 * and map lookups, so a 1000-item list costs one pass over the picked keys of each item.
 */

import { badRequest, fieldError } from '../errors.js';
import type { ApiError } from '../errors.js';
import { excerpt } from './excerpt.js';

/** The message of every 400 caused by an invalid `fields` parameter. */
export const INVALID_FIELDS_MESSAGE = 'Invalid "fields" parameter.';

/** The longest `fields` value accepted, in UTF-16 code units. */
export const MAX_FIELDS_LENGTH = 2000;

/** The most comma-separated paths accepted in one `fields` value. */
export const MAX_FIELDS_PATHS = 100;

/** A value modifier such as `excerpt(200,true)`; receives the picked value, returns the new one. */
export type FieldModifier = (value: unknown) => unknown;

/** One object level of the picker tree. */
export interface PickLevel {
  /** Set when `*` was requested at this level; `modifier` applies to the keys it brings in. */
  readonly wildcard: { modifier: FieldModifier | null } | null;
  /** The keys named at this level. */
  readonly keys: ReadonlyMap<string, PickEntry>;
}

/** What was requested for one key. */
export interface PickEntry {
  /** The key itself was requested: its whole value is kept (then `nested` is ignored). */
  readonly whole: boolean;
  /** Applied to the whole value; `null` when none was given. */
  readonly modifier: FieldModifier | null;
  /** The deeper paths requested below this key, if any. */
  readonly nested: PickLevel | null;
}

/** A parsed `fields` parameter; build it once with {@link parseFields} and reuse it per item. */
export interface FieldsPicker {
  readonly root: PickLevel;
}

interface MutableLevel {
  wildcard: { modifier: FieldModifier | null } | null;
  keys: Map<string, MutableEntry>;
}

interface MutableEntry {
  whole: boolean;
  modifier: FieldModifier | null;
  nested: MutableLevel | null;
}

function invalidFields(detail: string): ApiError {
  return badRequest(INVALID_FIELDS_MESSAGE, { fields: fieldError('validation_invalid_fields', detail) });
}

/** Splits on commas outside parentheses, so `excerpt(200, true)` stays one entry. */
function splitPaths(raw: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) throw invalidFields(`Unbalanced parentheses at position ${i}.`);
      depth--;
    } else if (c === ',' && depth === 0) {
      parts.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw invalidFields('Unbalanced parentheses: missing ")".');
  parts.push(raw.slice(start));
  return parts;
}

const MODIFIER_SYNTAX = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^()]*)\))?$/;
const POSITIVE_INTEGER = /^[0-9]+$/;

/** Go's `strconv.ParseBool`, which PocketBase's `cast.ToBool` uses for the ellipsis flag. */
const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ['1', true], ['t', true], ['T', true], ['TRUE', true], ['true', true], ['True', true],
  ['0', false], ['f', false], ['F', false], ['FALSE', false], ['false', false], ['False', false],
]);

const EXCERPT_USAGE = 'expected excerpt(maxLength, withEllipsis?)';

function parseExcerptArgs(args: string[]): FieldModifier {
  if (args.length === 0) throw invalidFields(`Missing excerpt maxLength argument: ${EXCERPT_USAGE}.`);
  if (args.length > 2) throw invalidFields(`Too many excerpt arguments: ${EXCERPT_USAGE}.`);
  const max = POSITIVE_INTEGER.test(args[0]) ? Number(args[0]) : NaN;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw invalidFields(`The excerpt maxLength must be a positive integer, got "${args[0]}".`);
  }
  let withEllipsis = false;
  if (args.length === 2) {
    const flag = BOOLEANS.get(args[1]);
    if (flag === undefined) throw invalidFields(`The excerpt withEllipsis must be true or false, got "${args[1]}".`);
    withEllipsis = flag;
  }
  return (value) => (typeof value === 'string' ? excerpt(value, max, withEllipsis) : value);
}

/** Parses the text after `:`, e.g. `excerpt(200, true)`. */
function parseModifier(raw: string): FieldModifier {
  const match = MODIFIER_SYNTAX.exec(raw.trim());
  if (match === null) throw invalidFields(`Invalid modifier "${raw.trim()}": ${EXCERPT_USAGE}.`);
  const [, name, rawArgs] = match;
  if (name !== 'excerpt') throw invalidFields(`Unknown modifier "${name}": the only modifier is excerpt.`);
  const args = rawArgs === undefined || rawArgs.trim() === '' ? [] : rawArgs.split(',').map((a) => a.trim());
  if (args.includes('')) throw invalidFields(`Empty excerpt argument: ${EXCERPT_USAGE}.`);
  return parseExcerptArgs(args);
}

function newLevel(): MutableLevel {
  return { wildcard: null, keys: new Map() };
}

function entryOf(level: MutableLevel, key: string): MutableEntry {
  let entry = level.keys.get(key);
  if (entry === undefined) {
    entry = { whole: false, modifier: null, nested: null };
    level.keys.set(key, entry);
  }
  return entry;
}

/** Adds one path to the tree; the last of duplicated paths sets the modifier. */
function addPath(root: MutableLevel, segments: string[], modifier: FieldModifier | null): void {
  let level = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const entry = entryOf(level, segments[i]);
    entry.nested ??= newLevel();
    level = entry.nested;
  }
  const last = segments[segments.length - 1];
  // Only a final `*` is a wildcard; PocketBase matches a `*` in the middle literally.
  if (last === '*') {
    level.wildcard = { modifier };
    return;
  }
  const entry = entryOf(level, last);
  entry.whole = true;
  entry.modifier = modifier;
}

/**
 * Parses a `fields` query value into a reusable picker.
 *
 * Returns `null` — meaning "no picking, send the body unchanged" — when the value is missing,
 * empty, or holds only whitespace and commas (PocketBase does the same).
 *
 * @throws ApiError 400 {@link INVALID_FIELDS_MESSAGE}, with `data.fields` saying what is wrong:
 *   more than {@link MAX_FIELDS_LENGTH} characters or {@link MAX_FIELDS_PATHS} paths, unbalanced
 *   parentheses, a missing path before `:`, an unknown modifier or invalid excerpt arguments.
 */
export function parseFields(raw: string | null | undefined): FieldsPicker | null {
  if (raw === null || raw === undefined) return null;
  if (raw.length > MAX_FIELDS_LENGTH) {
    throw invalidFields(`The fields parameter must be at most ${MAX_FIELDS_LENGTH} characters.`);
  }
  const root = newLevel();
  let count = 0;
  for (const part of splitPaths(raw)) {
    const field = part.trim();
    if (field === '') continue;
    if (++count > MAX_FIELDS_PATHS) throw invalidFields(`At most ${MAX_FIELDS_PATHS} fields can be picked.`);
    const colon = field.indexOf(':');
    const path = colon === -1 ? field : field.slice(0, colon);
    const modifier = colon === -1 ? null : parseModifier(field.slice(colon + 1));
    // Empty segments (`a..b`, a trailing dot) are skipped, as PocketBase's prefix matching does.
    const segments = path.split('.').map((s) => s.trim()).filter((s) => s !== '');
    if (segments.length === 0) throw invalidFields(`Missing field name in "${field}".`);
    addPath(root, segments, modifier);
  }
  return count === 0 ? null : { root };
}

/** Like `JSON.stringify`, a value with `toJSON` (a Date, a model class) is picked as its JSON form. */
function toJsonValue(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON: (key: string) => unknown }).toJSON('');
  }
  return value;
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  // NB: a plain assignment to "__proto__" would change the prototype instead of adding a key.
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function applyModifier(modifier: FieldModifier | null, value: unknown): unknown {
  return modifier === null ? value : modifier(toJsonValue(value));
}

function pickObject(source: Record<string, unknown>, level: PickLevel): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Walk the source keys, not the picker's, so the output keeps the record's key order.
  for (const key of Object.keys(source)) {
    const entry = level.keys.get(key);
    if (entry !== undefined) {
      if (entry.whole) setKey(out, key, applyModifier(entry.modifier, source[key]));
      else if (entry.nested !== null) setKey(out, key, pickLevel(source[key], entry.nested));
    } else if (level.wildcard !== null) {
      setKey(out, key, applyModifier(level.wildcard.modifier, source[key]));
    }
  }
  return out;
}

function pickLevel(value: unknown, level: PickLevel): unknown {
  const json = toJsonValue(value);
  if (Array.isArray(json)) {
    const out = new Array<unknown>(json.length);
    for (let i = 0; i < json.length; i++) out[i] = pickLevel(json[i], level);
    return out;
  }
  if (json !== null && typeof json === 'object') return pickObject(json as Record<string, unknown>, level);
  return json; // scalars cannot be descended into and are kept (PocketBase compatibility)
}

/**
 * Returns a new value holding only the picked keys of `value` (an object, or an array of them
 * at any depth). Unpicked values are not copied: the result shares the kept sub-values with the
 * input, and neither is mutated.
 *
 * @param picker from {@link parseFields}; `null` returns `value` itself
 */
export function pickFields(value: unknown, picker: FieldsPicker | null): unknown {
  return picker === null ? value : pickLevel(value, picker.root);
}

/** The list envelope of spec §1.2. */
export interface ListResult {
  page: number;
  perPage: number;
  totalItems: number;
  totalPages: number;
  items: unknown[];
}

const LIST_KEYS: ReadonlySet<string> = new Set(['page', 'perPage', 'totalItems', 'totalPages', 'items']);

/**
 * True for a list envelope: a plain object with exactly the five keys of spec §1.2 and an
 * `items` array. PocketBase checks the Go type (`search.Result`); the exact key set is our
 * equivalent, so a record that merely has an `items` field is never taken for a list.
 */
export function isListResult(body: unknown): body is ListResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  if (keys.length !== LIST_KEYS.size || !keys.every((k) => LIST_KEYS.has(k))) return false;
  const list = body as Record<string, unknown>;
  return Array.isArray(list.items) && typeof list.page === 'number' && typeof list.perPage === 'number';
}

/**
 * Applies a picker to a response body: to each item of a list envelope (the envelope itself is
 * kept whole, spec §2.4), otherwise to the body itself. This is what the HTTP layer calls for
 * every 2xx JSON response.
 *
 * @param picker from {@link parseFields}; `null` returns `body` itself
 */
export function pickListOrRecord(body: unknown, picker: FieldsPicker | null): unknown {
  if (picker === null) return body;
  if (isListResult(body)) return { ...body, items: pickLevel(body.items, picker.root) };
  return pickLevel(body, picker.root);
}
