/**
 * Realtime (spec §1.6) over a real socket: the SSE stream's framing and headers, the POST's
 * validation and client binding, topic matching (`coll/*`, `coll/<id>`, bare `coll`, by name or
 * id), per-subscriber rule checks with `@request.context = "realtime"`, subscription options
 * (filter, expand, fields, headers), delete events, rolled-back writes, connection lifetimes,
 * slow consumers and the `@oauth2` hand-off. Runs on every engine.
 */
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { openSse, type SseConnection } from '../harness/sse-client.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let base = '';
let postsId = '';
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};
const open: SseConnection[] = [];

async function sse(): Promise<SseConnection> {
  const c = await openSse(base);
  open.push(c);
  return c;
}

async function subscribed(c: SseConnection, subscriptions: string[], auth?: string) {
  const res = await fetch(`${base}/api/realtime`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify({ clientId: c.clientId, subscriptions }),
  });
  expect(res.status, await res.clone().text()).toBe(204);
}

const dataOf = (m: { data: string }) => JSON.parse(m.data);
const options = (o: unknown) => `?options=${encodeURIComponent(JSON.stringify(o))}`;

beforeAll(async () => {
  t = await startTestApp({ config: { realtime: { idleTimeoutMs: 60_000, maxLifetimeMs: 120_000 } } });
  await t.server.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  tok.su = (await createSuperuser(t)).token;
  const users = t.app.registry.find('users')!;
  ids.users = users.id;
  await t.app.collections.update('users', { listRule: '', viewRule: '' });
  const posts = await createCollection(t, {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'big', type: 'text', max: 1000000 },
    ],
    indexes: ['CREATE UNIQUE INDEX idx_posts_title ON posts (title)'],
    listRule: '',
    viewRule: '',
  });
  postsId = posts.id;
  await createCollection(t, {
    name: 'notes',
    fields: [
      { name: 'body', type: 'text' },
      { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
    ],
    listRule: 'owner = @request.auth.id && @request.context = "realtime"',
    viewRule: 'owner = @request.auth.id',
  });
  await createCollection(t, {
    name: 'tokens',
    fields: [{ name: 'body', type: 'text' }],
    listRule: '@request.headers.x_token = "open-sesame" && @request.query.lang = "en"',
  });
  await createCollection(t, { name: 'locked', fields: [{ name: 'body', type: 'text' }] });
  await createCollection(t, { name: 'vip', fields: [{ name: 'body', type: 'text' }], listRule: '@request.auth.verified = true && @request.auth.name = "VIP"' });
  const alice = await createAuthRecord(t, 'users', { email: 'alice@example.com', name: 'Alice' });
  const bob = await createAuthRecord(t, 'users', { email: 'bob@example.com', name: 'Bob' });
  Object.assign(tok, { alice: alice.token, bob: bob.token });
  Object.assign(ids, { alice: alice.id, bob: bob.id });
});

afterAll(async () => {
  for (const c of open) c.close();
  await t?.close();
});

describe('GET /api/realtime', () => {
  it('streams PB_CONNECT first, with an id line carrying the 40-character client id', async () => {
    const res = await fetch(`${base}/api/realtime`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('\n\n')) text += (await reader.read()).value;
    const match = /^id:([A-Za-z0-9]{40})\nevent:PB_CONNECT\ndata:(.*)\n\n/.exec(text);
    expect(match, text).not.toBeNull();
    expect(JSON.parse(match![2])).toEqual({ clientId: match![1] });
    await reader.cancel();
  });

  it('gives every connection its own client id', async () => {
    const [a, b] = [await sse(), await sse()];
    expect(a.clientId).not.toBe(b.clientId);
  });
});

describe('POST /api/realtime validation', () => {
  let c: SseConnection;
  beforeAll(async () => {
    c = await sse();
  });

  it('needs a client id → 400', async () => {
    const res = await send(t, 'POST', '/api/realtime', { body: { subscriptions: [] } });
    expect(res.status).toBe(400);
    expect(res.body.data.clientId.code).toBe('validation_required');
  });

  it('an unknown client id → 404', async () => {
    const res = await send(t, 'POST', '/api/realtime', { body: { clientId: 'x'.repeat(40), subscriptions: [] } });
    expect(res.status).toBe(404);
    expect(res.body.message).toBe('Missing or invalid client id.');
  });

  it('subscriptions that are not a list → 400', async () => {
    const res = await subscribed(c, []).then(() => send(t, 'POST', '/api/realtime', { body: { clientId: c.clientId, subscriptions: 'posts/*' } }));
    expect(res.status).toBe(400);
    expect(res.body.data.subscriptions.code).toBe('validation_invalid_value');
  });

  it('more than 1000 topics → 400', async () => {
    const res = await send(t, 'POST', '/api/realtime', { body: { clientId: c.clientId, subscriptions: Array.from({ length: 1001 }, (_, i) => `posts/${i}`) } });
    expect(res.status).toBe(400);
  });

  it('a topic over 2500 characters, an empty one or bad options → 400 naming it', async () => {
    const res = await send(t, 'POST', '/api/realtime', {
      body: { clientId: c.clientId, subscriptions: ['posts/*', 'p'.repeat(2501), '', 'posts/*?options=%7Bnot-json', `posts/*${options({ query: { fields: 'a:nope' } })}`] },
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.data).sort()).toEqual(['subscriptions.1', 'subscriptions.2', 'subscriptions.3', 'subscriptions.4']);
  });

  it('more than 100 different option sets → 400; the same options on many topics count once', async () => {
    const distinct = Array.from({ length: 101 }, (_, i) => `posts/*${options({ query: { filter: `title = "${i}"` } })}`);
    const res = await send(t, 'POST', '/api/realtime', { body: { clientId: c.clientId, subscriptions: distinct } });
    expect(res.status).toBe(400);
    expect(res.body.data.subscriptions.code).toBe('validation_too_many_options');
    const same = Array.from({ length: 500 }, (_, i) => `posts/rec${i}${options({ query: { expand: 'owner' } })}`);
    expect((await send(t, 'POST', '/api/realtime', { body: { clientId: c.clientId, subscriptions: same } })).status).toBe(204);
  });

  it('a client id used from another address → 400', async () => {
    const res = await t.server.inject({ method: 'POST', url: '/api/realtime', remoteAddress: '10.1.2.3', payload: { clientId: c.clientId, subscriptions: ['posts/*'] } });
    expect(res.statusCode).toBe(400);
  });

  it('API keys cannot subscribe → 403', async () => {
    const key = await send(t, 'POST', '/api/keys', { auth: tok.su, body: { name: 'rt', scopes: [{ collection: 'posts', actions: ['list', 'view'] }] } });
    expect(key.status, key.raw).toBe(200);
    const res = await send(t, 'POST', '/api/realtime', { headers: { 'x-api-key': key.body.key }, body: { clientId: c.clientId, subscriptions: [] } });
    expect(res.status).toBe(403);
  });
});

describe('binding the auth', () => {
  it('a client bound to one user refuses another user or a guest → 403', async () => {
    const c = await sse();
    await subscribed(c, ['posts/*'], tok.alice);
    const other = await send(t, 'POST', '/api/realtime', { auth: tok.bob, body: { clientId: c.clientId, subscriptions: [] } });
    expect(other.status).toBe(403);
    expect(other.body.message).toBe("The current and the previous request authorization don't match.");
    const guest = await send(t, 'POST', '/api/realtime', { body: { clientId: c.clientId, subscriptions: [] } });
    expect(guest.status).toBe(403);
    await subscribed(c, ['posts/*'], tok.alice);
  });

  it('a guest client may sign in later', async () => {
    const c = await sse();
    await subscribed(c, ['notes/*']);
    await subscribed(c, ['notes/*'], tok.alice);
    await createRecord(t, 'notes', { body: 'for alice', owner: ids.alice });
    expect(dataOf(await c.next((m) => m.event === 'notes/*')).record.body).toBe('for alice');
  });
});

describe('record events', () => {
  it('create, update and delete reach posts/*, posts/<id>, bare posts and the collection id, each under its own event name', async () => {
    const c = await sse();
    await subscribed(c, ['posts/*', 'posts', `${postsId}/*`]);
    const created = await send(t, 'POST', '/api/collections/posts/records', { auth: tok.su, body: { title: 'hello', secret: 's3cret' } });
    expect(created.status).toBe(200);
    const id = created.body.id;
    for (const name of ['posts/*', 'posts', `${postsId}/*`]) {
      const m = await c.next((x) => x.event === name);
      expect(m.id).toBe(c.clientId);
      const data = dataOf(m);
      expect(data.action).toBe('create');
      expect(data.record).toMatchObject({ id, title: 'hello', collectionName: 'posts', collectionId: postsId });
      expect(data.record.secret).toBeUndefined();
    }
    await subscribed(c, [`posts/${id}`]);
    await send(t, 'PATCH', `/api/collections/posts/records/${id}`, { auth: tok.su, body: { title: 'hello again' } });
    const update = dataOf(await c.next((x) => x.event === `posts/${id}`));
    expect(update).toMatchObject({ action: 'update', record: { id, title: 'hello again' } });
    await send(t, 'DELETE', `/api/collections/posts/records/${id}`, { auth: tok.su });
    expect(dataOf(await c.next((x) => x.event === `posts/${id}`))).toMatchObject({ action: 'delete', record: { id, title: 'hello again' } });
    await c.none((x) => x.event !== `posts/${id}` && x.event !== 'PB_CONNECT');
  });

  it('a new POST replaces the subscriptions; an empty list unsubscribes', async () => {
    const c = await sse();
    await subscribed(c, ['posts/*']);
    await subscribed(c, ['notes/*']);
    await createRecord(t, 'posts', { title: 'replaced' });
    await subscribed(c, []);
    await createRecord(t, 'posts', { title: 'after unsubscribe' });
    await c.none((m) => m.event !== 'PB_CONNECT');
  });

  it('a write that fails or rolls back sends nothing', async () => {
    const c = await sse();
    await subscribed(c, ['posts/*']);
    await createRecord(t, 'posts', { title: 'unique-title' });
    await c.next((m) => m.event === 'posts/*');
    const dup = await send(t, 'POST', '/api/collections/posts/records', { auth: tok.su, body: { title: 'unique-title' } });
    expect(dup.status).toBe(400);
    const invalid = await send(t, 'POST', '/api/collections/posts/records', { auth: tok.su, body: { title: '' } });
    expect(invalid.status).toBe(400);
    await c.none();
  });

  it('a batch sends its events after its commit, and none when it rolls back', async () => {
    const enabled = await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { batch: { enabled: true } } });
    expect(enabled.status, enabled.raw).toBe(200);
    const c = await sse();
    await subscribed(c, ['posts/*']);
    const create = (title: string) => ({ method: 'POST', url: '/api/collections/posts/records', body: { title } });
    const failed = await send(t, 'POST', '/api/batch', { auth: tok.su, body: { requests: [create('batch one'), create('')] } });
    expect(failed.status, failed.raw).toBe(400);
    await c.none();
    const ok = await send(t, 'POST', '/api/batch', { auth: tok.su, body: { requests: [create('batch two'), create('batch three')] } });
    expect(ok.status, ok.raw).toBe(200);
    expect([dataOf(await c.next()).record.title, dataOf(await c.next()).record.title]).toEqual(['batch two', 'batch three']);
  });

  it('the list rule is checked per subscriber, in the realtime context; the view rule for coll/<id>', async () => {
    const [alice, bob, guest, su] = [await sse(), await sse(), await sse(), await sse()];
    await subscribed(alice, ['notes/*'], tok.alice);
    await subscribed(bob, ['notes/*'], tok.bob);
    await subscribed(guest, ['notes/*']);
    await subscribed(su, ['notes/*'], tok.su);
    const note = await createRecord(t, 'notes', { body: 'mine', owner: ids.alice });
    expect(dataOf(await alice.next()).record.body).toBe('mine');
    expect(dataOf(await su.next()).record.body).toBe('mine');
    await bob.none();
    await guest.none();
    // The view rule has no context condition: coll/<id> uses it, not the list rule.
    await subscribed(bob, [`notes/${note.values.id}`], tok.bob);
    await subscribed(alice, [`notes/${note.values.id}`], tok.alice);
    await send(t, 'PATCH', `/api/collections/notes/records/${note.values.id}`, { auth: tok.su, body: { body: 'edited' } });
    expect(dataOf(await alice.next()).action).toBe('update');
    await bob.none();
  });

  it('a delete event is judged on the record as it was (its owner still matches)', async () => {
    const c = await sse();
    await subscribed(c, ['notes/*'], tok.alice);
    const note = await createRecord(t, 'notes', { body: 'to delete', owner: ids.alice });
    await c.next();
    await send(t, 'DELETE', `/api/collections/notes/records/${note.values.id}`, { auth: tok.su });
    expect(dataOf(await c.next())).toMatchObject({ action: 'delete', record: { id: note.values.id, body: 'to delete' } });
  });

  it('a rule on the subscriber\'s own fields follows changes to them (the compiled check is not reused across them)', async () => {
    const erin = await createAuthRecord(t, 'users', { email: 'erin@example.com', name: 'Erin' });
    const c = await sse();
    await subscribed(c, ['vip/*'], erin.token);
    await createRecord(t, 'vip', { body: 'before' });
    await c.none();
    // `verified` is compiled from the bound auth record itself, `name` from its row: both count.
    const promoted = await send(t, 'PATCH', `/api/collections/users/records/${erin.id}`, { auth: tok.su, body: { name: 'VIP', verified: true } });
    expect(promoted.status, promoted.raw).toBe(200);
    await createRecord(t, 'vip', { body: 'after' });
    expect(dataOf(await c.next()).record.body).toBe('after');
    await send(t, 'PATCH', `/api/collections/users/records/${erin.id}`, { auth: tok.su, body: { verified: false } });
    await createRecord(t, 'vip', { body: 'demoted' });
    await c.none();
  });

  it('a superuser-only collection reaches superusers only', async () => {
    const [guest, su] = [await sse(), await sse()];
    await subscribed(guest, ['locked/*']);
    await subscribed(su, ['locked/*'], tok.su);
    await createRecord(t, 'locked', { body: 'x' });
    expect(dataOf(await su.next()).record.body).toBe('x');
    await guest.none();
  });

  it('options: filter, expand and fields apply per subscription; headers and query feed the rule', async () => {
    const c = await sse();
    const filtered = `posts/*${options({ query: { filter: 'tags:each ?= "b"', expand: 'owner', fields: 'id,title,expand.owner.name' } })}`;
    const headed = `tokens/*${options({ query: { lang: 'en' }, headers: { 'X-Token': 'open-sesame' } })}`;
    const wrongHeader = `tokens/*${options({ query: { lang: 'en' }, headers: { 'X-Token': 'nope' } })}`;
    await subscribed(c, [filtered, headed, wrongHeader]);
    await createRecord(t, 'posts', { title: 'no b', tags: ['a'], owner: ids.alice });
    await createRecord(t, 'posts', { title: 'with b', tags: ['a', 'b'], owner: ids.alice });
    const m = dataOf(await c.next((x) => x.event === filtered));
    expect(m.record).toEqual({ id: expect.any(String), title: 'with b', expand: { owner: { name: 'Alice' } } });
    await createRecord(t, 'tokens', { body: 'sesame' });
    expect(dataOf(await c.next((x) => x.event === headed)).record.body).toBe('sesame');
    await c.none();
  });

  it('a filter on a multi-valued field works for delete events too', async () => {
    const c = await sse();
    const sub = `posts/*${options({ query: { filter: 'tags:each ?= "c" && owner.name != "nobody"' } })}`;
    await subscribed(c, [sub]);
    const post = await createRecord(t, 'posts', { title: 'tag c', tags: ['c'], owner: ids.alice });
    await c.next();
    await send(t, 'DELETE', `/api/collections/posts/records/${post.values.id}`, { auth: tok.su });
    expect(dataOf(await c.next()).action).toBe('delete');
  });

  it('clients of a deleted user, or of one whose password changed, are disconnected', async () => {
    const carol = await createAuthRecord(t, 'users', { email: 'carol@example.com' });
    const c = await sse();
    await subscribed(c, ['posts/*'], carol.token);
    await send(t, 'PATCH', `/api/collections/users/records/${carol.id}`, { auth: tok.su, body: { password: 'new-password-1', passwordConfirm: 'new-password-1' } });
    await c.closed;
    const dave = await createAuthRecord(t, 'users', { email: 'dave@example.com' });
    const d = await sse();
    await subscribed(d, ['posts/*'], dave.token);
    await send(t, 'DELETE', `/api/collections/users/records/${dave.id}`, { auth: tok.su });
    await d.closed;
  });
});

describe('connections', () => {
  it('an idle connection is closed after the idle timeout, and any connection after its lifetime', async () => {
    const quick = await startTestApp({ config: { realtime: { idleTimeoutMs: 200, maxLifetimeMs: 60_000 } } });
    try {
      await quick.server.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(quick.server.server.address() as AddressInfo).port}`;
      const started = Date.now();
      const c = await openSse(url);
      await c.closed;
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(quick.app.realtime.hub.size).toBe(0);
    } finally {
      await quick.close();
    }
    const short = await startTestApp({ config: { realtime: { idleTimeoutMs: 60_000, maxLifetimeMs: 300 } } });
    try {
      await short.server.listen({ host: '127.0.0.1', port: 0 });
      const c = await openSse(`http://127.0.0.1:${(short.server.server.address() as AddressInfo).port}`);
      await c.closed;
    } finally {
      await short.close();
    }
  });

  it('a client that stops reading is dropped; the others keep receiving every event', async () => {
    const port = (t.server.server.address() as AddressInfo).port;
    const stalled: Socket = connect(port, '127.0.0.1');
    const first = await new Promise<string>((resolve) => {
      stalled.write('GET /api/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      stalled.once('data', (chunk) => resolve(chunk.toString()));
    });
    stalled.pause();
    const clientId = /id:([A-Za-z0-9]{40})/.exec(first)![1];
    let stalledClosed = false;
    stalled.on('close', () => (stalledClosed = true));
    stalled.on('error', () => {});
    const res = await fetch(`${base}/api/realtime`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId, subscriptions: ['posts/*'] }) });
    expect(res.status).toBe(204);
    const healthy = await sse();
    await subscribed(healthy, ['posts/*']);
    const before = t.app.realtime.hub.size;
    const big = 'x'.repeat(512 * 1024);
    const count = 24; // 12 MiB: past the socket buffers and the 1 MiB allowance
    // The healthy reader keeps up (it runs in this process, so it reads between writes); the
    // stalled one falls behind by the whole 12 MiB.
    for (let i = 0; i < count; i++) {
      await createRecord(t, 'posts', { title: `big ${i}`, big });
      expect(dataOf(await healthy.next((m) => m.event === 'posts/*', 10_000)).record.title).toBe(`big ${i}`);
    }
    expect(t.app.realtime.hub.find(clientId)).toBeUndefined();
    expect(t.app.realtime.hub.size).toBe(before - 1);
    stalled.resume();
    await new Promise<void>((resolve) => (stalledClosed ? resolve() : stalled.once('close', () => resolve())));
  });
});

describe('@oauth2', () => {
  it('the redirect reaches the client whose id is the state, on its @oauth2 subscription', async () => {
    const c = await sse();
    await subscribed(c, ['@oauth2']);
    const res = await send(t, 'GET', `/api/oauth2-redirect?state=${c.clientId}&code=the-code`);
    expect(res.status).toBe(307);
    expect(String(res.headers.location)).toContain('success');
    expect(dataOf(await c.next((m) => m.event === '@oauth2'))).toEqual({ state: c.clientId, code: 'the-code' });
  });

  it('an unknown state, or a client not subscribed to @oauth2, lands on the failure page', async () => {
    const c = await sse();
    await subscribed(c, ['posts/*']);
    for (const state of ['unknown-state', c.clientId]) {
      const res = await send(t, 'GET', `/api/oauth2-redirect?state=${state}&code=x`);
      expect(String(res.headers.location)).toContain('failure');
    }
  });
});
