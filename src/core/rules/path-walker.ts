/**
 * Resolves the field part of an identifier (`author.org.name`, `tags:each`, `data.a.0`) against
 * a collection into a FieldPath, following PocketBase's resolver: JSON and geoPoint fields take
 * the rest of the path as a JSON path, relations and back-relations (`coll_via_field`) become
 * joins (at most 6), and the last segment may carry `:length`, `:each` or `:lower`.
 */
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import { findSingleColumnUniqueIndex } from '../collections/index-definition.js';
import type { Field } from '../model/collection-types.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import type { FieldPath, Leaf, Step } from './field-path.js';
import type { ValueKind } from './filter-dialect.js';
import { FilterResolveError } from './resolve-error.js';

export const MAX_NESTED_RELATIONS = 6;
const VIA = /^(\w+)_via_(\w+)$/;
const MODIFIERS = new Set(['isset', 'changed', 'length', 'each', 'lower']);
const MULTI_VALUE_TYPES = new Set(['select', 'file', 'relation']);

export function splitModifier(prop: string): { name: string; modifier: string } {
  const i = prop.indexOf(':');
  if (i === -1) return { name: prop, modifier: '' };
  const name = prop.slice(0, i);
  const modifier = prop.slice(i + 1);
  if (!MODIFIERS.has(modifier)) throw new FilterResolveError(`unknown modifier ":${modifier}" in "${prop}"`);
  return { name, modifier };
}

export interface WalkOptions {
  schema: SchemaView;
  allowHidden: boolean;
  /** `@request.*` paths resolve missing fields to NULL instead of failing (PocketBase compat). */
  nullifyMissing: boolean;
  /** Whether the path may join into `collection` (API keys: only collections in their scopes). */
  canEnter?: (collection: CollectionModel) => boolean;
}

function leafKind(field: Field): ValueKind {
  const kind = fieldTypeOf(field.type).column(field).kind;
  // Multi-valued fields compare as their stored JSON text (`tags ~ "x"`), as in PocketBase.
  return kind === 'json' ? 'text' : kind;
}

function jsonPath(props: string[]): (string | number)[] {
  return props.map((p) => {
    if (/^\d+$/.test(p)) return Number(p);
    if (!/^\w+$/.test(p)) throw new FilterResolveError(`invalid JSON path segment "${p}"`);
    return p;
  });
}

/**
 * Walks `props` from `collection`. Returns null when a missing field must resolve to NULL.
 * `steps` are the joins already taken to reach `collection` (they are extended, not copied).
 */
export function walkPath(collection: CollectionModel, props: string[], steps: Step[], opts: WalkOptions): FieldPath | null {
  let current = collection;
  let multi = steps.some((s) => s.type === 'collection' || (s.type === 'relation' && s.multiple) || (s.type === 'bodyRelation' && s.ids.length > 1));
  const missing = (what: string): null => {
    if (opts.nullifyMissing) return null;
    throw new FilterResolveError(what);
  };

  for (let i = 0; i < props.length; i++) {
    const prop = props[i];
    const isLast = i === props.length - 1;
    if (isLast) return lastProp(current, prop, steps, multi, opts);

    const field = current.field(prop);
    if (field?.hidden && !opts.allowHidden) throw new FilterResolveError(`non-filterable field "${prop}"`);

    if (field && (field.type === 'json' || field.type === 'geoPoint')) {
      const leaf: Leaf = { type: 'json', field, path: jsonPath(props.slice(i + 1)) };
      return { steps, leaf, lower: false, multi, emailGuard: false };
    }

    const depth = steps.filter((s) => s.type === 'relation' || s.type === 'back').length;
    if (depth >= MAX_NESTED_RELATIONS) throw new FilterResolveError(`max nested relations reached for "${prop}"`);

    if (!field) {
      const via = VIA.exec(prop);
      if (!via) return missing(`unknown field "${prop}"`);
      const source = opts.schema.find(via[1]);
      if (!source) return missing(`unknown back-relation collection "${via[1]}"`);
      const backField = source.field(via[2]);
      if (!backField || backField.type !== 'relation') return missing(`invalid back-relation field "${via[2]}"`);
      if (backField.collectionId !== current.id) return missing(`"${via[2]}" does not relate to "${current.name}"`);
      if (backField.hidden && !opts.allowHidden) throw new FilterResolveError(`non-filterable back-relation field "${via[2]}"`);
      const fieldMultiple = source.isMultiple(backField);
      const single = !fieldMultiple && findSingleColumnUniqueIndex([...source.indexes], backField.name) !== undefined;
      if (!single) multi = true;
      if (opts.canEnter && !opts.canEnter(source)) throw new FilterResolveError(`"${prop}" leads to a collection out of reach`);
      steps.push({ type: 'back', source, fieldName: backField.name, fieldMultiple });
      current = source;
      continue;
    }

    if (field.type !== 'relation') throw new FilterResolveError(`field "${prop}" is not a relation`);
    const target = opts.schema.find(String(field.collectionId));
    if (!target) throw new FilterResolveError(`missing collection of relation "${prop}"`);
    const multiple = current.isMultiple(field);
    // "rel.id" on a single relation is the stored id itself: no join needed.
    if (!multiple && i === props.length - 2 && props[i + 1] === 'id') return lastProp(current, prop, steps, multi, opts);
    if (multiple) multi = true;
    if (opts.canEnter && !opts.canEnter(target)) throw new FilterResolveError(`"${prop}" leads to a collection out of reach`);
    steps.push({ type: 'relation', fieldName: field.name, target, multiple });
    current = target;
  }
  throw new FilterResolveError('empty field path');
}

function lastProp(collection: CollectionModel, prop: string, steps: Step[], multi: boolean, opts: WalkOptions): FieldPath | null {
  const { name, modifier } = splitModifier(prop);
  const field = collection.field(name);
  if (!field) {
    if (opts.nullifyMissing) return null;
    throw new FilterResolveError(`unknown field "${name}"`);
  }
  if ((field.hidden || field.type === 'password') && !opts.allowHidden) throw new FilterResolveError(`non-filterable field "${name}"`);
  const isMultiValuer = MULTI_VALUE_TYPES.has(field.type);
  const isArray = collection.isMultiple(field);
  let leaf: Leaf;
  switch (modifier) {
    case 'length':
      if (!isMultiValuer && field.type !== 'json') throw new FilterResolveError(`":length" is not supported by field "${name}"`);
      leaf = { type: 'length', field, isArray: isArray || field.type === 'json' };
      break;
    case 'each':
      if (!isMultiValuer) throw new FilterResolveError(`":each" is not supported by field "${name}"`);
      leaf = { type: 'each', field, isArray };
      if (isArray) multi = true;
      break;
    case 'isset':
    case 'changed':
      throw new FilterResolveError(`":${modifier}" is only supported on @request.* fields`);
    default:
      leaf = field.type === 'json' || field.type === 'geoPoint' ? { type: 'json', field, path: [] } : { type: 'column', field, kind: leafKind(field) };
  }
  const emailGuard = field.name === 'email' && collection.isAuth && !opts.allowHidden;
  return { steps, leaf, lower: modifier === 'lower', multi, emailGuard };
}
