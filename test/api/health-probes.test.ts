/**
 * Probes for orchestrators: `GET /api/health/live` (the process answers) and
 * `GET /api/health/ready` (the database answers, Redis answers when configured, not shutting
 * down). Public, never rate limited; a failed check is a 503 in the standard error shape naming
 * the check, with nothing of the driver's message.
 */
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAdapters } from '../../src/adapters/redis-adapters.js';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { REDIS_URL } from '../harness/engines.js';
import { send, type Method } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const tok: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  tok.user = (await createAuthRecord(t, 'users', { email: 'user@example.com', password: 'user-password1' })).token;
});

afterAll(async () => {
  await t?.close();
});

function expectErrorShape(body: any, status: number) {
  expect(Object.keys(body).sort()).toEqual(['data', 'message', 'status']);
  expect(body.status).toBe(status);
}

describe('answers', () => {
  it('live: 200 for guests, users and superusers, never cached', async () => {
    for (const auth of [undefined, tok.user, tok.su]) {
      const res = await send(t, 'GET', '/api/health/live', { auth });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ code: 200, message: 'API is live.', data: {} });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('ready: 200 naming the checks that passed', async () => {
    for (const auth of [undefined, tok.user, tok.su]) {
      const res = await send(t, 'GET', '/api/health/ready', { auth });
      expect(res.status, res.raw).toBe(200);
      expect(res.body).toEqual({ code: 200, message: 'API is ready.', data: { app: 'ok', database: 'ok' } });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('HEAD works as GET without a body', async () => {
    for (const url of ['/api/health/live', '/api/health/ready']) {
      const res = await send(t, 'HEAD', url);
      expect(res.status).toBe(200);
      expect(res.raw).toBe('');
    }
  });

  it('/api/health is unchanged', async () => {
    expect((await send(t, 'GET', '/api/health')).body).toEqual({ code: 200, message: 'API is healthy.', data: {} });
    expect((await send(t, 'GET', '/api/health', { auth: tok.su })).body).toEqual({
      code: 200,
      message: 'API is healthy.',
      // PocketBase's canBackup: true unless a backup or a restore is running.
      data: { canBackup: true, realIP: '127.0.0.1', possibleProxyHeader: '' },
    });
  });

  it('concurrent probes all answer', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(t, 'GET', '/api/health/ready')));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
  });
});

describe('hostile inputs', () => {
  const cases: [Method, string, unknown?][] = [
    ['POST', '/api/health/ready', { a: 1 }],
    ['PUT', '/api/health/ready', 'x'],
    ['PATCH', '/api/health/live', { a: 1 }],
    ['DELETE', '/api/health/live'],
    ['POST', '/api/health/live', 'x'.repeat(10_000)],
    ['GET', '/api/health/ready/extra'],
    ['GET', '/api/health/lives'],
  ];
  for (const [method, url, body] of cases) {
    it(`${method} ${url} → 404 in the standard shape`, async () => {
      const res = await send(t, method, url, { body });
      expect(res.status).toBe(404);
      expectErrorShape(res.body, 404);
    });
  }

  it('query strings and a bad token change nothing', async () => {
    expect((await send(t, 'GET', '/api/health/ready?check=all&x=' + 'y'.repeat(2000))).status).toBe(200);
    expect((await send(t, 'GET', '/api/health/live?fields=code')).body).toEqual({ code: 200 });
    expect((await send(t, 'GET', '/api/health/ready', { auth: 'not-a-token' })).status).toBe(200);
  });

  it('are never rate limited (unlike /api/health)', async () => {
    let res = await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { rateLimits: { enabled: true, rules: [{ label: '/api/', duration: 60, maxRequests: 1 }] } } });
    expect(res.status, res.raw).toBe(200);
    try {
      for (let i = 0; i < 5; i++) {
        expect((await send(t, 'GET', '/api/health/live')).status).toBe(200);
        expect((await send(t, 'GET', '/api/health/ready')).status).toBe(200);
      }
      expect((await send(t, 'GET', '/api/health')).status).toBe(200);
      expect((await send(t, 'GET', '/api/health')).status).toBe(429);
    } finally {
      res = await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { rateLimits: { enabled: false, rules: [{ label: '/api/', duration: 10, maxRequests: 300 }] } } });
      expect(res.status).toBe(200);
    }
  });
});

describe('not ready', () => {
  it('503 when the database is closed; live stays 200', async () => {
    const other = await startTestApp();
    try {
      await other.app.db.close();
      const res = await send(other, 'GET', '/api/health/ready');
      expect(res.status).toBe(503);
      expectErrorShape(res.body, 503);
      expect(res.body.message).toBe('The server is not ready.');
      expect(res.body.data).toEqual({ database: { code: 'health_check_failed', message: 'The check failed.' } });
      expect((await send(other, 'GET', '/api/health/live')).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('503 naming a check that does not answer within the deadline', async () => {
    const other = await startTestApp({ deps: { readinessChecks: [{ name: 'slow', run: () => new Promise<void>(() => {}) }] } });
    try {
      const started = performance.now();
      const res = await send(other, 'GET', '/api/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.data).toEqual({ slow: { code: 'health_check_timeout', message: 'No answer within 2000 ms.' } });
      expect(performance.now() - started).toBeLessThan(4000);
    } finally {
      await other.close();
    }
  });

  it('503 once the app is shutting down', async () => {
    const other = await startTestApp();
    // close() marks the app closing before its first await; a second close() joins the first.
    const closing = other.app.close();
    const report = await other.app.readiness();
    await closing;
    expect(report.ready).toBe(false);
    expect(report.checks.app).toEqual({ code: 'health_app_state', message: 'The server is shutting down.' });
    await other.close();
  });
});

/** A loopback TCP relay to Redis, so a test can make Redis unreachable by closing the relay's port. */
async function startRelay(target: URL): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    upstream.connect(Number(target.port || 6379), target.hostname);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

describe.skipIf(REDIS_URL === '')('with Redis', () => {
  /** An app on Redis as `basalt serve --redis` builds it (open-app.ts's client options). */
  async function appOnRedis(url: string) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000, enableOfflineQueue: true });
    redis.on('error', () => {});
    await redis.connect();
    const app = await startTestApp({ deps: redisAdapters(redis) });
    return { app, redis };
  }

  it('200 with redis: ok while it answers PING', async () => {
    const { app, redis } = await appOnRedis(REDIS_URL);
    try {
      const res = await send(app, 'GET', '/api/health/ready');
      expect(res.status, res.raw).toBe(200);
      expect(res.body.data).toEqual({ app: 'ok', database: 'ok', redis: 'ok' });
    } finally {
      await app.close();
      redis.disconnect();
    }
  });

  it('503 naming redis once its port is closed; live stays 200', async () => {
    const relay = await startRelay(new URL(REDIS_URL));
    const { app, redis } = await appOnRedis(relay.url);
    try {
      expect((await send(app, 'GET', '/api/health/ready')).status).toBe(200);
      await relay.close();
      const res = await send(app, 'GET', '/api/health/ready');
      expect(res.status, res.raw).toBe(503);
      expectErrorShape(res.body, 503);
      expect(Object.keys(res.body.data)).toEqual(['redis']);
      expect(['health_check_failed', 'health_check_timeout']).toContain(res.body.data.redis.code);
      // Nothing about where Redis is.
      expect(res.raw).not.toContain('127.0.0.1');
      expect((await send(app, 'GET', '/api/health/live')).status).toBe(200);
    } finally {
      redis.disconnect();
      await app.close().catch(() => {});
    }
  });
});
