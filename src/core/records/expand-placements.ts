/**
 * The bound on what one response may expand. A record placed under several parents is written
 * out once per placement (the JSON is a tree), so the output of an expand path that comes back
 * to the same records (`author.posts_via_author.author.posts_via_author…`) grows exponentially
 * with its depth: 50 posts by one author, six levels deep, are millions of placements, which
 * once held the event loop for 20 s, grew memory to 2.8 GB and ended in a 500.
 *
 * PocketBase has no such cap. MAX_EXPAND_PLACEMENTS is far above what real apps show: a full
 * page (perPage 1000) with a few single relations expanded, or a record with its 1000 newest
 * back-related records (BACK_RELATION_LIMIT) and each one's author, stay within it. At about a
 * kilobyte of JSON a placement, the largest answer it allows is some ten megabytes.
 */
import { badRequest, fieldError, MESSAGES } from '../errors.js';
import type { ExpandMap } from './record-export.js';
import type { RecordModel } from '../model/record-model.js';

/** Expanded records one response may place (each placement counted). */
export const MAX_EXPAND_PLACEMENTS = 10_000;

export function tooManyPlacements(): never {
  throw badRequest(MESSAGES.invalidExpand, {
    expand: fieldError(
      'validation_expand_too_large',
      `The expansion would place more than ${MAX_EXPAND_PLACEMENTS} records in the response: expand fewer relations or use a smaller perPage.`,
    ),
  });
}

/**
 * The expanded records `records` place in their JSON, counted without writing it: each record
 * counts its subtree once (memoised), so the count costs the distinct records, not the output.
 * Stops counting past `cap`.
 */
export function countPlacements(records: readonly RecordModel[], expand: ExpandMap, cap = MAX_EXPAND_PLACEMENTS): number {
  const below = new Map<RecordModel, number>();
  const count = (record: RecordModel): number => {
    let n = below.get(record);
    if (n !== undefined) return n;
    n = 0;
    for (const value of Object.values(expand.get(record) ?? {})) {
      for (const child of Array.isArray(value) ? value : [value]) {
        n += 1 + count(child);
        if (n > cap) break;
      }
      if (n > cap) break;
    }
    below.set(record, n);
    return n;
  };
  let total = 0;
  for (const record of records) {
    total += count(record);
    if (total > cap) break;
  }
  return total;
}

/** Refuses an expansion over the cap, before any of it is written out. */
export function assertPlacements(records: readonly RecordModel[], expand: ExpandMap): void {
  if (countPlacements(records, expand) > MAX_EXPAND_PLACEMENTS) tooManyPlacements();
}
