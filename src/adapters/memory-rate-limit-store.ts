/**
 * The RateLimitStore port in process memory: the default for a single node. Expired windows
 * are swept as the map grows, so memory stays bounded by the keys active in the last window.
 */
import type { RateLimitStore } from '../core/ports.js';

interface Window {
  count: number;
  resetAt: number;
}

/** Past this many keys, expired windows are swept on the next hit. */
const SWEEP_THRESHOLD = 10_000;

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, Window>();
  private sweepAt = SWEEP_THRESHOLD;

  constructor(private readonly now: () => number = Date.now) {}

  async hit(key: string, windowSeconds: number): Promise<number> {
    const now = this.now();
    if (this.windows.size >= this.sweepAt) this.sweep(now);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowSeconds * 1000 };
      this.windows.set(key, w);
    }
    return ++w.count;
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
    // Still crowded after the sweep: wait for twice as many keys before sweeping again.
    this.sweepAt = Math.max(SWEEP_THRESHOLD, this.windows.size * 2);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}
