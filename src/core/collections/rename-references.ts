/**
 * Keeps rules and indexes true when a field or a collection is renamed: every identifier that
 * names the old field (directly, through a relation path, a back-relation `x_via_field` or
 * `@collection.x`) is rewritten in place, so comments and layout of the rule survive.
 */
import type { Expr, Operand } from '../rules/ast.js';
import { parseFilter } from '../rules/parser.js';
import { renameIndexColumn, formatIndex, parseIndex } from './index-definition.js';
import type { Collection } from '../model/collection-types.js';

export interface Renames {
  /** collection id → new name (only for renamed collections) */
  collections: Map<string, string>;
  /** collection id → (old field name, lowercase → new name) */
  fields: Map<string, Map<string, string>>;
}

export function hasRenames(r: Renames): boolean {
  return r.collections.size > 0 || [...r.fields.values()].some((m) => m.size > 0);
}

/** Field renames between two versions of a collection (same field id, different name). */
export function detectRenames(prev: Collection, next: Collection): Renames {
  const fields = new Map<string, string>();
  for (const old of prev.fields) {
    const now = next.fields.find((f) => f.id === old.id);
    if (now && now.name !== old.name) fields.set(old.name.toLowerCase(), now.name);
  }
  return {
    collections: prev.name !== next.name ? new Map([[prev.id, next.name]]) : new Map(),
    fields: new Map([[prev.id, fields]]),
  };
}

type Lookup = (idOrName: string) => Collection | undefined;

/** `@request.auth.<old>` → `<new>` when exactly the renamed auth collection has a field `<old>`. */
function renameAuthPath(parts: string[], find: Lookup, renames: Renames, authCollections: Collection[]): void {
  const [segment] = parts[2].split(':');
  const owners = authCollections.filter((c) => c.fields.some((f) => f.name.toLowerCase() === segment.toLowerCase()));
  if (owners.length !== 1) return;
  renamePath(parts, 2, owners[0], find, renames);
}

function collectIdentifiers(expr: Expr, out: { name: string; start: number; end: number }[]): void {
  const visit = (o: Operand) => {
    if (o.kind === 'identifier') out.push({ name: o.name, start: o.start, end: o.end });
    else if (o.kind === 'function') o.args.forEach(visit);
  };
  if (expr.kind === 'comparison') {
    visit(expr.left);
    visit(expr.right);
  } else {
    collectIdentifiers(expr.left, out);
    collectIdentifiers(expr.right, out);
  }
}

/** Renames the segments of one identifier path that start at `start` in `collection`. */
function renamePath(parts: string[], from: number, collection: Collection | undefined, find: Lookup, renames: Renames): void {
  let current = collection;
  for (let i = from; i < parts.length && current; i++) {
    const [segment, ...modifier] = parts[i].split(':');
    const suffix = modifier.length ? ':' + modifier.join(':') : '';
    const field = current.fields.find((f) => f.name.toLowerCase() === segment.toLowerCase());
    const renamedTo = renames.fields.get(current.id)?.get(segment.toLowerCase());
    if (field) {
      if (renamedTo) parts[i] = renamedTo + suffix;
      if (field.type === 'json' || field.type === 'geoPoint') return;
      current = field.type === 'relation' ? find(String(field.collectionId)) : undefined;
      continue;
    }
    const via = /^(\w+)_via_(\w+)$/.exec(segment);
    if (!via) return;
    const source = find(via[1]);
    if (!source) return;
    const newSource = renames.collections.get(source.id) ?? via[1];
    const newField = renames.fields.get(source.id)?.get(via[2].toLowerCase()) ?? via[2];
    parts[i] = `${newSource}_via_${newField}${suffix}`;
    current = source;
  }
}

function renameIdentifier(name: string, base: Collection, find: Lookup, renames: Renames, authCollections: Collection[]): string {
  const parts = name.split('.');
  if (parts[0] === '@collection' && parts.length > 2) {
    const [collectionName, ...alias] = parts[1].split(':');
    const target = find(collectionName);
    if (!target) return name;
    const renamed = renames.collections.get(target.id);
    if (renamed) parts[1] = [renamed, ...alias].join(':');
    renamePath(parts, 2, target, find, renames);
  } else if (parts[0] === '@request') {
    if ((parts[1] === 'body' || parts[1] === 'data') && parts.length > 2) renamePath(parts, 2, base, find, renames);
    else if (parts[1] === 'auth' && parts.length > 2) renameAuthPath(parts, find, renames, authCollections);
  } else if (!parts[0].startsWith('@')) {
    renamePath(parts, 0, base, find, renames);
  }
  return parts.join('.');
}

/** Rewrites a rule written for `base` (as it was before the renames); unparsable rules are returned as is. */
export function renameInRule(rule: string | null, base: Collection, find: Lookup, renames: Renames, authCollections: Collection[] = []): string | null {
  if (rule === null || rule.trim() === '') return rule;
  let expr: Expr;
  try {
    expr = parseFilter(rule);
  } catch {
    return rule;
  }
  const ids: { name: string; start: number; end: number }[] = [];
  collectIdentifiers(expr, ids);
  let out = rule;
  for (const id of ids.sort((a, b) => b.start - a.start)) {
    const renamed = renameIdentifier(id.name, base, find, renames, authCollections);
    if (renamed !== id.name) out = out.slice(0, id.start) + renamed + out.slice(id.end);
  }
  return out;
}

/** Rewrites index strings of `base` for its own field renames. */
export function renameInIndexes(indexes: string[], base: Collection, renames: Renames): string[] {
  const fieldRenames = renames.fields.get(base.id);
  if (!fieldRenames || fieldRenames.size === 0) return indexes;
  return indexes.map((sql) => {
    try {
      let def = parseIndex(sql);
      for (const [oldName, newName] of fieldRenames) def = renameIndexColumn(def, oldName, newName);
      return formatIndex(def);
    } catch {
      return sql;
    }
  });
}

const RULE_KEYS = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'authRule', 'manageRule'] as const;

/** Applies renames to every rule of `c` (a copy is returned only when something changed). */
export function renameInCollectionRules(c: Collection, find: Lookup, renames: Renames, authCollections: Collection[] = []): Collection | null {
  let changed: Collection | null = null;
  for (const key of RULE_KEYS) {
    const rule = c[key];
    if (rule === undefined || rule === null) continue;
    const next = renameInRule(rule, c, find, renames, authCollections);
    if (next !== rule) {
      changed ??= structuredClone(c);
      (changed as any)[key] = next;
    }
  }
  if (c.mfa?.rule) {
    const next = renameInRule(c.mfa.rule, c, find, renames, authCollections);
    if (next !== c.mfa.rule) {
      changed ??= structuredClone(c);
      changed.mfa = { ...changed.mfa!, rule: next ?? '' };
    }
  }
  return changed;
}
