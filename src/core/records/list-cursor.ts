/**
 * Cursor paging, Basalt's addition to the list API (README "Large collections"): `cursor=` (empty)
 * on a list asks for the first page and a `nextCursor` in the answer; `cursor=<that>` gives the
 * rows after the last one returned, by a keyset condition on the sort (page-anchors.ts), so every
 * page costs one page however deep, and rows written meanwhile neither repeat nor go missing
 * from the ones already passed. `page` does not apply (answered as 0).
 *
 * The cursor is the sort values of the last row, in base64url JSON, with the sort it was made
 * for. It is not secret (a client could read those values from the rows anyway) and not trusted:
 * each value is checked against its term's kind, and the rows it selects still pass the list
 * rule and the filter.
 */
import { badRequest, fieldError, MESSAGES } from '../errors.js';
import type { KeysetTerm } from './page-anchors.js';

const MAX_CURSOR_LENGTH = 4096;

function invalid(message: string): never {
  throw badRequest(MESSAGES.invalidListParams, { cursor: fieldError('validation_invalid_cursor', message) });
}

export function encodeCursor(sort: string, values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify({ s: sort, v: values })).toString('base64url');
}

/** The sort values `raw` carries, checked against `terms` and the list's `sort`; a 400 otherwise. */
export function decodeCursor(raw: string, sort: string, terms: readonly KeysetTerm[]): unknown[] {
  if (raw.length > MAX_CURSOR_LENGTH) invalid(`A cursor has at most ${MAX_CURSOR_LENGTH} characters.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    invalid('Not a cursor this server gave.');
  }
  const { s, v } = (parsed ?? {}) as { s?: unknown; v?: unknown };
  if (typeof s !== 'string' || !Array.isArray(v) || v.length !== terms.length) invalid('Not a cursor this server gave.');
  if (s !== sort) invalid('The cursor was given for another sort: use the sort it came with.');
  v.forEach((value, i) => {
    if (!fits(terms[i].kind, value)) invalid('Not a cursor this server gave.');
  });
  return v;
}

function fits(kind: KeysetTerm['kind'], value: unknown): boolean {
  switch (kind) {
    case 'text':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'bool':
      return typeof value === 'boolean' || value === 0 || value === 1;
    case 'rowid':
      return (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && /^\d{1,19}$/.test(value));
  }
}
