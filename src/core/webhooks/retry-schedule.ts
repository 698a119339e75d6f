/**
 * When a failed delivery is tried again: the published schedule (config.webhooks.retryScheduleMs,
 * by default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over about 28 hours) with
 * ±10 % jitter so that deliveries failing together do not retry together, unless the receiver
 * said when (`Retry-After`, in seconds or as an HTTP date; at most a day).
 */

const MAX_RETRY_AFTER_MS = 86_400_000;

/** The wait before the attempt after `attempt` (1-based); null when the schedule is used up. */
export function retryDelay(schedule: readonly number[], attempt: number, random: () => number = Math.random): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.9 + 0.2 * random()));
}

/** A `Retry-After` header as a wait in ms from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (!value) return null;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return null;
    ms = date - nowMs;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** What an answer means for the delivery: done, worth another attempt, or refused for good. */
export function classifyStatus(status: number): 'succeeded' | 'retry' | 'failed' {
  if (status >= 200 && status < 300) return 'succeeded';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'failed';
}
