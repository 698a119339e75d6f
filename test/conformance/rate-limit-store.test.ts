/**
 * One conformance suite for the RateLimitStore port, run against every implementation: process
 * memory, and Redis (BASALT_TEST_REDIS_URL; CI sets it). Counts per key, fixed windows that
 * expire, reset, and concurrent hits counted exactly.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/adapters/memory-rate-limit-store.js';
import { RedisRateLimitStore } from '../../src/adapters/redis-rate-limit-store.js';
import type { RateLimitStore } from '../../src/core/ports.js';
import { REDIS_URL } from '../harness/engines.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function conformance(name: string, make: () => Promise<{ store: RateLimitStore; close(): Promise<void> }>, skip = false) {
  describe.skipIf(skip)(name, () => {
    let store: RateLimitStore;
    let close: () => Promise<void>;
    // Keys unique to this run: a shared Redis may hold keys of other runs.
    const k = (s: string) => `${process.pid}:${Date.now()}:${s}`;

    beforeAll(async () => {
      ({ store, close } = await make());
    });
    afterAll(async () => {
      await close?.();
    });

    it('counts hits per key, independently', async () => {
      const a = k('a');
      const b = k('b');
      expect(await store.hit(a, 60)).toBe(1);
      expect(await store.hit(a, 60)).toBe(2);
      expect(await store.hit(b, 60)).toBe(1);
      expect(await store.hit(a, 60)).toBe(3);
    });

    it('a window ends after its duration and the count starts again', async () => {
      const a = k('window');
      expect(await store.hit(a, 0.3)).toBe(1);
      expect(await store.hit(a, 0.3)).toBe(2);
      await sleep(450);
      expect(await store.hit(a, 0.3)).toBe(1);
    });

    it('reset forgets a key', async () => {
      const a = k('reset');
      await store.hit(a, 60);
      await store.reset(a);
      expect(await store.hit(a, 60)).toBe(1);
    });

    it('concurrent hits are all counted, each getting a distinct count', async () => {
      const a = k('concurrent');
      const counts = await Promise.all(Array.from({ length: 50 }, () => store.hit(a, 60)));
      expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });
}

conformance('MemoryRateLimitStore', async () => {
  const store = new MemoryRateLimitStore();
  return { store, close: () => store.close() };
});

conformance(
  'RedisRateLimitStore',
  async () => {
    const redis = new Redis(REDIS_URL);
    return { store: new RedisRateLimitStore(redis), close: async () => void (await redis.quit()) };
  },
  REDIS_URL === '',
);

describe('MemoryRateLimitStore memory bound', () => {
  it('expired windows are swept once many keys accumulate', async () => {
    let now = 0;
    const store = new MemoryRateLimitStore(() => now);
    for (let i = 0; i < 10_000; i++) await store.hit(`k${i}`, 1);
    now = 5_000;
    await store.hit('fresh', 1);
    expect((store as unknown as { windows: Map<string, unknown> }).windows.size).toBe(1);
    expect(await store.hit('k1', 1)).toBe(1);
  });
});
