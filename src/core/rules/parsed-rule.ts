/**
 * Rules as the engine uses them: parsed once when a collection changes, never per request.
 * `null` locks an action to superusers, `''` opens it, anything else is a filter.
 */
import type { Expr } from './ast.js';
import { parseFilter } from './parser.js';

export type ParsedRule = { kind: 'locked' } | { kind: 'open' } | { kind: 'filter'; source: string; expr: Expr };

export const LOCKED: ParsedRule = { kind: 'locked' };
export const OPEN: ParsedRule = { kind: 'open' };

/** Parses a rule; a syntax error throws FilterSyntaxError (collections validate rules before saving). */
export function parseRule(rule: string | null | undefined): ParsedRule {
  if (rule === null || rule === undefined) return LOCKED;
  if (rule.trim() === '') return OPEN;
  return { kind: 'filter', source: rule, expr: parseFilter(rule) };
}
