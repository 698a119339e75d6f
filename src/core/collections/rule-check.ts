/**
 * Rules must keep meaning what they say after every schema change. A rule whose field no longer
 * resolves would fail closed at best; `@request.auth.<field>` would even fail *open* (an unknown
 * auth field reads as NULL, so `@request.auth.banned != true` holds for everyone). So every rule
 * of every collection is checked against the schema as it will be, and `@request.auth.<field>`
 * must name a field of some auth collection.
 */
import { fieldError, type ErrorData } from '../errors.js';
import type { Expr, Operand } from '../rules/ast.js';
import { validateFilter } from '../rules/compiler.js';
import type { FilterDialect } from '../rules/filter-dialect.js';
import type { ParsedRule } from '../rules/parsed-rule.js';
import { FilterResolveError } from '../rules/resolve-error.js';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';

/** Auth fields `@request.auth.*` can always read (they come from the token's record). */
const ALWAYS_AUTH_FIELDS = new Set(['id', 'collectionid', 'collectionname', 'email', 'emailvisibility', 'verified']);

function identifiers(expr: Expr, out: string[] = []): string[] {
  const visit = (o: Operand) => {
    if (o.kind === 'identifier') out.push(o.name);
    else if (o.kind === 'function') o.args.forEach(visit);
  };
  if (expr.kind === 'comparison') {
    visit(expr.left);
    visit(expr.right);
  } else {
    identifiers(expr.left, out);
    identifiers(expr.right, out);
  }
  return out;
}

function checkAuthFields(expr: Expr, schema: SchemaView): void {
  const authCollections = schema.all().filter((m) => m.isAuth);
  for (const name of identifiers(expr)) {
    if (!name.startsWith('@request.auth.')) continue;
    const first = name.split('.')[2].split(':')[0];
    if (ALWAYS_AUTH_FIELDS.has(first.toLowerCase())) continue;
    const via = /^(\w+)_via_(\w+)$/.exec(first);
    const backRelation = via && schema.find(via[1])?.field(via[2]);
    const viaAuth = backRelation && backRelation.type === 'relation' && authCollections.some((c) => c.id === backRelation.collectionId);
    if (!viaAuth && !authCollections.some((c) => c.field(first))) {
      throw new FilterResolveError(`"@request.auth.${first}" is not a field of any auth collection`);
    }
  }
}

export function rulesOf(model: CollectionModel): [string, ParsedRule][] {
  const entries: [string, ParsedRule][] = [
    ['listRule', model.rules.list],
    ['viewRule', model.rules.view],
    ['createRule', model.rules.create],
    ['updateRule', model.rules.update],
    ['deleteRule', model.rules.delete],
  ];
  if (model.isAuth) entries.push(['authRule', model.rules.auth], ['manageRule', model.rules.manage]);
  return entries;
}

/**
 * Errors for the rules of `model` that would read an `@request.auth` field no auth collection
 * has: the ones that would fail open. (Other unresolvable paths fail closed at run time.)
 */
export function authFieldErrors(model: CollectionModel, schema: SchemaView): ErrorData {
  const errors: ErrorData = {};
  for (const [key, rule] of rulesOf(model)) {
    if (rule.kind !== 'filter') continue;
    try {
      checkAuthFields(rule.expr, schema);
    } catch (err) {
      if (err instanceof FilterResolveError) errors[key] = fieldError('validation_invalid_rule', `Invalid rule: ${err.message}.`);
      else throw err;
    }
  }
  return errors;
}

/**
 * Why `rule` (a rule of `model` not stored among its rules: a workflow transition's) does not
 * resolve in `schema`, or null when it does; checked as {@link ruleErrors} checks the collection's.
 */
export function ruleProblem(rule: ParsedRule, model: CollectionModel, schema: SchemaView, dialect: FilterDialect): string | null {
  if (rule.kind !== 'filter') return null;
  try {
    validateFilter(rule.expr, { schema, collection: model, dialect, allowHiddenFields: true });
    checkAuthFields(rule.expr, schema);
    return null;
  } catch (err) {
    if (err instanceof FilterResolveError) return err.message;
    throw err;
  }
}

/** Field errors (`validation_invalid_rule`) for the rules of `model` that do not resolve in `schema`. */
export function ruleErrors(model: CollectionModel, schema: SchemaView, dialect: FilterDialect): ErrorData {
  const errors: ErrorData = {};
  for (const [key, rule] of rulesOf(model)) {
    if (rule.kind !== 'filter') continue;
    try {
      validateFilter(rule.expr, { schema, collection: model, dialect, allowHiddenFields: true });
      checkAuthFields(rule.expr, schema);
    } catch (err) {
      if (err instanceof FilterResolveError) errors[key] = fieldError('validation_invalid_rule', `Invalid rule: ${err.message}.`);
      else throw err;
    }
  }
  return errors;
}
