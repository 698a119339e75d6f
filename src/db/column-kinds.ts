/** Shared helpers for rendering column definitions and literals in DDL. */
import type { ColumnDefinition } from '../core/ports.js';

export function quoteIdent(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

export function quoteString(value: string): string {
  return "'" + value.replaceAll("'", "''") + "'";
}

/** A DDL default literal; booleans as the engine spells them. */
export function defaultLiteral(value: ColumnDefinition['default'], boolTrue: string, boolFalse: string): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? boolTrue : boolFalse;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  return quoteString(value);
}
