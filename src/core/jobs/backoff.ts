/** Retry delays: exponential, capped, with jitter so that jobs failing together do not retry together. */
import type { Backoff } from './job-types.js';

export const DEFAULT_BACKOFF = { baseMs: 1000, maxMs: 3_600_000 };

/**
 * The delay before the attempt after `attempt` (1 for the first failure): a random time in
 * [d/2, d] with d = min(maxMs, baseMs · 2^(attempt-1)) ("equal jitter": never less than half the
 * exponential step, so retries still spread out). `random` is injectable for tests.
 */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  if (typeof backoff === 'function') {
    const ms = backoff(attempt);
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  }
  const base = backoff.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = backoff.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const d = Math.min(max, base * 2 ** Math.min(attempt - 1, 52));
  return Math.round(d / 2 + random() * (d / 2));
}
