/**
 * Comparisons of the filter language with PocketBase's semantics on every engine:
 * `=`/`!=` treat NULL and '' alike (except for strict JSON values), `!=` is null-safe, `~`
 * wraps its literal in `%…%` unless it has its own wildcard, and operators without `?` on a
 * multi-valued operand must hold for every value (checked with NOT EXISTS).
 */
import { sql } from 'kysely';
import type { CompareOp } from './ast.js';
import type { FilterDialect, Sql, ValueKind } from './filter-dialect.js';
import { endsWithDanglingEscape, likePattern } from './like-pattern.js';
import { exprOperand, targetKind, type LiteralValue, type Operand } from './operand.js';

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

function like(d: FilterDialect, a: Operand, b: Operand, negate: boolean): Sql {
  const value = a.as('text', true);
  if (b.literal !== undefined) {
    // PocketBase leaves NULL unwrapped: `x ~ null` and `x !~ null` both match nothing.
    if (b.literal.value === null) return FALSE;
    // SQLite reads a LIKE pattern as a C string: it ends at the first NUL. Same everywhere.
    const text = typeof b.literal.value === 'string' ? b.literal.value.split('\u0000')[0] : String(b.literal.value);
    const pattern = likePattern(text);
    // SQLite never matches a pattern ending in a lone escape character (PostgreSQL would fail).
    if (endsWithDanglingEscape(pattern)) return negate ? sql`(${value} IS NOT NULL)` : FALSE;
    const exact = d.like(value, d.param(pattern, 'text'), negate);
    // A searchable column: its substring index finds the candidates, the exact LIKE decides.
    if (!negate && a.search && !a.multi && d.searchNarrow && isPlainSubstring(text)) return sql`(${d.searchNarrow(a.search.alias, a.search.table, a.search.column, text)} AND ${exact})`;
    return exact;
  }
  return d.like(value, d.concat(sql`'%'`, b.as('text', true), sql`'%'`), negate);
}

/** Text a trigram index can look up as is: three characters or more, none of LIKE's special ones. */
function isPlainSubstring(text: string): boolean {
  return [...text].length >= 3 && !/[%_\\]/.test(text);
}

/** SQLite's ordering of two literals: NULL < numbers < text (booleans are 0/1). */
function compareLiterals(x: LiteralValue, y: LiteralValue): number | null {
  if (x === null || y === null) return null;
  const norm = (v: string | number | boolean) => (typeof v === 'boolean' ? Number(v) : v);
  const a = norm(x);
  const b = norm(y);
  if (typeof a !== typeof b) return typeof a === 'number' ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Two literals compare at compile time, with SQLite's rules ('10' = 10 is false). */
function foldLiterals(op: CompareOp, a: LiteralValue, b: LiteralValue): boolean | null {
  const empty = (v: LiteralValue) => v === null || v === '';
  switch (op) {
    case '=':
    case '!=': {
      const equal = (empty(a) && empty(b)) || compareLiterals(a, b) === 0;
      return op === '=' ? equal : !equal;
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const c = compareLiterals(a, b);
      if (c === null) return false;
      return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    }
    default:
      return null;
  }
}

/** `a op b` for single values (the "any" reading when an operand is multi-valued). */
export function compareValues(d: FilterDialect, op: CompareOp, a: Operand, b: Operand): Sql {
  if (a.literal && b.literal) {
    const folded = foldLiterals(op, a.literal.value, b.literal.value);
    if (folded !== null) return folded ? TRUE : FALSE;
  }
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
      return d.order(a.as(t), op, b.as(t), t);
    }
  }
}

/** A value of the `v` column of a multi-match subquery, rendered already as `kind`. */
function subqueryValue(d: FilterDialect, alias: string, kind: ValueKind, strict: boolean | undefined): Operand {
  return exprOperand(d, sql.ref(`${alias}.v`), kind, { strict });
}

/** The kind a multi-match subquery renders its values as, given the operator and the other side. */
function mmKind(op: CompareOp, self: Operand, other: Operand): ValueKind {
  if (op === '~' || op === '!~') return 'text';
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
    const isLike = op === '~' || op === '!~';
    const failsNull = (alias: string) => (op === '=' ? null : sql`${sql.ref(`${alias}.v`)} IS NULL`);
    let notExists: Sql;
    if (a.multi && b.multi) {
      const la = nextAlias();
      const ra = nextAlias();
      const ka = mmKind(op, a, b);
      const kb = mmKind(op, b, a);
      const cmp = compareValues(d, op, subqueryValue(d, la, ka, a.strict), subqueryValue(d, ra, kb, b.strict));
      const fails = [sql`NOT COALESCE(${cmp}, ${FALSE})`, failsNull(la), failsNull(ra)].filter((x): x is Sql => x !== null);
      notExists = sql`NOT EXISTS (SELECT 1 FROM (${a.multi.build(ka, isLike)}) AS ${sql.id(la)} LEFT JOIN (${b.multi.build(kb, isLike)}) AS ${sql.id(ra)} ON TRUE WHERE ${sql.join(fails, sql` OR `)})`;
    } else {
      const multiSide = a.multi ? a : b;
      const other = a.multi ? b : a;
      const alias = nextAlias();
      const k = mmKind(op, multiSide, other);
      const v = subqueryValue(d, alias, k, multiSide.strict);
      const cmp = a.multi ? compareValues(d, op, v, other) : compareValues(d, op, other, v);
      const fails = [sql`NOT COALESCE(${cmp}, ${FALSE})`, failsNull(alias)].filter((x): x is Sql => x !== null);
      notExists = sql`NOT EXISTS (SELECT 1 FROM (${multiSide.multi!.build(k, isLike)}) AS ${sql.id(alias)} WHERE ${sql.join(fails, sql` OR `)})`;
    }
    expr = sql`(${expr} AND ${notExists})`;
  }
  for (const guard of [a.guard, b.guard]) if (guard) expr = sql`(${expr} AND ${guard})`;
  return expr;
}

export { TRUE as SQL_TRUE, FALSE as SQL_FALSE };
