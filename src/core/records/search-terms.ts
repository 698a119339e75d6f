/**
 * The `search` list parameter (Basalt's addition; README "Large collections"): words a record's
 * searchable fields must contain, parsed and bounded by the client-query gate before anything
 * is compiled (search-plan.ts turns them into a predicate and a rank for one collection).
 */
import { badRequest, fieldError, MESSAGES } from '../errors.js';

/** Longest search text, in characters after trimming (a search box, not a document). */
export const MAX_SEARCH_LENGTH = 200;
/** Most distinct words: each one is a `~` on every searchable field. */
export const MAX_SEARCH_WORDS = 8;

export interface SearchTerms {
  /** The distinct words, ASCII lower-cased (the folding of `~`), in the order sent. */
  readonly words: readonly string[];
  /** The words joined by single spaces: what a field containing the text as typed contains. */
  readonly phrase: string;
}

function invalid(code: string, message: string): never {
  throw badRequest(MESSAGES.invalidListParams, { search: fieldError(code, message) });
}

/** ASCII letters only, as `~` folds them on every engine (É stays É). */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** `search` as sent → its terms; null when absent or blank (no search, as an empty filter). */
export function parseSearchParam(raw: string | undefined): SearchTerms | null {
  if (raw === undefined) return null;
  // No stored text holds NUL (PostgreSQL cannot; SQLite's LIKE stops at it): it separates words.
  const text = raw.replaceAll('\u0000', ' ').trim();
  if (text === '') return null;
  if ([...text].length > MAX_SEARCH_LENGTH) invalid('validation_search_too_long', `At most ${MAX_SEARCH_LENGTH} characters.`);
  const words = [...new Set(foldAscii(text).split(/\s+/u))];
  if (words.length > MAX_SEARCH_WORDS) invalid('validation_search_too_many_words', `At most ${MAX_SEARCH_WORDS} distinct words.`);
  return { words, phrase: words.length === 1 ? words[0] : foldAscii(text).split(/\s+/u).join(' ') };
}
