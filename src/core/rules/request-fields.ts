/**
 * `@request.*` identifiers: static values of the request (context, method, headers, query,
 * body, the auth record's plain fields) become bound literals; auth and body relations become
 * joins; `:isset`, `:changed`, `:length`, `:each` and `:lower` follow PocketBase.
 */
import { sql } from 'kysely';
import type { Compilation } from './compiler.js';
import { compareValues } from './compare.js';
import { exprOperand, literalOperand, type LiteralValue, type Operand } from './operand.js';
import { splitModifier, walkPath } from './path-walker.js';
import { FilterResolveError } from './resolve-error.js';

/** Auth fields readable without a join (PocketBase's plainRequestAuthFields). */
const PLAIN_AUTH_FIELDS = new Set(['id', 'collectionId', 'collectionName', 'email', 'emailVisibility', 'verified']);

/** A static request value as a literal: arrays and objects as JSON text, as PocketBase casts them. */
function toLiteral(value: unknown): LiteralValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'object' && 'plain' in (value as object)) return null; // never expose a submitted password
  return JSON.stringify(value);
}

function dig(value: unknown, keys: string[]): unknown {
  let v = value;
  for (const k of keys) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function toList(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/** A static value with an optional modifier (`:isset`, `:lower`, `:length`). */
function staticOperand(c: Compilation, present: boolean, value: unknown, modifier: string): Operand {
  const d = c.dialect;
  switch (modifier) {
    case 'isset':
      return literalOperand(d, present);
    case 'length':
      return literalOperand(d, toList(value).length);
    case 'lower':
      return exprOperand(d, d.lower(literalOperand(d, toLiteral(value)).as('text')), 'text');
    case '':
      return literalOperand(d, toLiteral(value));
    default:
      throw new FilterResolveError(`":${modifier}" is not supported here`);
  }
}

export function resolveRequestIdentifier(c: Compilation, name: string): Operand {
  const d = c.dialect;
  const request = c.ctx.request;
  const parts = name.split('.');
  if (!request) return literalOperand(d, null);
  const { name: section, modifier: sectionModifier } = splitModifier(parts[1]);

  switch (section) {
    case 'context':
    case 'method':
      if (parts.length !== 2) break;
      return staticOperand(c, true, section === 'context' ? request.context : request.method, sectionModifier);
    case 'headers':
    case 'query': {
      if (parts.length < 3) break;
      const source = section === 'headers' ? request.headers : request.query;
      const { name: key, modifier } = splitModifier(parts[parts.length - 1]);
      const keys = [...parts.slice(2, -1), key];
      const value = dig(source, keys);
      return staticOperand(c, value !== undefined, value, modifier);
    }
    case 'auth':
      return authOperand(c, parts.slice(2));
    case 'body':
    case 'data':
      return bodyOperand(c, parts.slice(2));
  }
  // Unknown @request fields are NULL, as in PocketBase.
  return literalOperand(d, null);
}

function authOperand(c: Compilation, props: string[]): Operand {
  const d = c.dialect;
  const auth = c.ctx.request?.auth;
  if (props.length === 0) return literalOperand(d, null);
  const { name: first, modifier } = splitModifier(props[0]);
  if (!auth) return modifier === 'isset' ? literalOperand(d, false) : literalOperand(d, null);
  if (props.length === 1 && PLAIN_AUTH_FIELDS.has(first)) {
    const values: Record<string, unknown> = {
      ...auth.values,
      collectionId: auth.collection.id,
      collectionName: auth.collection.name,
    };
    return staticOperand(c, first in values, values[first], modifier);
  }
  const path = walkPath(auth.collection, props, [{ type: 'auth', target: auth.collection, id: String(auth.values.id) }], {
    schema: c.ctx.schema,
    allowHidden: true,
    nullifyMissing: true,
  });
  return c.path(path);
}

function bodyOperand(c: Compilation, props: string[]): Operand {
  const d = c.dialect;
  const body = c.ctx.request?.body ?? {};
  if (props.length === 0) return literalOperand(d, null);
  const { name: key, modifier } = splitModifier(props[0]);
  const field = c.ctx.collection.field(key);
  const present = Object.prototype.hasOwnProperty.call(body, key);
  const value = body[key];

  if (props.length > 1) {
    if (field?.type === 'relation' && !modifier) {
      const target = c.ctx.schema.find(String(field.collectionId));
      if (!target) return literalOperand(d, null);
      const ids = toList(value).map(String);
      if (ids.length === 0) return literalOperand(d, null);
      const path = walkPath(target, props.slice(1), [{ type: 'bodyRelation', target, fieldName: field.name, ids }], {
        schema: c.ctx.schema,
        allowHidden: true,
        nullifyMissing: true,
      });
      if (path && c.ctx.collection.isMultiple(field)) path.multi = true;
      return c.path(path);
    }
    const { name: last, modifier: lastModifier } = splitModifier(props[props.length - 1]);
    const nested = dig(value, [...props.slice(1, -1), last]);
    return staticOperand(c, nested !== undefined, nested, lastModifier);
  }

  if (modifier === 'changed') {
    if (!field) throw new FilterResolveError(`":changed" needs a field of the collection, "${key}" is not one`);
    if (!present) return literalOperand(d, false);
    const stored = c.path(walkPath(c.ctx.collection, [field.name], [], { schema: c.ctx.schema, allowHidden: true, nullifyMissing: false }));
    const differs = compareValues(d, '!=', stored, literalOperand(d, toLiteral(value)));
    return exprOperand(d, d.boolValue(differs), 'bool');
  }

  if (modifier === 'each') {
    if (field && !['select', 'file', 'relation'].includes(field.type)) {
      throw new FilterResolveError(`":each" is not supported by field "${key}"`);
    }
    const items = JSON.stringify(toList(value).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
    const param = () => d.param(items, 'text');
    const alias = c.scope.join(`body-each:${key}`, (a) => sql`LEFT JOIN ${d.jsonEach(param(), a, true)} ON TRUE`);
    const operand = exprOperand(d, sql.ref(`${alias}.value`), 'text');
    if (!field || c.ctx.collection.isMultiple(field)) {
      operand.multi = {
        build: (as) => {
          const je = c.nextAlias();
          return sql`SELECT ${d.cast(sql.ref(`${je}.value`), 'text', as)} AS ${sql.id('v')} FROM ${d.jsonEach(param(), je, true)}`;
        },
      };
    }
    return operand;
  }

  return staticOperand(c, present, value, modifier);
}
