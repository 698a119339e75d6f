/**
 * The order of a ranked search's matches (search-plan.ts, `sort=-@rank`), kept so the next page of
 * the same search, or the same search again, does not score every match again.
 *
 * Ranking has to score every match before the first page is known (tens of milliseconds for a
 * word found in 50,000 records). The ids in rank order are kept with the data versions of what
 * the search reads (as the stored counts are, count-cache.ts), and a page read from them reads
 * the versions again in the same statement as its rows: when they differ (anything was written
 * to those collections, on any node), the search is ranked again. An answer is never built on an
 * order of other data.
 */
import type { RankingStats } from '../metrics/metrics.js';
import { sameVersions } from './count-cache.js';

/** Ids kept per search: pages past them are read the plain way. */
export const MAX_RANKED_IDS = 2_000;
/** Ids kept in all (some 50 bytes each): the least recently used searches go first. */
const MAX_TOTAL_IDS = 200_000;

export interface RankedOrder {
  versions: number[];
  /** The ids of the first MAX_RANKED_IDS matches, best first. */
  ids: string[];
  /** How many matches there are (ranked with them, at the same versions). */
  total: number;
}

export class RankedOrders {
  private readonly orders = new Map<string, RankedOrder>();
  private totalIds = 0;
  /** Pages answered from a kept order, and searches ranked (tests, metrics). */
  readonly stats: RankingStats = { reused: 0, ranked: 0 };

  /** The kept order of the search `key`, if any (it may be of older data: compare the versions). */
  find(key: string): RankedOrder | null {
    const order = this.orders.get(key);
    if (!order) return null;
    this.orders.delete(key);
    this.orders.set(key, order);
    return order;
  }

  /** Whether `order` is of the data at `versions` (then counted as reused). */
  holdsAt(order: RankedOrder, versions: number[]): boolean {
    if (!sameVersions(order.versions, versions)) return false;
    this.stats.reused++;
    return true;
  }

  remember(key: string, order: RankedOrder): void {
    this.stats.ranked++;
    this.forget(key);
    if (order.ids.length > MAX_TOTAL_IDS) return;
    this.orders.set(key, order);
    this.totalIds += order.ids.length;
    for (const oldest of this.orders.keys()) {
      if (this.totalIds <= MAX_TOTAL_IDS) break;
      this.forget(oldest);
    }
  }

  private forget(key: string): void {
    const order = this.orders.get(key);
    if (!order) return;
    this.orders.delete(key);
    this.totalIds -= order.ids.length;
  }

  clear(): void {
    this.orders.clear();
    this.totalIds = 0;
  }
}
