/**
 * The partial-index predicate (`CREATE INDEX … WHERE expr`) as plain data, one renderer shared
 * by the canonical text and every engine's DDL, and the structural check that every renderer
 * runs first, so a definition built by hand (not parsed) cannot smuggle text into SQL either.
 */

import { assertIndexIdentifier, IndexSyntaxError } from './index-lexer.js';
import type { IndexDefinition } from './index-definition.js';

/** Comparison operators after normalisation (`==` is `=`, `<>` is `!=`). */
export type IndexCompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A column reference or a literal. */
export type IndexOperand =
  | { kind: 'column'; name: string }
  | { kind: 'string'; value: string }
  /** Kept as written (`1.50`, `-3`, `1e3`) so no engine sees a float round trip. */
  | { kind: 'number'; text: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

/**
 * A WHERE expression. `and`/`or` are n-ary and never directly contain a term of their own kind
 * (the parser flattens them), which is what makes format → parse an exact round trip.
 */
export type IndexWhere =
  | { kind: 'compare'; op: IndexCompareOp; left: IndexOperand; right: IndexOperand }
  | { kind: 'isNull'; operand: IndexOperand; negated: boolean }
  | { kind: 'and' | 'or'; terms: IndexWhere[] }
  | { kind: 'not'; expr: IndexWhere }
  /** A bare truth value: `WHERE active`, `WHERE TRUE`. */
  | { kind: 'operand'; operand: { kind: 'column'; name: string } | { kind: 'boolean'; value: boolean } };

/** How one dialect spells the parts of a WHERE clause that differ between engines. */
export interface IndexWhereStyle {
  /** Quotes a (validated) identifier. */
  identifier(name: string): string;
  /** `TRUE`/`FALSE`, or `1`/`0` where booleans are integers. */
  boolean(value: boolean): string;
  /** @default SQL-standard `'…'` with `''` doubling */
  string?(value: string): string;
  /** @default the operator as stored */
  compareOp?(op: IndexCompareOp): string;
}

/** PostgreSQL refuses more than 32 key columns (`INDEX_MAX_KEYS`); no real index needs more. */
export const INDEX_MAX_COLUMNS = 32;

/**
 * Deepest nesting of AND/OR/NOT in a WHERE clause. Far above what an index predicate needs, and
 * low enough that the rendered SQL stays within every engine parser's stack.
 */
export const INDEX_MAX_WHERE_DEPTH = 20;

const COMPARE_OPS: readonly string[] = ['=', '!=', '<', '<=', '>', '>='];
const NUMBER_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

const standardString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** Renders a WHERE tree with the minimum of parentheses that keeps its shape. */
export function renderIndexWhere(where: IndexWhere, style: IndexWhereStyle): string {
  const operand = (o: IndexOperand): string => {
    switch (o.kind) {
      case 'column':
        return style.identifier(o.name);
      case 'string':
        return (style.string ?? standardString)(o.value);
      case 'number':
        return o.text;
      case 'boolean':
        return style.boolean(o.value);
      case 'null':
        return 'NULL';
    }
  };
  const render = (w: IndexWhere): string => {
    switch (w.kind) {
      case 'compare':
        return `${operand(w.left)} ${style.compareOp ? style.compareOp(w.op) : w.op} ${operand(w.right)}`;
      case 'isNull':
        return `${operand(w.operand)} IS ${w.negated ? 'NOT ' : ''}NULL`;
      case 'and':
        // AND binds tighter than OR, so only a nested AND/OR needs parentheses here.
        return w.terms.map((t) => (t.kind === 'and' || t.kind === 'or' ? `(${render(t)})` : render(t))).join(' AND ');
      case 'or':
        return w.terms.map((t) => (t.kind === 'or' ? `(${render(t)})` : render(t))).join(' OR ');
      case 'not':
        // NOT binds looser than comparisons in SQL; parentheses make that moot for readers.
        return w.expr.kind === 'operand' ? `NOT ${render(w.expr)}` : `NOT (${render(w.expr)})`;
      case 'operand':
        return operand(w.operand);
    }
  };
  return render(where);
}

/**
 * Checks that `def` is exactly something {@link parseIndex} could have produced, whatever its
 * origin. Renderers call it before emitting SQL.
 *
 * @throws {IndexSyntaxError} naming the first problem.
 */
export function assertValidIndex(def: IndexDefinition): void {
  if (typeof def !== 'object' || def === null) throw new IndexSyntaxError('the definition must be an object');
  assertIndexIdentifier(def.name, 'index name');
  assertIndexIdentifier(def.table, 'table name');
  // SQLite reserves these names ("object name reserved for internal use") and refuses to index
  // its own tables; failing here keeps the error an IndexSyntaxError on every engine.
  for (const [what, name] of [['index name', def.name], ['table name', def.table]]) {
    if (name.toLowerCase().startsWith('sqlite_')) {
      throw new IndexSyntaxError(`the ${what} ${JSON.stringify(name)} uses the reserved prefix "sqlite_"`);
    }
  }
  // Indexes and tables share one namespace on SQLite and PostgreSQL alike.
  if (def.name.toLowerCase() === def.table.toLowerCase()) {
    throw new IndexSyntaxError('the index name must differ from the table name');
  }
  if (typeof def.unique !== 'boolean') throw new IndexSyntaxError('"unique" must be a boolean');
  if (!Array.isArray(def.columns) || def.columns.length === 0) {
    throw new IndexSyntaxError('an index needs at least one column');
  }
  if (def.columns.length > INDEX_MAX_COLUMNS) {
    throw new IndexSyntaxError(`an index may have at most ${INDEX_MAX_COLUMNS} columns`);
  }
  for (const column of def.columns) {
    assertIndexIdentifier(column?.name, 'column name');
    if (column.collate !== undefined && !['NOCASE', 'BINARY', 'RTRIM'].includes(column.collate)) {
      throw new IndexSyntaxError(`unsupported collation ${JSON.stringify(column.collate)}; use NOCASE, BINARY or RTRIM`);
    }
    if (column.order !== undefined && column.order !== 'ASC' && column.order !== 'DESC') {
      throw new IndexSyntaxError(`the sort order must be ASC or DESC, not ${JSON.stringify(column.order)}`);
    }
  }
  if (def.where !== undefined) assertValidWhere(def.where, 0);
}

function assertValidOperand(operand: IndexOperand): void {
  switch (operand?.kind) {
    case 'column':
      return assertIndexIdentifier(operand.name, 'column name');
    case 'string':
      if (typeof operand.value !== 'string' || operand.value.includes('\u0000') || /\p{Cs}/u.test(operand.value)) {
        throw new IndexSyntaxError('string literals must be well-formed text without NUL characters');
      }
      return;
    case 'number':
      if (typeof operand.text !== 'string' || !NUMBER_TEXT.test(operand.text)) {
        throw new IndexSyntaxError(`invalid number literal ${JSON.stringify(operand.text)}`);
      }
      return;
    case 'boolean':
      if (typeof operand.value !== 'boolean') throw new IndexSyntaxError('boolean literals must be true or false');
      return;
    case 'null':
      return;
    default:
      throw new IndexSyntaxError('unknown operand in the WHERE clause');
  }
}

function assertValidWhere(where: IndexWhere, depth: number): void {
  if (depth > INDEX_MAX_WHERE_DEPTH) {
    throw new IndexSyntaxError(`the WHERE clause is nested more than ${INDEX_MAX_WHERE_DEPTH} levels deep`);
  }
  switch (where?.kind) {
    case 'compare':
      if (!COMPARE_OPS.includes(where.op)) throw new IndexSyntaxError(`unsupported operator ${JSON.stringify(where.op)}`);
      assertValidOperand(where.left);
      assertValidOperand(where.right);
      return;
    case 'isNull':
      return assertValidOperand(where.operand);
    case 'and':
    case 'or':
      if (!Array.isArray(where.terms) || where.terms.length < 2) {
        throw new IndexSyntaxError(`${where.kind.toUpperCase()} needs at least two terms`);
      }
      for (const term of where.terms) assertValidWhere(term, depth + 1);
      return;
    case 'not':
      return assertValidWhere(where.expr, depth + 1);
    case 'operand':
      if (where.operand?.kind !== 'column' && where.operand?.kind !== 'boolean') {
        throw new IndexSyntaxError('only a column or TRUE/FALSE can stand alone as a WHERE condition');
      }
      return assertValidOperand(where.operand);
    default:
      throw new IndexSyntaxError('unknown expression in the WHERE clause');
  }
}
