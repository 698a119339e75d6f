/**
 * Comparisons of the filter language with PocketBase's semantics on every engine:
 * `=`/`!=` treat NULL and '' alike (except for strict JSON values), `!=` is null-safe, `~`
 * wraps its literal in `%…%` unless it has its own wildcard, and operators without `?` on a
 * multi-valued operand must hold for every value (checked with NOT EXISTS).
 */
import { sql } from 'kysely';
import type { CompareOp } from './ast.js';
import type { FilterDialect, Sql, ValueKind } from './filter-dialect.js';
import { exprOperand, targetKind, type Operand } from './operand.js';

const TRUE = sql`(1=1)`;
const FALSE = sql`(1=0)`;

function isEmptyLiteral(o: Operand): boolean {
  return o.literal !== undefined && (o.literal.value === null || o.literal.value === '');
}

function isKnownNonEmpty(o: Operand): boolean {
  return o.literal !== undefined && !isEmptyLiteral(o);
}

function emptyCheck(d: FilterDialect, o: Operand, negate: boolean): Sql {
  if (o.kind === 'text') {
    const v = o.as('text');
    return negate ? sql`(${v} <> '' AND ${v} IS NOT NULL)` : sql`(${v} = '' OR ${v} IS NULL)`;
  }
  const isNull = d.isNull(o.as(o.kind), o.kind);
  return negate ? sql`(NOT ${isNull})` : isNull;
}

function equality(d: FilterDialect, a: Operand, b: Operand, negate: boolean): Sql {
  const t = targetKind(a, b);
  if (a.strict || b.strict) {
    if (a.kind === 'null' || b.kind === 'null') {
      const other = a.kind === 'null' ? b : a;
      const isNull = d.isNull(other.as(other.kind === 'null' ? 'text' : other.kind), other.kind);
      return negate ? sql`(NOT ${isNull})` : isNull;
    }
    return d.isSame(a.as(t), b.as(t), t, negate);
  }
  const aEmpty = isEmptyLiteral(a);
  const bEmpty = isEmptyLiteral(b);
  if (aEmpty && bEmpty) return negate ? FALSE : TRUE;
  if (isKnownNonEmpty(a) || isKnownNonEmpty(b)) {
    if (aEmpty) return emptyCheck(d, b, negate);
    if (bEmpty) return emptyCheck(d, a, negate);
    return negate ? d.isSame(a.as(t), b.as(t), t, true) : sql`(${a.as(t)} = ${b.as(t)})`;
  }
  if (aEmpty) return emptyCheck(d, b, negate);
  if (bEmpty) return emptyCheck(d, a, negate);
  if (t === 'text') {
    const l = sql`COALESCE(${a.as(t)}, '')`;
    const r = sql`COALESCE(${b.as(t)}, '')`;
    return negate ? sql`(${l} <> ${r})` : sql`(${l} = ${r})`;
  }
  return d.isSame(a.as(t), b.as(t), t, negate);
}

/** Escapes `\`, `%` and `_` that are not escaped already (PocketBase's auto-escape for `~`). */
function escapeLike(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') {
      // keep an existing escape sequence as written
      out += c + (value[i + 1] ?? '\\');
      i++;
    } else if (c === '%' || c === '_') out += '\\' + c;
    else out += c;
  }
  return out;
}

function hasUnescapedPercent(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '%') return true;
  }
  return false;
}

function like(d: FilterDialect, a: Operand, b: Operand, negate: boolean): Sql {
  const value = a.as('text');
  let pattern: Sql;
  if (b.literal !== undefined) {
    const text = b.literal.value === null ? '' : String(b.literal.value);
    pattern = d.param(hasUnescapedPercent(text) ? text : `%${escapeLike(text)}%`, 'text');
  } else {
    pattern = d.concat(sql`'%'`, b.as('text'), sql`'%'`);
  }
  return d.like(value, pattern, negate);
}

/** `a op b` for single values (the "any" reading when an operand is multi-valued). */
export function compareValues(d: FilterDialect, op: CompareOp, a: Operand, b: Operand): Sql {
  switch (op) {
    case '=':
      return equality(d, a, b, false);
    case '!=':
      return equality(d, a, b, true);
    case '~':
      return like(d, a, b, false);
    case '!~':
      return like(d, a, b, true);
    default: {
      const t = targetKind(a, b);
      return sql`(${a.as(t)} ${sql.raw(op)} ${b.as(t)})`;
    }
  }
}

/** A value of the `v` column of a multi-match subquery, rendered already as `kind`. */
function subqueryValue(d: FilterDialect, alias: string, kind: ValueKind, strict: boolean | undefined): Operand {
  return exprOperand(d, sql.ref(`${alias}.v`), kind, { strict });
}

/** The kind a multi-match subquery renders its values as, given the other side. */
function mmKind(self: Operand, other: Operand): ValueKind {
  const t = targetKind(self, other);
  return t === 'null' ? (self.kind === 'null' ? 'text' : self.kind) : t;
}

/**
 * A full comparison: the "any" condition on the joined values, and for operators without `?`
 * on a multi-valued side, `NOT EXISTS` a value that fails it (NULL values fail, except for `=`,
 * so `rel.total > 0` needs every related record to exist and match).
 */
export function buildComparison(d: FilterDialect, op: CompareOp, any: boolean, a: Operand, b: Operand, nextAlias: () => string): Sql {
  let expr = compareValues(d, op, a, b);
  if (!any && (a.multi || b.multi)) {
    const failsNull = (alias: string) => (op === '=' ? null : sql`${sql.ref(`${alias}.v`)} IS NULL`);
    let notExists: Sql;
    if (a.multi && b.multi) {
      const la = nextAlias();
      const ra = nextAlias();
      const ka = mmKind(a, b);
      const kb = mmKind(b, a);
      const cmp = compareValues(d, op, subqueryValue(d, la, ka, a.strict), subqueryValue(d, ra, kb, b.strict));
      const fails = [sql`NOT COALESCE(${cmp}, ${FALSE})`, failsNull(la), failsNull(ra)].filter((x): x is Sql => x !== null);
      notExists = sql`NOT EXISTS (SELECT 1 FROM (${a.multi.build(ka)}) AS ${sql.id(la)} LEFT JOIN (${b.multi.build(kb)}) AS ${sql.id(ra)} ON TRUE WHERE ${sql.join(fails, sql` OR `)})`;
    } else {
      const multiSide = a.multi ? a : b;
      const other = a.multi ? b : a;
      const alias = nextAlias();
      const k = mmKind(multiSide, other);
      const v = subqueryValue(d, alias, k, multiSide.strict);
      const cmp = a.multi ? compareValues(d, op, v, other) : compareValues(d, op, other, v);
      const fails = [sql`NOT COALESCE(${cmp}, ${FALSE})`, failsNull(alias)].filter((x): x is Sql => x !== null);
      notExists = sql`NOT EXISTS (SELECT 1 FROM (${multiSide.multi!.build(k)}) AS ${sql.id(alias)} WHERE ${sql.join(fails, sql` OR `)})`;
    }
    expr = sql`(${expr} AND ${notExists})`;
  }
  for (const guard of [a.guard, b.guard]) if (guard) expr = sql`(${expr} AND ${guard})`;
  return expr;
}

export { TRUE as SQL_TRUE, FALSE as SQL_FALSE };
