/**
 * Spec §1.2: list requests with a list rule and a client filter that find nothing are slowed by
 * a random delay (up to 500 ms) after 3 such requests within 3 s, so the timing of empty answers
 * cannot be used to probe rule-protected data.
 */
import type { Clock } from '../clock.js';
import { secureRandomInt } from '../ids.js';

const WINDOW_MS = 3000;
const FREE_REQUESTS = 3;
const MAX_DELAY_MS = 500;

export class EmptyListThrottle {
  private readonly hits = new Map<string, number[]>();

  /** Call after an empty filtered list; resolves after the delay (if any). */
  constructor(private readonly clock: Clock) {}

  async onEmptyResult(key: string): Promise<void> {
    const now = this.clock.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 10_000) this.hits.clear();
    if (recent.length > FREE_REQUESTS) await this.clock.sleep(secureRandomInt(0, MAX_DELAY_MS));
  }
}
