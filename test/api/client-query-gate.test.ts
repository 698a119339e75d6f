/**
 * The client-query gate (core/records/client-query.ts): one table of forbidden inputs walked
 * through every entry point that takes a client query — list, view, a create's and an update's
 * answer, a batch sub-request's URL, and a realtime subscription's options (through a real SSE
 * client) — as a guest, a signed-in user and an API key. Then the realtime attack of the
 * hardening issue and its variants (sort, expand, headers): a guest reading a superuser's
 * password hash one event at a time. Runs on every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { openSse, type SseConnection } from '../harness/sse-client.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let base = '';
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};
const open: SseConnection[] = [];

const options = (o: unknown) => `?options=${encodeURIComponent(JSON.stringify(o))}`;
const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();

/** Principals the table runs as (superusers pass every check, so they are not in it). */
const AS: Record<string, () => Record<string, string>> = {
  guest: () => ({}),
  user: () => ({ authorization: tok.alice }),
  'API key': () => ({ 'x-api-key': tok.key }),
};

/**
 * Forbidden client queries. `status`: how every entry point refuses it before running anything;
 * `'silent'`: accepted, but it must never reveal what it names (no match, no event).
 */
const FORBIDDEN: { name: string; query: Record<string, string>; status: 403 | 400 | 'silent' }[] = [
  { name: "a superuser's password hash through @collection", query: { filter: '@collection._superusers.password >= "$2"' }, status: 403 },
  { name: "users' e-mails through @collection", query: { filter: '@collection.users.email ?~ "alice@"' }, status: 403 },
  { name: 'a locked collection through @collection', query: { filter: '@collection.vault.code ?= "x"' }, status: 403 },
  { name: '@request in a filter', query: { filter: '@request.headers.x = ""' }, status: 403 },
  { name: '@collection in a sort', query: { sort: '@collection.users.email' }, status: 403 },
  { name: '@collection hidden in another query value', query: { expand: 'author', lang: '@collection.users.email' }, status: 403 },
  { name: 'a hidden field in a filter', query: { filter: 'secret >= "a"' }, status: 400 },
  { name: 'a password through a relation', query: { filter: 'author.password != ""' }, status: 400 },
  { name: 'a hidden field in a sort', query: { sort: 'secret' }, status: 400 },
  { name: 'a hidden e-mail through a relation', query: { filter: 'author.email ~ "alice"' }, status: 'silent' },
];

/** Which parameters an entry point compiles: a view and a write answer never run a filter or sort. */
const compilesFilter = (entry: string) => entry === 'list' || entry === 'realtime';

beforeAll(async () => {
  t = await startTestApp({ config: { realtime: { idleTimeoutMs: 60_000, maxLifetimeMs: 120_000 } } });
  base = await listenOnLoopback(t);
  tok.su = (await createSuperuser(t, 'root@example.com', 'a-strong-password')).token;
  const users = t.app.registry.find('users')!;
  await t.app.collections.update('users', { listRule: '', viewRule: '' });
  const vault = await createCollection(t, { name: 'vault', fields: [{ name: 'code', type: 'text' }] });
  await createCollection(t, {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'note', type: 'text' },
      { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
      { name: 'vaultRef', type: 'relation', collectionId: vault.id, maxSelect: 1 },
    ],
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: '',
  });
  const alice = await createAuthRecord(t, 'users', { email: 'alice@example.com', name: 'Alice', emailVisibility: false });
  Object.assign(tok, { alice: alice.token });
  ids.alice = alice.id;
  const code = await createRecord(t, 'vault', { code: 'x' });
  const post = await createRecord(t, 'posts', { title: 'hello', secret: 's3cret', author: alice.id, vaultRef: code.values.id });
  ids.post = String(post.values.id);
  const key = await send(t, 'POST', '/api/keys', { auth: tok.su, body: { name: 'probe', scopes: [{ collection: '*', actions: ['list', 'view', 'create', 'update'] }] } });
  expect(key.status, key.raw).toBe(200);
  tok.key = key.body.key;
  await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { batch: { enabled: true } } });
});

afterAll(async () => {
  for (const c of open) c.close();
  await t?.close();
});

async function sse(): Promise<SseConnection> {
  const c = await openSse(base);
  open.push(c);
  return c;
}

async function subscribe(c: SseConnection, subscriptions: string[], headers: Record<string, string>) {
  const res = await fetch(`${base}/api/realtime`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ clientId: c.clientId, subscriptions }),
  });
  return { status: res.status, body: (res.status === 204 ? null : await res.json()) as any };
}

/** A write by a superuser that every subscriber of `posts/*` may see. */
const touchPost = (title: string) => send(t, 'PATCH', `/api/collections/posts/records/${ids.post}`, { auth: tok.su, body: { title } });

type Entry = (query: Record<string, string>, headers: Record<string, string>) => Promise<{ status: number; body: any }>;

const ENTRIES: Record<string, Entry> = {
  list: (q, headers) => send(t, 'GET', `/api/collections/posts/records?${qs(q)}`, { headers }),
  view: (q, headers) => send(t, 'GET', `/api/collections/posts/records/${ids.post}?${qs(q)}`, { headers }),
  'create answer': (q, headers) => send(t, 'POST', `/api/collections/posts/records?${qs(q)}`, { headers, body: { title: 'probe' } }),
  'update answer': (q, headers) => send(t, 'PATCH', `/api/collections/posts/records/${ids.post}?${qs(q)}`, { headers, body: {} }),
  'batch sub-request': async (q, headers) => {
    const res = await send(t, 'POST', '/api/batch', { headers, body: { requests: [{ method: 'PATCH', url: `/api/collections/posts/records/${ids.post}?${qs(q)}`, body: {} }] } });
    // A failed sub-request fails the batch: its own answer is what the table judges.
    const sub = res.body?.data?.requests?.['0']?.response;
    return res.status === 400 && sub ? { status: sub.status, body: sub } : res;
  },
  realtime: async (q, headers) => {
    const c = await sse();
    const res = await subscribe(c, [`posts/*${options({ query: q })}`], headers);
    if (res.status !== 204) return res;
    // Accepted: the subscription must still reveal nothing (the table's 'silent' rows).
    await touchPost(`probe-${Date.now()}`);
    const events = await c.next((m) => m.event.startsWith('posts/*'), 1500).then(
      (m) => [JSON.parse(m.data)],
      () => [],
    );
    c.close();
    return { status: 200, body: { items: events.map((e) => e.record) } };
  },
};

describe('every entry point refuses the same forbidden client queries', () => {
  for (const [entry, call] of Object.entries(ENTRIES)) {
    for (const [who, headers] of Object.entries(AS)) {
      for (const row of FORBIDDEN) {
        // API keys are not realtime clients (403 whatever they ask).
        if (entry === 'realtime' && who === 'API key') continue;
        it(`${entry} as ${who}: ${row.name}`, async () => {
          const res = await call(row.query, headers());
          const compiles = compilesFilter(entry) || !('filter' in row.query || 'sort' in row.query) || row.status === 403;
          if (row.status === 'silent' || !compiles) {
            expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
            // Nothing of alice's hidden e-mail, nor of the hidden field, reached the answer.
            expect(JSON.stringify(res.body)).not.toContain('alice@');
            expect(JSON.stringify(res.body)).not.toContain('s3cret');
            if (row.status === 'silent' && entry === 'list') expect(res.body.items).toEqual([]);
            if (row.status === 'silent' && entry === 'realtime') expect(res.body.items).toEqual([]);
            return;
          }
          expect(res.status, JSON.stringify(res.body)).toBe(row.status);
          expect(res.body).toMatchObject({ status: row.status, message: expect.any(String), data: expect.any(Object) });
        });
      }
    }
  }
});

describe('the realtime attack: subscription options as an oracle', () => {
  it('a guest cannot subscribe with a filter over _superusers.password (the reported leak)', async () => {
    const c = await sse();
    const res = await subscribe(c, [`posts/*${options({ query: { filter: '@collection._superusers.password >= "$2"' } })}`], {});
    expect(res.status).toBe(403);
    expect(res.body.data['subscriptions.0'].code).toBe('validation_forbidden_options');
    await touchPost('after-refused');
    await c.none((m) => m.event.startsWith('posts/'), 500);
  });

  it('one forbidden subscription refuses the whole POST: the allowed ones are not bound either', async () => {
    const c = await sse();
    const res = await subscribe(c, ['posts/*', `posts/*${options({ query: { filter: '@collection.users.email ?~ "a"' } })}`], {});
    expect(res.status).toBe(403);
    await touchPost('after-mixed');
    await c.none((m) => m.event.startsWith('posts/'), 500);
  });

  it('a field hidden after subscribing is no oracle: the event-time check refuses it too', async () => {
    const plain = await sse();
    const probe = await sse();
    expect((await subscribe(plain, ['posts/*'], {})).status).toBe(204);
    // Allowed while `note` is visible; "n0te" >= "a" holds, so a leaking check would deliver.
    expect((await subscribe(probe, [`posts/*${options({ query: { filter: 'note >= "a"' } })}`], {})).status).toBe(204);
    await send(t, 'PATCH', `/api/collections/posts/records/${ids.post}`, { auth: tok.su, body: { note: 'n0te' } });
    await probe.next((m) => m.event.startsWith('posts/*'));
    const posts = t.app.registry.find('posts')!;
    await t.app.collections.update('posts', { fields: posts.data.fields.map((f) => (f.name === 'note' ? { ...f, hidden: true } : f)) });
    await touchPost('hidden-probe');
    const event = JSON.parse((await plain.next((m) => m.event === 'posts/*' && m.data.includes('hidden-probe'))).data);
    expect(event.record.note).toBeUndefined();
    await probe.none((m) => m.event.startsWith('posts/'), 500);
  });

  it('variant: sort with @collection in the options is refused', async () => {
    const c = await sse();
    const res = await subscribe(c, [`posts/*${options({ query: { sort: '@collection._superusers.password' } })}`], {});
    expect(res.status).toBe(403);
  });

  it('variant: expand into a collection whose view rule refuses the subscriber shows nothing of it', async () => {
    const c = await sse();
    expect((await subscribe(c, [`posts/*${options({ query: { expand: 'vaultRef,author' } })}`], {})).status).toBe(204);
    await touchPost('expand-probe');
    const event = JSON.parse((await c.next((m) => m.event.startsWith('posts/*'))).data);
    expect(event.record.expand?.vaultRef).toBeUndefined();
    expect(event.record.expand?.author?.email ?? '').toBe('');
    expect(event.record.expand?.author?.password).toBeUndefined();
  });

  it('variant: options.headers cannot carry credentials (a superuser token there is just data)', async () => {
    const c = await sse();
    const res = await subscribe(c, [`vault/*${options({ headers: { authorization: tok.su, 'x-api-key': tok.key } })}`], {});
    expect(res.status).toBe(204);
    await send(t, 'POST', '/api/collections/vault/records', { auth: tok.su, body: { code: 'y' } });
    await c.none((m) => m.event.startsWith('vault/'), 500);
  });

  it('variant: @request in options.query values other than the filter is refused', async () => {
    const c = await sse();
    const res = await subscribe(c, [`posts/*${options({ query: { lang: '@request.auth.password' } })}`], {});
    expect(res.status).toBe(403);
  });

  it('a superuser may still use @collection in a subscription filter', async () => {
    const c = await sse();
    const res = await subscribe(c, [`posts/*${options({ query: { filter: '@collection.vault.code ?= "x"' } })}`], { authorization: tok.su });
    expect(res.status).toBe(204);
    await touchPost('su-probe');
    await c.next((m) => m.event.startsWith('posts/*'));
  });
});
