/**
 * Normalises and validates the `fields` of a submitted collection: known types only, options
 * completed with defaults and checked by each field type, names valid and unique, system fields
 * kept, stable ids (a renamed field keeps its id, which is how a rename is told from a
 * drop-and-add).
 */
import { fieldError, type ErrorData } from '../errors.js';
import { isPlainObject } from './fields/coerce.js';
import { fieldTypeOf } from './fields/index.js';
import type { OptionContext } from './fields/field-type.js';
import { defaultFieldId } from './scaffolds.js';
import { FIELD_TYPES, type Collection, type Field, type FieldTypeName } from '../model/collection-types.js';

export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_NAME_LENGTH = 63;
/** Keys the record JSON uses for itself. */
const RESERVED_FIELD_NAMES = new Set(['expand', 'collectionid', 'collectionname']);
/** Body keys of the auth endpoints and forms, which cannot also be fields. */
const RESERVED_AUTH_FIELD_NAMES = new Set(['passwordconfirm', 'oldpassword']);
const COMMON_KEYS = ['id', 'name', 'type', 'system', 'hidden', 'presentable', 'help'];

/** Builds one field from submitted JSON: known keys only, defaults filled in. */
function normalizeField(raw: Record<string, unknown>, previous: Field | undefined): Field {
  const type = raw.type as FieldTypeName;
  const ft = fieldTypeOf(type);
  const field: Record<string, unknown> = { ...ft.defaults };
  for (const key of [...COMMON_KEYS, ...Object.keys(ft.defaults), ...(ft.optionalKeys ?? [])]) {
    if (raw[key] !== undefined) field[key] = raw[key];
  }
  field.type = type;
  field.name = typeof raw.name === 'string' ? raw.name.trim() : raw.name;
  field.system = previous?.system ?? false;
  field.hidden = Boolean(field.hidden);
  field.presentable = Boolean(field.presentable);
  if (field.help === undefined) field.help = '';
  return field as Field;
}

/** The flags PocketBase's initIdField/initPasswordField/… force on a field of that name and type. */
function enforcedFlags(field: Field, collectionType: Collection['type']): Partial<Field> | undefined {
  const is = (name: string, type: FieldTypeName) => field.name === name && field.type === type;
  if (is('id', 'text')) return { system: true, required: true, primaryKey: true, hidden: false };
  if (collectionType !== 'auth') return undefined;
  if (is('password', 'password') || is('tokenKey', 'text')) return { system: true, hidden: true, required: true };
  if (is('email', 'email')) return { system: true, hidden: false };
  if (is('emailVisibility', 'bool') || is('verified', 'bool')) return { system: true };
  return undefined;
}

/**
 * What PocketBase enforces on every save, whatever the client sent, before validating: the `id`
 * field (and an auth collection's own fields) are system fields with fixed flags. Without it a
 * collection created from a scaffold would get an `id` with `system: false`, which a later
 * update could then drop.
 */
function enforceSystemFlags(field: Field, collectionType: Collection['type']): void {
  const flags = enforcedFlags(field, collectionType);
  if (!flags) return;
  Object.assign(field, flags);
  if (field.name === 'id' && !field.pattern) field.pattern = '^[a-z0-9]+$';
}

export interface FieldsResult {
  fields: Field[];
  errors: ErrorData;
}

/**
 * Validates `rawFields` for `collection` (whose other properties are already normalised).
 * `previous` is the stored collection on update.
 */
export function validateFields(
  rawFields: unknown,
  collection: Collection,
  previous: Collection | undefined,
  ctx: Omit<OptionContext, 'collection'>,
): FieldsResult {
  const errors: ErrorData = {};
  if (!Array.isArray(rawFields)) {
    return { fields: [], errors: { fields: fieldError('validation_invalid_fields', 'Must be a list of fields.') } };
  }
  const fields: Field[] = [];
  const usedIds = new Set<string>();
  rawFields.forEach((raw, index) => {
    const fieldErrors: ErrorData = {};
    if (!isPlainObject(raw)) {
      errors[String(index)] = fieldError('validation_invalid_field', 'Must be a field object.');
      return;
    }
    if (typeof raw.type !== 'string' || !(FIELD_TYPES as readonly string[]).includes(raw.type)) {
      errors[String(index)] = { type: fieldError('validation_invalid_field_type', `Unknown field type "${String(raw.type)}".`) };
      return;
    }
    const byId = typeof raw.id === 'string' && raw.id !== '' ? previous?.fields.find((f) => f.id === raw.id) : undefined;
    const byName = !byId && typeof raw.name === 'string' ? previous?.fields.find((f) => f.name.toLowerCase() === String(raw.name).toLowerCase()) : undefined;
    const prev = byId ?? (byName && byName.type === raw.type ? byName : undefined);
    const field = normalizeField(raw, prev);
    enforceSystemFlags(field, collection.type);
    if (prev && !byId) field.id = prev.id;
    if (typeof field.id !== 'string' || field.id === '') field.id = defaultFieldId(field.type, String(field.name));
    if (usedIds.has(field.id)) field.id = `${field.type}${Math.floor(Math.random() * 1e10)}`;
    usedIds.add(field.id);

    if (typeof field.name !== 'string' || !FIELD_NAME.test(field.name) || field.name.length > MAX_NAME_LENGTH) {
      fieldErrors.name = fieldError('validation_invalid_field_name', `Field names are letters, digits and _, start with a letter or _ and have at most ${MAX_NAME_LENGTH} characters.`);
    } else if (field.name.startsWith('__')) {
      fieldErrors.name = fieldError('validation_field_name_reserved', 'Names starting with "__" are reserved.');
    } else if (
      RESERVED_FIELD_NAMES.has(field.name.toLowerCase()) ||
      (collection.type === 'auth' && RESERVED_AUTH_FIELD_NAMES.has(field.name.toLowerCase())) ||
      (field.name.toLowerCase() === 'id' && !field.primaryKey)
    ) {
      fieldErrors.name = fieldError('validation_reserved_field_name', `"${field.name}" is a reserved name.`);
    } else if (fields.some((f) => f.name.toLowerCase() === field.name.toLowerCase())) {
      fieldErrors.name = fieldError('validation_duplicated_field_name', 'Field names must be unique.');
    }
    if (prev?.system) {
      if (prev.name !== field.name) fieldErrors.name = fieldError('validation_system_field_change', 'System fields cannot be renamed.');
      if (prev.type !== field.type) fieldErrors.type = fieldError('validation_system_field_change', 'System fields cannot change type.');
    }
    const issues = { add: (option: string, e: { code: string; message: string }) => (fieldErrors[option] ??= e) };
    const type = fieldTypeOf(field.type);
    // Basalt's own options are switches.
    for (const key of type.optionalKeys ?? []) if (field[key] !== undefined && typeof field[key] !== 'boolean') issues.add(key, fieldError('validation_invalid_value', 'Must be a boolean.'));
    type.checkOptions(field, issues, { ...ctx, collection: { ...collection, fields: [...fields, field] } });
    if (Object.keys(fieldErrors).length > 0) errors[String(index)] = fieldErrors;
    fields.push(field);
  });

  // A field marked system (or a system field of the stored collection) may not disappear.
  for (const old of previous?.fields ?? []) {
    if (old.system && !fields.some((f) => f.id === old.id)) {
      errors.system = fieldError('validation_system_field_removed', `System field "${old.name}" cannot be removed.`);
    }
  }
  return { fields, errors: Object.keys(errors).length > 0 ? { fields: errors } : {} };
}
