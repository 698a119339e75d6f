/**
 * Two test apps on one PostgreSQL database whose nodes talk through Redis, as a cluster's nodes
 * do (the two-node suites: realtime, settings, backups). Their Redis keys and channels carry a
 * prefix of their own, so suites running at the same time never hear each other.
 */
import { Redis } from 'ioredis';
import { RedisPubSub } from '../../src/adapters/redis-pubsub.js';
import { REDIS_URL } from './engines.js';
import { startTestApp, type TestApp } from './test-app.js';

export interface TwoNodes {
  a: TestApp;
  b: TestApp;
  /** The pub/sub prefix of both nodes (a test may listen on `${prefix}events`). */
  prefix: string;
  /** Closes both apps and their Redis connections. */
  close(): Promise<void>;
}

export async function startTwoNodes(label = ''): Promise<TwoNodes> {
  const prefix = `basalt:test:${process.pid}:${Date.now()}:${label === '' ? '' : `${label}:`}`;
  const connections: Redis[] = [];
  const pubsub = () => {
    const redis = new Redis(REDIS_URL);
    connections.push(redis);
    return new RedisPubSub(redis, prefix);
  };
  const disconnect = async () => {
    for (const r of connections) await r.quit().catch(() => r.disconnect());
  };
  let a: TestApp | undefined;
  try {
    a = await startTestApp({ deps: { pubsub: pubsub() } });
    const b = await startTestApp({ sameDatabaseAs: a, deps: { pubsub: pubsub() } });
    const first = a;
    return {
      a: first,
      b,
      prefix,
      close: async () => {
        await b.close();
        await first.close();
        await disconnect();
      },
    };
  } catch (err) {
    await a?.close();
    await disconnect();
    throw err;
  }
}

/** Polls `check` every 25 ms until it holds; throws after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
