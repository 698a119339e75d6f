/**
 * Deep pages without skipping every row before them (README "Large collections").
 *
 * `page=5000&perPage=20` means OFFSET 99,980: the engine walks and throws away 99,980 rows.
 * When a list's sort can be followed by a keyset condition (every term a non-null column of the
 * row, the row id last, so the order is total: record-query.ts `SortPlan.keyset`), a page read
 * at a deep offset leaves *anchors*: the sort values of its first and last rows, at their
 * offsets. A later page of the same query (same predicate, same caller parameters, same sort)
 * starts from the nearest anchor at or before its offset — `WHERE (sort values) >= anchor …
 * OFFSET the rest` — so paging forward one page at a time, or asking for the same deep page
 * again, costs a page, not the whole prefix.
 *
 * Positions move with every write, so anchors are kept with the data versions of what the query
 * reads (as the stored counts are, count-cache.ts) and read the current versions in the same
 * statement as the rows: when they differ, the page is read again with a plain OFFSET. An
 * answer is never built on an anchor of other data.
 */
import { sql } from 'kysely';
import type { Sql } from '../rules/filter-dialect.js';
import { sameVersions } from './count-cache.js';

/** One term of an ORDER BY a keyset condition can follow. */
export interface KeysetTerm {
  expr: Sql;
  desc: boolean;
  /** What its values are (a client's cursor is checked against it): `rowid` is the row id, an integer. */
  kind: 'text' | 'number' | 'bool' | 'rowid';
}

/** Where a deep page may start from: the sort values of the row at `offset`. */
export interface Anchor {
  offset: number;
  values: unknown[];
  versions: number[];
}

interface AnchorSet {
  versions: number[];
  /** Offset → sort values, few per query. */
  anchors: Map<number, unknown[]>;
}

/** Below this offset a page is cheap enough as it is. */
export const ANCHOR_MIN_OFFSET = 1000;
const MAX_QUERIES = 1024;
const MAX_ANCHORS_PER_QUERY = 64;
const SORT_COLUMN = '__sk';

/**
 * Rows at or after (`inclusive`) or strictly after `values` in the order of `terms`: `(t1, t2, …)
 * > (a1, a2, …)` when every term goes the same way (`<` when descending), else
 * `t1 > a1 OR (t1 = a1 AND (t2 > a2 OR (t2 = a2 AND …)))`, each `>` a `<` for a DESC term. The
 * first term is also stated as a plain range (`t1 >= a1`), which is what lets an index on it
 * start at the anchor.
 */
export function keysetCondition(terms: readonly KeysetTerm[], values: readonly unknown[], inclusive: boolean): Sql {
  const first = terms[0];
  const range = first.desc ? sql`${first.expr} <= ${values[0]}` : sql`${first.expr} >= ${values[0]}`;
  if (terms.every((t) => t.desc === first.desc)) {
    // One direction (the usual case: the row id follows the last term's): a row-value comparison,
    // which both engines order lexicographically as ORDER BY does, in fewer steps per row read.
    const op = sql.raw(`${first.desc ? '<' : '>'}${inclusive ? '=' : ''}`);
    return sql`(${range} AND (${sql.join(terms.map((t) => t.expr))}) ${op} (${sql.join(values.map((v) => sql`${v}`))}))`;
  }
  const after = (t: KeysetTerm, v: unknown) => (t.desc ? sql`${t.expr} < ${v}` : sql`${t.expr} > ${v}`);
  let condition: Sql = inclusive ? sql`1=1` : sql`1=0`;
  for (let i = terms.length - 1; i >= 0; i--) {
    condition = sql`(${after(terms[i], values[i])} OR (${terms[i].expr} = ${values[i]} AND ${condition}))`;
  }
  return sql`(${range} AND ${condition})`;
}

/** The sort values of a row, as columns to add to its SELECT. */
export function sortValueColumns(terms: readonly KeysetTerm[]): Sql {
  return sql.join(terms.map((t, i) => sql`${t.expr} AS ${sql.id(SORT_COLUMN + i)}`));
}

/** The sort values read with sortValueColumns() (left in the row: the codec reads only the fields). */
export function sortValuesOf(terms: readonly KeysetTerm[], row: Record<string, unknown>): unknown[] {
  return terms.map((_, i) => row[SORT_COLUMN + i]);
}

export class PageAnchors {
  private readonly queries = new Map<string, AnchorSet>();
  /** Deep pages started from an anchor (tests, metrics). */
  readonly stats = { found: 0 };

  /** Anchors stored right now (tests). */
  get size(): number {
    let n = 0;
    for (const set of this.queries.values()) n += set.anchors.size;
    return n;
  }

  /** The nearest anchor at or before `offset` for the query `key`, if any. */
  find(key: string, offset: number): Anchor | null {
    const set = this.queries.get(key);
    if (!set) return null;
    let best: number | null = null;
    for (const at of set.anchors.keys()) if (at <= offset && (best === null || at > best)) best = at;
    if (best === null) return null;
    this.queries.delete(key);
    this.queries.set(key, set);
    this.stats.found++;
    return { offset: best, values: set.anchors.get(best)!, versions: set.versions };
  }

  /** Remembers the sort values of the row at `offset`, read at `versions` (older anchors of other versions go). */
  remember(key: string, versions: number[], offset: number, values: unknown[]): void {
    if (offset < ANCHOR_MIN_OFFSET || values.some((v) => v === null || v === undefined)) return;
    let set = this.queries.get(key);
    if (!set || !sameVersions(set.versions, versions)) {
      set = { versions, anchors: new Map() };
    }
    this.queries.delete(key);
    this.queries.set(key, set);
    set.anchors.delete(offset);
    set.anchors.set(offset, values);
    if (set.anchors.size > MAX_ANCHORS_PER_QUERY) set.anchors.delete(set.anchors.keys().next().value!);
    if (this.queries.size > MAX_QUERIES) this.queries.delete(this.queries.keys().next().value!);
  }

  clear(): void {
    this.queries.clear();
  }
}

