/**
 * Applies a submitted body to a record's values (spec §1.2 "Body modifiers"): plain keys set a
 * field, `field+`/`field-` add or subtract numbers, `+field`/`field+`/`field-` prepend, append or
 * remove values of select, relation and file fields, `field:autogenerate` generates text.
 * Uploaded files take part by their stored names (see core/files/upload-plan.ts).
 * Keys are applied shortest first, so `tags` is set before `tags+` adds to it.
 */
import type { CollectionModel } from '../model/collection-model.js';
import { INVALID } from '../collections/fields/field-type.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import { toNumber, toStringList } from '../collections/fields/coerce.js';
import { autogenerateText } from '../collections/fields/text-field.js';
import { valuesOf } from '../collections/fields/multi-value.js';
import type { Field } from '../model/collection-types.js';
import { badRequest, fieldError, MESSAGES, type ErrorData } from '../errors.js';
import type { RecordValues } from '../model/record-model.js';

/** Keys of a record's JSON that clients often send back unchanged: ignored, never an error. */
const OUTPUT_ONLY_KEYS = new Set(['collectionId', 'collectionName', 'expand']);
/** Auth request keys that are not fields. */
const AUTH_EXTRA_KEYS = new Set(['passwordConfirm', 'oldPassword']);

export interface BodyOptions {
  isNew: boolean;
  seesHidden: boolean;
  /** Superuser, or the caller satisfies the auth collection's manageRule for this record. */
  canManage: boolean;
  /**
   * Stored names of the uploads, by the key of their parts (`doc`, `doc+`, `+doc`): added after
   * the filenames the body gives under the same key, and accepted as new filenames.
   */
  uploads?: ReadonlyMap<string, readonly string[]>;
}

export interface AppliedBody {
  values: RecordValues;
  /** Fields whose value the body set (after modifiers). */
  touched: Set<string>;
  errors: ErrorData;
  /** `@request.body` for rules: final values of touched fields and the raw extra keys. */
  bodyForRules: Record<string, unknown>;
  /** passwordConfirm / oldPassword, when submitted. */
  extras: Record<string, unknown>;
}

type Modifier = 'set' | 'append' | 'prepend' | 'remove' | 'autogenerate';

/** The forms a field's key can take: `f`, `+f`, `f+`, `f-`, `f:autogenerate`. */
const KEY_FORMS = 5;
/** Bodies of small collections may still carry this many keys, to be reported one by one. */
const MIN_BODY_KEYS = 200;

/**
 * The most keys a body for `collection` may carry: every form of every field plus the keys that
 * are accepted without being fields. A body with more cannot be valid (unknown keys are errors),
 * so it is refused as a whole before any per-key work: a million unknown keys once took 8 s and
 * answered an 81 MiB error. The floor keeps a few stray keys reported field by field.
 */
export function maxBodyKeys(collection: CollectionModel): number {
  return Math.max(MIN_BODY_KEYS, collection.fields.length * KEY_FORMS + OUTPUT_ONLY_KEYS.size + AUTH_EXTRA_KEYS.size);
}

/** Refuses a body with more keys than `collection` could accept (see maxBodyKeys). */
export function assertBodyKeys(collection: CollectionModel, data: Record<string, unknown>, uploadKeys = 0): void {
  const limit = maxBodyKeys(collection);
  // NB: Object.keys, not for…in with an early exit: a parsed object with many keys is a
  // dictionary, whose for…in collects every key first anyway, and more slowly (1.0 s vs 0.7 s for 10^6).
  if (Object.keys(data).length + uploadKeys <= limit) return;
  throw badRequest(MESSAGES.tooManyBodyKeys, {
    '': fieldError('validation_too_many_keys', `The body has more than ${limit} keys, more than ${collection.name} can accept: send only the fields to set.`, { max: limit }),
  });
}

function parseKey(key: string): { name: string; modifier: Modifier } {
  if (key.endsWith(':autogenerate')) return { name: key.slice(0, -':autogenerate'.length), modifier: 'autogenerate' };
  if (key.startsWith('+')) return { name: key.slice(1), modifier: 'prepend' };
  if (key.endsWith('+')) return { name: key.slice(0, -1), modifier: 'append' };
  if (key.endsWith('-')) return { name: key.slice(0, -1), modifier: 'remove' };
  return { name: key, modifier: 'set' };
}

const invalid = () => fieldError('validation_invalid_value', 'Invalid value.');

function applyModifier(field: Field, current: unknown, raw: unknown, modifier: Modifier): unknown {
  const type = fieldTypeOf(field.type);
  switch (modifier) {
    case 'set':
      return type.prepare(field, raw);
    case 'autogenerate': {
      if (field.type !== 'text') return INVALID;
      const prefix = raw === null || raw === undefined ? '' : String(raw);
      return prefix + autogenerateText(field);
    }
    default: {
      if (field.type === 'number') {
        if (modifier === 'prepend') return INVALID;
        const delta = toNumber(raw);
        if (delta === INVALID) return INVALID;
        return (Number(current) || 0) + (modifier === 'append' ? delta : -delta);
      }
      if (field.type !== 'select' && field.type !== 'relation' && field.type !== 'file') return INVALID;
      const items = toStringList(raw);
      if (items === INVALID) return INVALID;
      const existing = valuesOf(current);
      let next: string[];
      if (modifier === 'remove') next = existing.filter((v) => !items.includes(v));
      else if (modifier === 'append') next = [...existing, ...items.filter((v) => !existing.includes(v))];
      else next = [...items.filter((v) => !existing.includes(v)), ...existing];
      return type.prepare(field, next);
    }
  }
}

/** A key's submitted value with its uploads after it (PocketBase merges them, so kept names are not lost). */
function withUploads(raw: unknown, names: readonly string[] | undefined): unknown {
  if (!names || names.length === 0) return raw;
  const listed = toStringList(raw);
  // A value that is no list of names stays as it is: the field reports it as invalid.
  return listed === INVALID ? raw : [...listed, ...names];
}

/** Applies `data` to a copy of `current`. Unknown keys are errors; hidden and server-set fields are skipped. */
export function applyBody(collection: CollectionModel, current: RecordValues, data: Record<string, unknown>, opts: BodyOptions): AppliedBody {
  assertBodyKeys(collection, data, opts.uploads?.size);
  const values: RecordValues = { ...current };
  const touched = new Set<string>();
  const errors: ErrorData = {};
  const extras: Record<string, unknown> = {};
  const byExactName = new Map(collection.fields.map((f) => [f.name, f]));
  const uploads = opts.uploads ?? new Map<string, readonly string[]>();
  // Uploads count as new filenames of their own field only.
  const newFiles = new Map<string, Set<string>>();
  for (const [key, names] of uploads) {
    const name = parseKey(key).name;
    newFiles.set(name, new Set([...(newFiles.get(name) ?? []), ...names]));
  }
  const keys = [...new Set([...Object.keys(data), ...uploads.keys()])].sort((a, b) => a.length - b.length);

  for (const key of keys) {
    const raw = withUploads(data[key], uploads.get(key));
    if (OUTPUT_ONLY_KEYS.has(key)) continue;
    if (collection.isAuth && AUTH_EXTRA_KEYS.has(key)) {
      extras[key] = raw;
      continue;
    }
    const { name, modifier } = parseKey(key);
    const field = byExactName.get(name);
    if (!field) {
      errors[key] = fieldError('validation_unknown_field', `Unknown field "${key}".`);
      continue;
    }
    // Server-managed values: accepted in the body (clients echo records back) but never applied.
    if (field.type === 'autodate') continue;
    const isPassword = collection.isAuth && field.name === 'password';
    if (field.hidden && !opts.seesHidden && !isPassword) continue;
    if (!opts.isNew && field.name === 'id' && modifier === 'set' && raw === current.id) continue;

    const next = applyModifier(field, values[field.name], raw, modifier);
    if (next === INVALID) {
      errors[key] = invalid();
      continue;
    }
    if (field.type === 'file') {
      // Filenames can only be kept, reordered or removed; new files arrive as uploads.
      const existing = valuesOf(current[field.name]);
      const uploaded = newFiles.get(field.name);
      const invalidFiles = valuesOf(next).filter((f) => !existing.includes(f) && !uploaded?.has(f));
      if (invalidFiles.length > 0) {
        const listed = invalidFiles.map((f) => f.slice(0, 250));
        errors[key] = fieldError('validation_invalid_file', `Invalid new files: ${listed.join(', ')}.`, { invalidFiles: listed });
        continue;
      }
    }
    values[field.name] = next;
    touched.add(field.name);
  }

  const bodyForRules: Record<string, unknown> = { ...extras };
  for (const name of touched) bodyForRules[name] = values[name];
  return { values, touched, errors, bodyForRules, extras };
}
