/**
 * The attributes of a database span (OpenTelemetry semantic conventions for databases): the
 * engine and the operation, and the statement text when it is short. Basalt's statements are
 * parameterised, so the text carries placeholders, never values; parameters are never recorded.
 */
import type { Attributes } from '../core/tracing/tracing.js';

/** Longer statements (a compiled list with its rule and filter) are named by their operation only. */
const MAX_TEXT = 512;

export function dbSpanAttributes(system: 'sqlite' | 'postgresql', text: string | null): Attributes {
  const attributes: Attributes = { 'db.system': system, 'db.system.name': system };
  if (text === null) {
    attributes['db.operation.name'] = 'TRANSACTION';
    return attributes;
  }
  attributes['db.operation.name'] = operationOf(text);
  if (text.length <= MAX_TEXT) attributes['db.query.text'] = text;
  return attributes;
}

/** The statement's first keyword (`SELECT`, `WITH`, `INSERT`…). */
export function operationOf(text: string): string {
  const m = /^\s*\(?\s*([A-Za-z]+)/.exec(text);
  return m ? m[1]!.toUpperCase() : 'QUERY';
}
