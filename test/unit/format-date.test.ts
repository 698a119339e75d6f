import { describe, expect, it } from 'vitest';
import { newTimeOrderedId } from '../../src/core/ids.js';
import { formatDate } from '../../src/core/time.js';

/** The plain definition formatDate caches its way around. */
const reference = (d: Date) => d.toISOString().replace('T', ' ');

describe('formatDate', () => {
  it('matches toISOString with a space at the edges of seconds, years and its cache', () => {
    const edges = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1_733_333_333_009, 1_733_333_333_099, 1_733_333_333_999, 253_402_300_799_999, 253_402_300_800_000, -1, -62_167_219_200_000, 8.64e15];
    for (const ms of edges) expect(formatDate(new Date(ms)), String(ms)).toBe(reference(new Date(ms)));
    // The same second twice, then another second, then the first again: the cache follows.
    for (const ms of [5_000_123, 5_000_456, 6_000_001, 5_000_789]) expect(formatDate(new Date(ms))).toBe(reference(new Date(ms)));
  });

  it('matches on random dates', () => {
    for (let i = 0; i < 20_000; i++) {
      const d = new Date(Math.floor(Math.random() * 4e12));
      expect(formatDate(d)).toBe(reference(d));
    }
  });

  it('still throws on an invalid date', () => {
    expect(() => formatDate(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('newTimeOrderedId', () => {
  it('sorts by time, has 15 id characters, and differs within one millisecond', () => {
    const a = newTimeOrderedId(1_733_333_333_333);
    const b = newTimeOrderedId(1_733_333_333_333);
    const c = newTimeOrderedId(1_733_333_333_334);
    expect(a).toMatch(/^[a-z0-9]{15}$/);
    expect(a.slice(0, 9)).toBe(b.slice(0, 9));
    expect(a).not.toBe(b);
    expect(c.slice(0, 9) > a.slice(0, 9)).toBe(true);
    expect(newTimeOrderedId(1_733_333_333_333).slice(0, 9)).toBe((1_733_333_333_333).toString(36).padStart(9, '0'));
  });
});
