/** The retry schedule of webhook deliveries (jitter bounds, Retry-After, status classes) and monotonic message ids. */
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/core/webhooks/message-id.js';
import { classifyStatus, parseRetryAfter, retryDelay } from '../../src/core/webhooks/retry-schedule.js';

describe('retry schedule', () => {
  const schedule = [5000, 300_000];
  it('waits the scheduled time ±10 %, and gives up after the schedule', () => {
    expect(retryDelay(schedule, 1, () => 0)).toBe(4500);
    expect(retryDelay(schedule, 1, () => 1)).toBe(5500);
    expect(retryDelay(schedule, 2, () => 0.5)).toBe(300_000);
    expect(retryDelay(schedule, 3)).toBeNull();
  });

  it('reads Retry-After in seconds or as an HTTP date, bounded to a day', () => {
    const now = Date.parse('2026-12-03T18:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 03 Dec 2026 18:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Thu, 03 Dec 2026 17:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('99999999', now)).toBe(86_400_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it('ends on 2xx, retries 408, 429 and 5xx, fails other answers at once', () => {
    expect([200, 204, 299].map(classifyStatus)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect([408, 429, 500, 503].map(classifyStatus)).toEqual(['retry', 'retry', 'retry', 'retry']);
    expect([301, 302, 400, 401, 404, 410].map(classifyStatus)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed', 'failed']);
  });
});

describe('message ids', () => {
  it('increase within one millisecond and across time, even when the clock steps back', () => {
    const ids = [newMessageId(1000), newMessageId(1000), newMessageId(1000), newMessageId(2000), newMessageId(1500), newMessageId(2000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
