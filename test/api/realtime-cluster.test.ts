/**
 * Two Basalt nodes on one PostgreSQL database and one Redis, both started here: a write on node A
 * reaches a subscriber on node B (and A's own), with B's rule checks; collection and settings
 * changes on A reach B's in-memory catalogue; the OAuth2 redirect may land on either node.
 * Needs PostgreSQL and Redis (BASALT_TEST_DB=postgres, BASALT_TEST_REDIS_URL; CI sets both).
 */
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { ENGINE, REDIS_URL } from '../harness/engines.js';
import { send } from '../harness/scenario.js';
import { openSse, type SseConnection } from '../harness/sse-client.js';
import type { TestApp } from '../harness/test-app.js';
import { eventually, startTwoNodes, type TwoNodes } from '../harness/two-nodes.js';

let a: TestApp;
let prefix = '';
let b: TestApp;
let nodes: TwoNodes | undefined;
const connections: Redis[] = [];
const streams: SseConnection[] = [];
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};

const urlOf = (node: TestApp) => `http://127.0.0.1:${(node.server.server.address() as AddressInfo).port}`;
const dataOf = (m: { data: string }) => JSON.parse(m.data);

async function sse(node: TestApp, subscriptions: string[], auth?: string): Promise<SseConnection> {
  const c = await openSse(urlOf(node));
  streams.push(c);
  const res = await fetch(`${urlOf(node)}/api/realtime`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify({ clientId: c.clientId, subscriptions }),
  });
  expect(res.status).toBe(204);
  return c;
}

describe.skipIf(ENGINE !== 'postgres' || REDIS_URL === '')('two nodes: PostgreSQL + Redis', () => {
  beforeAll(async () => {
    nodes = await startTwoNodes();
    ({ a, b, prefix } = nodes);
    for (const node of [a, b]) await node.server.listen({ host: '127.0.0.1', port: 0 });
    tok.su = (await createSuperuser(a)).token;
    const users = await send(a, 'PATCH', '/api/collections/users', { auth: tok.su, body: { listRule: '', viewRule: '' } });
    expect(users.status, users.raw).toBe(200);
    const posts = await send(a, 'POST', '/api/collections', {
      auth: tok.su,
      body: {
        name: 'posts',
        fields: [
          { name: 'title', type: 'text', required: true },
          { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
        ],
        indexes: ['CREATE UNIQUE INDEX idx_cluster_title ON posts (title)'],
        listRule: 'owner = @request.auth.id',
        viewRule: 'owner = @request.auth.id',
      },
    });
    expect(posts.status, posts.raw).toBe(200);
    const alice = await createAuthRecord(a, 'users', { email: 'alice@example.com' });
    const bob = await createAuthRecord(a, 'users', { email: 'bob@example.com' });
    Object.assign(tok, { alice: alice.token, bob: bob.token });
    Object.assign(ids, { alice: alice.id, bob: bob.id });
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await nodes?.close();
    for (const r of connections) await r.quit().catch(() => r.disconnect());
  });

  it("a collection created on node A is in node B's catalogue", async () => {
    await eventually(async () => (await send(b, 'GET', '/api/collections/posts/records', { auth: tok.su })).status === 200);
  });

  it('writes on node A reach subscribers on node B, in order, filtered by the rules on B', async () => {
    await eventually(async () => b.app.registry.find('posts') !== undefined);
    const onB = await sse(b, ['posts/*'], tok.alice);
    const bobOnB = await sse(b, ['posts/*'], tok.bob);
    const onA = await sse(a, ['posts/*'], tok.alice);
    const created = await send(a, 'POST', '/api/collections/posts/records', { auth: tok.su, body: { title: 'from A', owner: ids.alice } });
    expect(created.status, created.raw).toBe(200);
    const id = created.body.id;
    await send(a, 'PATCH', `/api/collections/posts/records/${id}`, { auth: tok.su, body: { title: 'edited on A' } });
    await send(a, 'DELETE', `/api/collections/posts/records/${id}`, { auth: tok.su });
    for (const c of [onB, onA]) {
      const actions = [];
      for (let i = 0; i < 3; i++) actions.push(dataOf(await c.next((m) => m.event === 'posts/*')));
      expect(actions.map((m) => m.action)).toEqual(['create', 'update', 'delete']);
      expect(actions.map((m) => m.record.title)).toEqual(['from A', 'edited on A', 'edited on A']);
    }
    await bobOnB.none();
  });

  it('a write on node B reaches node A', async () => {
    const onA = await sse(a, ['posts/*'], tok.bob);
    const res = await send(b, 'POST', '/api/collections/posts/records', { auth: tok.su, body: { title: 'from B', owner: ids.bob } });
    expect(res.status, res.raw).toBe(200);
    expect(dataOf(await onA.next((m) => m.event === 'posts/*')).record.title).toBe('from B');
  });

  it('a failed write on one node sends nothing to the other', async () => {
    const onB = await sse(b, ['posts/*'], tok.su);
    const dup = await send(a, 'POST', '/api/collections/posts/records', { auth: tok.su, body: { title: 'from B' } });
    expect(dup.status).toBe(400);
    await onB.none();
  });

  it("a settings change on node A is in node B's settings", async () => {
    const res = await send(a, 'PATCH', '/api/settings', { auth: tok.su, body: { meta: { appName: 'Clustered' } } });
    expect(res.status, res.raw).toBe(200);
    await eventually(async () => (await send(b, 'GET', '/api/settings', { auth: tok.su })).body?.meta?.appName === 'Clustered');
  });

  it('what crosses Redis never holds a password hash or a tokenKey', async () => {
    const listener = new Redis(REDIS_URL);
    connections.push(listener);
    const seen: string[] = [];
    listener.on('message', (_channel: string, message: string) => seen.push(message));
    await listener.subscribe(`${prefix}events`);
    const user = await createAuthRecord(a, 'users', { email: 'carol@example.com', password: 'carol-password-1' });
    await eventually(async () => seen.some((m) => m.includes(user.id)));
    const message = JSON.parse(seen.find((m) => m.includes(user.id))!);
    expect(message.v.email).toBe('carol@example.com');
    expect(message.v).not.toHaveProperty('password');
    expect(message.v).not.toHaveProperty('tokenKey');
  });

  it('the OAuth2 redirect landing on node A reaches the @oauth2 client on node B', async () => {
    const onB = await sse(b, ['@oauth2']);
    const res = await send(a, 'GET', `/api/oauth2-redirect?state=${onB.clientId}&code=cross-node`);
    expect(res.status).toBe(307);
    expect(String(res.headers.location)).toContain('success');
    expect(dataOf(await onB.next((m) => m.event === '@oauth2'))).toEqual({ state: onB.clientId, code: 'cross-node' });
    const unknown = await send(a, 'GET', '/api/oauth2-redirect?state=nobody-has-this&code=x');
    expect(String(unknown.headers.location)).toContain('failure');
  });
});
