/**
 * The PubSub port's contract, run against every implementation: memory, and Redis
 * (BASALT_TEST_REDIS_URL; CI sets it). Messages reach every subscriber of their channel (the
 * publisher's own included) in publish order, never another channel's; unsubscribing stops them.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryPubSub } from '../../src/adapters/memory-pubsub.js';
import { RedisPubSub } from '../../src/adapters/redis-pubsub.js';
import type { PubSub } from '../../src/core/ports.js';
import { REDIS_URL } from '../harness/engines.js';

type Factory = () => Promise<{ a: PubSub; b: PubSub; close(): Promise<void> }>;

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function conformance(name: string, factory: Factory, skip = false): void {
  describe.skipIf(skip)(name, () => {
    it('delivers to every subscriber of the channel, in order, and to no other channel', async () => {
      const { a, b, close } = await factory();
      try {
        const gotA: string[] = [];
        const gotB: string[] = [];
        const other: string[] = [];
        await a.subscribe('events', (m) => gotA.push(m));
        await b.subscribe('events', (m) => gotB.push(m));
        await b.subscribe('elsewhere', (m) => other.push(m));
        for (let i = 0; i < 50; i++) await a.publish('events', `m${i}`);
        const expected = Array.from({ length: 50 }, (_, i) => `m${i}`);
        await until(() => gotA.length === 50 && gotB.length === 50);
        expect(gotA).toEqual(expected);
        expect(gotB).toEqual(expected);
        expect(other).toEqual([]);
      } finally {
        await close();
      }
    });

    it('stops delivering after unsubscribe; other subscribers keep theirs', async () => {
      const { a, close } = await factory();
      try {
        const first: string[] = [];
        const second: string[] = [];
        const stop = await a.subscribe('events', (m) => first.push(m));
        await a.subscribe('events', (m) => second.push(m));
        await a.publish('events', 'one');
        await until(() => first.length === 1 && second.length === 1);
        await stop();
        await a.publish('events', 'two');
        await until(() => second.length === 2);
        expect(first).toEqual(['one']);
      } finally {
        await close();
      }
    });

    it('carries large and unicode messages unchanged', async () => {
      const { a, b, close } = await factory();
      try {
        const got: string[] = [];
        await b.subscribe('events', (m) => got.push(m));
        const big = JSON.stringify({ text: 'é✓😀'.repeat(50_000) });
        await a.publish('events', big);
        await until(() => got.length === 1);
        expect(got[0]).toBe(big);
      } finally {
        await close();
      }
    });
  });
}

conformance('MemoryPubSub', async () => {
  const bus = new MemoryPubSub();
  return { a: bus, b: bus, close: () => bus.close() };
});

conformance(
  'RedisPubSub (two connections, as two nodes)',
  async () => {
    const prefix = `basalt:test:pubsub:${process.pid}:${Date.now()}:`;
    const [ra, rb] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    const a = new RedisPubSub(ra, prefix);
    const b = new RedisPubSub(rb, prefix);
    return {
      a,
      b,
      close: async () => {
        await a.close();
        await b.close();
        await ra.quit();
        await rb.quit();
      },
    };
  },
  REDIS_URL === '',
);
