/**
 * Compiled operands: SQL that can be rendered as any value kind, plus what the comparison
 * builder needs to know (literal value, multi-value source, JSON strictness).
 */
import { sql } from 'kysely';
import { numberToText } from '../number-text.js';
import type { FilterDialect, Sql, ValueKind } from './filter-dialect.js';

export type LiteralValue = string | number | boolean | null;

/** A source of all the values of a multi-valued operand for the current row (`SELECT … AS v`). */
export interface MultiSource {
  /** `loose`: render text as LIKE sees it (see Operand.as). */
  build(as: ValueKind, loose?: boolean): Sql;
}

export interface Operand {
  kind: ValueKind;
  /**
   * Renders the operand as `kind` (callers only ask for kinds `targetKind` chose). `loose`
   * text (for LIKE) also shows JSON numbers and booleans, as SQLite's LIKE sees them.
   */
  as(kind: ValueKind, loose?: boolean): Sql;
  /** A column of the root row with a substring index (`searchable`): where `~` may narrow first. */
  search?: { alias: string; table: string; column: string };
  /** Known at compile time: a quoted text, number, macro or @request value. */
  literal?: { value: LiteralValue };
  /** Set when the operand has several values per row: `?`-less operators must hold for all. */
  multi?: MultiSource;
  /** JSON values compare strictly (no '' ≡ NULL normalisation), as in PocketBase. */
  strict?: boolean;
  /** Extra condition ANDed to any comparison using this operand (e-mail visibility). */
  guard?: Sql;
}

function numericText(value: string): number | null {
  const text = value.trim();
  if (text === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** Converts a literal to `kind`, or undefined when it has no faithful representation there. */
export function convertLiteral(value: LiteralValue, kind: ValueKind): LiteralValue | undefined {
  if (value === null) return null;
  switch (kind) {
    case 'text':
      return typeof value === 'string' ? value : typeof value === 'boolean' ? (value ? '1' : '0') : numberToText(value);
    case 'number':
      if (typeof value === 'number') return value;
      if (typeof value === 'boolean') return value ? 1 : 0;
      return numericText(value) ?? undefined;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number') return value !== 0;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return undefined;
    case 'null':
      return null;
    default:
      return undefined;
  }
}

export function kindOfLiteral(value: LiteralValue): ValueKind {
  if (value === null) return 'null';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  return 'text';
}

export function literalOperand(dialect: FilterDialect, value: LiteralValue): Operand {
  const kind = kindOfLiteral(value);
  return {
    kind,
    literal: { value },
    as: (target) => {
      if (target === 'json') return dialect.param(value, kind);
      const converted = convertLiteral(value, target);
      return converted === undefined ? sql`NULL` : dialect.param(converted, target);
    },
  };
}

/** A plain SQL expression of a known kind. */
export function exprOperand(dialect: FilterDialect, expr: Sql, kind: ValueKind, extra: Partial<Operand> = {}): Operand {
  return { kind, as: (target) => dialect.cast(expr, kind, target), ...extra };
}

/** A value inside a JSON document; rendered with the requested type. */
export function jsonOperand(dialect: FilterDialect, doc: Sql, path: (string | number)[], extra: Partial<Operand> = {}): Operand {
  return { kind: 'json', strict: true, as: (target, loose) => dialect.jsonValue(doc, path, target, loose), ...extra };
}

/**
 * The kind both sides of a comparison are rendered as, following SQLite's comparison rules
 * (PocketBase's engine): booleans are the numbers 0/1 unless both sides are booleans; a JSON
 * value takes the other side's kind; text and numbers compare as numbers when the text side is
 * a numeric literal (SQLite's numeric affinity), as text otherwise.
 */
export function targetKind(a: Operand, b: Operand): ValueKind {
  if (a.kind === b.kind) return a.kind;
  if (a.kind === 'null') return b.kind;
  if (b.kind === 'null') return a.kind;
  if (a.kind === 'json') return b.kind;
  if (b.kind === 'json') return a.kind;
  const an = a.kind === 'bool' ? 'number' : a.kind;
  const bn = b.kind === 'bool' ? 'number' : b.kind;
  if (an === bn) return 'number';
  const text = an === 'text' ? a : b;
  if (text.literal && typeof text.literal.value === 'string' && convertLiteral(text.literal.value, 'number') !== undefined) return 'number';
  return 'text';
}
