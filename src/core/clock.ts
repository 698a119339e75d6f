/**
 * Time is a port: every module that needs "now" or a timer asks the injected Clock, never the
 * wall clock itself, so that cron, backoff, token expiry and timer-driven behaviour can be tested
 * deterministically (test/harness/manual-clock.ts). The system clock is the default.
 */
import { formatDate } from './time.js';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects with the signal's reason when it is aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** The clock's current time in the API format (`2024-01-31 12:00:00.123Z`). */
export function nowText(clock: Clock): string {
  return formatDate(new Date(clock.now()));
}
