/**
 * Rate limits (spec §1.1, settings.rateLimits): off by default; when on, a request is matched to
 * one rule (collection tags, then paths) and counted per client IP, sign-ins also per identity;
 * past the limit the answer is 429 in the standard shape. Superusers are exempt. With the Redis
 * store, several nodes count against the same windows.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimitStore } from '../../src/adapters/redis-rate-limit-store.js';
import { createAuthRecord, createCollection, createSuperuser } from '../harness/fixtures.js';
import { REDIS_URL } from '../harness/engines.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const tok: Record<string, string> = {};

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const signIn = (identity: string, ip: string, password = 'wrong-password') =>
  send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity, password }, headers: from(ip) });

async function setRules(rules: unknown[], enabled = true, app: TestApp = t, su = tok.su) {
  const res = await send(app, 'PATCH', '/api/settings', { auth: su, body: { rateLimits: { enabled, rules } } });
  expect(res.status, res.raw).toBe(200);
}

beforeAll(async () => {
  t = await startTestApp({ config: { trustProxy: true } });
  tok.su = (await createSuperuser(t)).token;
  tok.user = (await createAuthRecord(t, 'users', { email: 'user@example.com', password: 'user-password1' })).token;
  await createCollection(t, { name: 'notes', fields: [{ name: 'text', type: 'text' }], createRule: '', listRule: '' });
});

afterAll(async () => {
  await t?.close();
});

describe('rate limits', () => {
  it('are off by default', async () => {
    for (let i = 0; i < 10; i++) expect((await signIn('user@example.com', '10.0.0.1')).status).toBe(400);
  });

  it('*:auth counts sign-ins per IP: past the limit, 429 in the standard shape', async () => {
    await setRules([{ label: '*:auth', duration: 60, maxRequests: 2 }]);
    expect((await signIn('a@example.com', '10.0.1.1')).status).toBe(400);
    expect((await signIn('b@example.com', '10.0.1.1')).status).toBe(400);
    const limited = await signIn('c@example.com', '10.0.1.1');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ status: 429, message: 'Too Many Requests.', data: {} });
    // Another address has its own window.
    expect((await signIn('d@example.com', '10.0.1.2')).status).toBe(400);
  });

  it('and per identity, whatever the address', async () => {
    await setRules([{ label: '*:auth', duration: 60, maxRequests: 2 }]);
    expect((await signIn('target@example.com', '10.0.2.1')).status).toBe(400);
    expect((await signIn('target@example.com', '10.0.2.2')).status).toBe(400);
    expect((await signIn('TARGET@example.com', '10.0.2.3')).status).toBe(429);
  });

  it('a collection label beats the wildcard, and other collections are not counted', async () => {
    await setRules([
      { label: 'notes:create', duration: 60, maxRequests: 1 },
      { label: '*:create', duration: 60, maxRequests: 100 },
    ]);
    const create = (collection: string, body: unknown) => send(t, 'POST', `/api/collections/${collection}/records`, { body, headers: from('10.0.3.1') });
    expect((await create('notes', { text: 'one' })).status).toBe(200);
    expect((await create('notes', { text: 'two' })).status).toBe(429);
    for (let i = 0; i < 3; i++) {
      const res = await create('users', { email: `u${i}@example.com`, password: 'password123', passwordConfirm: 'password123' });
      expect(res.status, res.raw).toBe(200);
    }
  });

  it('path rules: an exact path and a prefix ending with /', async () => {
    await setRules([
      { label: '/api/health', duration: 60, maxRequests: 1 },
      { label: '/api/collections/notes/', duration: 60, maxRequests: 2 },
    ]);
    const get = (url: string) => send(t, 'GET', url, { headers: from('10.0.4.1') });
    expect((await get('/api/health')).status).toBe(200);
    expect((await get('/api/health')).status).toBe(429);
    // The path as the router sees it: a trailing slash or an escape is the same path.
    expect((await get('/api/health/')).status).toBe(429);
    expect((await get('/api/%68ealth')).status).toBe(429);
    expect((await get('/api/collections/notes/records')).status).toBe(200);
    expect((await get('/api/collections/notes/records')).status).toBe(200);
    expect((await get('/api/collections/notes/records')).status).toBe(429);
  });

  it('audiences: @guest rules leave signed-in callers alone', async () => {
    await setRules([{ label: '/api/health', audience: '@guest', duration: 60, maxRequests: 1 }]);
    const get = (auth?: string) => send(t, 'GET', '/api/health', { auth, headers: from('10.0.5.1') });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(429);
    expect((await get(tok.user)).status).toBe(200);
    expect((await get(tok.user)).status).toBe(200);
  });

  it('superusers are exempt', async () => {
    await setRules([{ label: '/api/', duration: 60, maxRequests: 1 }]);
    for (let i = 0; i < 3; i++) expect((await send(t, 'GET', '/api/health', { auth: tok.su, headers: from('10.0.6.1') })).status).toBe(200);
  });

  it('turning them off stops counting', async () => {
    await setRules([{ label: '*:auth', duration: 60, maxRequests: 1 }], false);
    for (let i = 0; i < 3; i++) expect((await signIn('off@example.com', '10.0.7.1')).status).toBe(400);
  });
});

describe.skipIf(REDIS_URL === '')('two nodes sharing Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    prefix = `basalt:test:${process.pid}:${Date.now()}:`;
    a = await startTestApp({ config: { trustProxy: true }, deps: { rateLimits: new RedisRateLimitStore(redis, prefix) } });
    b = await startTestApp({ config: { trustProxy: true }, deps: { rateLimits: new RedisRateLimitStore(redis, prefix) } });
    for (const node of [a, b]) await setRules([{ label: '*:auth', duration: 60, maxRequests: 2 }], true, node, (await createSuperuser(node)).token);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.quit();
  });

  it('attempts on either node count against one window', async () => {
    const attempt = (node: TestApp) => send(node, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'x@example.com', password: 'nope-nope' }, headers: from('10.9.0.1') });
    expect((await attempt(a)).status).toBe(400);
    expect((await attempt(b)).status).toBe(400);
    expect((await attempt(a)).status).toBe(429);
    expect((await attempt(b)).status).toBe(429);
  });
});
