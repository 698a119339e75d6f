/**
 * Compiled operands: SQL that can be rendered as any value kind, plus what the comparison
 * builder needs to know (literal value, multi-value source, JSON strictness).
 */
import { sql } from 'kysely';
import type { FilterDialect, Sql, ValueKind } from './filter-dialect.js';

export type LiteralValue = string | number | boolean | null;

/** A source of all the values of a multi-valued operand for the current row (`SELECT … AS v`). */
export interface MultiSource {
  build(as: ValueKind): Sql;
}

export interface Operand {
  kind: ValueKind;
  /** Renders the operand as `kind` (callers only ask for kinds `targetKind` chose). */
  as(kind: ValueKind): Sql;
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
      return typeof value === 'string' ? value : typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
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
  return { kind: 'json', strict: true, as: (target) => dialect.jsonValue(doc, path, target), ...extra };
}

/**
 * The kind both sides of a comparison are rendered as: the same kind when they agree, the other
 * side's kind for JSON values and convertible literals, number for number/bool, text otherwise.
 */
export function targetKind(a: Operand, b: Operand): ValueKind {
  if (a.kind === b.kind) return a.kind;
  if (a.kind === 'null') return b.kind;
  if (b.kind === 'null') return a.kind;
  if (a.kind === 'json') return b.kind;
  if (b.kind === 'json') return a.kind;
  if (a.literal && convertLiteral(a.literal.value, b.kind) !== undefined) return b.kind;
  if (b.literal && convertLiteral(b.literal.value, a.kind) !== undefined) return a.kind;
  if ((a.kind === 'number' && b.kind === 'bool') || (a.kind === 'bool' && b.kind === 'number')) return 'number';
  return 'text';
}
