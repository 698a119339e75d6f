/**
 * Stored list totals (core/records/count-cache.ts): every `totalItems` equals what the plain
 * query answers on the same data — after creates, updates, deletes, a rule change, a write to a
 * related collection, raw SQL through the console, a truncate — and a repeated list is answered
 * without counting again. On PostgreSQL, a write on one node is seen by the next list on another
 * at once (no waiting for a message).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { ENGINE, REDIS_URL } from '../harness/engines.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { startTwoNodes } from '../harness/two-nodes.js';
import { transact } from '../../src/core/events/transaction.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { checkClientQuery } from '../../src/core/records/client-query.js';
import { filterPredicate } from '../../src/core/records/record-query.js';

let t: TestApp;
let su = '';
const P = '/api/collections/posts/records';
const q = encodeURIComponent;
const authorIds: string[] = [];
const postIds: string[] = [];

/** The list's answer, and the plain query's: every matching item without a total (perPage 1000, skipTotal). */
async function listBoth(app: TestApp, query: string, auth = su): Promise<{ total: number; items: string[]; plain: string[]; plainTotal: number }> {
  const listed = await send(app, 'GET', `${P}?perPage=5&${query}`, { auth });
  expect(listed.status, JSON.stringify(listed.body)).toBe(200);
  const plain = await send(app, 'GET', `${P}?perPage=1000&skipTotal=1&${query}`, { auth });
  expect(plain.status).toBe(200);
  return {
    total: listed.body.totalItems,
    items: listed.body.items.map((i: any) => i.id),
    plain: plain.body.items.map((i: any) => i.id),
    plainTotal: plain.body.items.length,
  };
}

/** Lists twice: both totals equal the plain query's, and the second is served from the stored count. */
async function expectExact(query: string, auth = su): Promise<number> {
  const first = await listBoth(t, query, auth);
  expect(first.total).toBe(first.plainTotal);
  expect(first.items).toEqual(first.plain.slice(0, 5));
  const hits = t.app.counts.stats.hits;
  const second = await listBoth(t, query, auth);
  expect(second.total).toBe(first.plainTotal);
  expect(t.app.counts.stats.hits).toBe(hits + 1);
  return first.plainTotal;
}

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  await createCollection(t, { name: 'authors', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'country', type: 'text' }] });
  await createCollection(t, {
    name: 'posts',
    type: 'base',
    listRule: 'published = true',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'author', type: 'relation', collectionId: 'authors', maxSelect: 1 },
      { name: 'owner', type: 'text' },
    ],
  });
  for (const country of ['FR', 'DE', 'FR', 'IT']) authorIds.push(String((await createRecord(t, 'authors', { country })).values.id));
  for (let i = 0; i < 40; i++) {
    const r = await createRecord(t, 'posts', { title: `post ${i}`, n: i, published: i % 3 !== 0, author: authorIds[i % 4], owner: i % 2 === 0 ? 'even' : 'odd' });
    postIds.push(String(r.values.id));
  }
});

afterAll(async () => {
  await t?.close();
});

describe('stored list totals', () => {
  it('a repeated list is answered from the stored count, equal to the plain query', async () => {
    expect(await expectExact('')).toBe(40);
    expect(await expectExact(`filter=${q('n > 10')}&sort=-n`)).toBe(29);
  });

  it('lists asking for the same count at once share one count', async () => {
    const filter = `filter=${q('n >= 3 && title != "shared"')}`;
    const counted = t.app.counts.stats.counted;
    const answers = await Promise.all(Array.from({ length: 6 }, () => send(t, 'GET', `${P}?perPage=2&${filter}`, { auth: su })));
    const totals = new Set(answers.map((a) => a.body.totalItems));
    expect(totals.size).toBe(1);
    expect(t.app.counts.stats.counted - counted).toBeLessThanOrEqual(2);
    expect((await listBoth(t, filter)).plainTotal).toBe([...totals][0]);
  });

  it('creates, updates and deletes through the API change the next total', async () => {
    const filter = `filter=${q('n >= 20')}`;
    const before = await expectExact(filter);
    const created = await send(t, 'POST', P, { auth: su, body: { title: 'new', n: 99, published: true } });
    expect(created.status).toBe(200);
    expect(await expectExact(filter)).toBe(before + 1);
    // An update moving a record out of the filter, then one moving it back in.
    expect((await send(t, 'PATCH', `${P}/${created.body.id}`, { auth: su, body: { n: 1 } })).status).toBe(200);
    expect(await expectExact(filter)).toBe(before);
    expect((await send(t, 'PATCH', `${P}/${created.body.id}`, { auth: su, body: { n: 50 } })).status).toBe(200);
    expect(await expectExact(filter)).toBe(before + 1);
    expect((await send(t, 'DELETE', `${P}/${created.body.id}`, { auth: su })).status).toBe(204);
    expect(await expectExact(filter)).toBe(before);
  });

  it('writes through the API carry a stored count forward: no count is taken again, and it stays exact', async () => {
    const filter = `filter=${q('n >= 30 && n < 1000')}`;
    const before = await expectExact(filter);
    const stats = t.app.counts.stats;
    const counted = stats.counted;
    const carried = stats.carried;
    const total = async () => {
      const both = await listBoth(t, filter);
      expect(both.total).toBe(both.plainTotal);
      return both.total;
    };
    const inside = await send(t, 'POST', P, { auth: su, body: { title: 'in', n: 500, published: true } });
    expect(await total()).toBe(before + 1);
    const outside = await send(t, 'POST', P, { auth: su, body: { title: 'out', n: 5000, published: true } });
    expect(await total()).toBe(before + 1);
    expect((await send(t, 'PATCH', `${P}/${outside.body.id}`, { auth: su, body: { n: 31 } })).status).toBe(200);
    expect(await total()).toBe(before + 2);
    expect((await send(t, 'PATCH', `${P}/${inside.body.id}`, { auth: su, body: { title: 'still in' } })).status).toBe(200);
    expect(await total()).toBe(before + 2);
    expect((await send(t, 'DELETE', `${P}/${inside.body.id}`, { auth: su })).status).toBe(204);
    expect((await send(t, 'DELETE', `${P}/${outside.body.id}`, { auth: su })).status).toBe(204);
    expect(await total()).toBe(before);
    // Only the plain queries (skipTotal) ran: the six totals were carried, none counted.
    expect(stats.counted).toBe(counted);
    expect(stats.carried).toBeGreaterThan(carried);
  });

  it('a count that saw a write its rows did not (or the other way round) is carried to the rows\' versions, not taken again', async () => {
    const counts = t.app.counts;
    const model = t.app.registry.find('posts')!;
    const caller = systemCaller();
    const plan = counts.plan(t.app.db, model, filterPredicate(t.app.query, model, checkClientQuery({ filter: 'n >= 20 && n < 900' }, caller), caller)!)!;
    const older = await counts.shared(plan);
    // Tracked from that count on: the create below is evaluated and its step kept.
    const created = await send(t, 'POST', P, { auth: su, body: { title: 'between', n: 800, published: true } });
    expect(created.status).toBe(200);
    const newer = await counts.shared(plan);
    expect(newer.count).toBe(older.count + 1);
    const { counted, carried } = counts.stats;
    // Rows read before the create, the count after it; then the reverse.
    expect(await counts.countAt(plan, older.versions, newer)).toBe(older.count);
    expect(await counts.countAt(plan, newer.versions, older)).toBe(newer.count);
    expect(counts.stats.counted).toBe(counted);
    expect(counts.stats.carried).toBe(carried + 2);
    expect((await send(t, 'DELETE', `${P}/${created.body.id}`, { auth: su })).status).toBe(204);
  });

  it('a transaction that also wrote the table outside the pipeline is counted again, never carried', async () => {
    const filter = `filter=${q('n >= 30')}`;
    const before = await expectExact(filter);
    const counted = t.app.counts.stats.counted;
    // A record created through the pipeline, and a row written with raw SQL (as a hook may), in one transaction.
    const posts = t.app.registry.find('posts')!;
    await transact(t.app.db, async (tx) => {
      await t.app.records.writer.create(posts, { data: { title: 'piped', n: 40, published: true } }, systemCaller(), tx);
      await tx.db.kysely.insertInto('posts').values({ id: 'rawrow000000001', title: 'raw', n: 77, published: t.engine === 'sqlite' ? 1 : true }).execute();
    });
    const both = await listBoth(t, filter);
    expect(both.plainTotal).toBe(before + 2);
    expect(both.total).toBe(before + 2);
    expect(t.app.counts.stats.counted).toBe(counted + 1);
    await t.app.db.transaction(async (tx) => {
      await tx.kysely.deleteFrom('posts').where('id', '=', 'rawrow000000001').execute();
    });
    const piped = (await send(t, 'GET', `${P}?filter=${q("title = 'piped'")}`, { auth: su })).body.items[0].id;
    expect((await send(t, 'DELETE', `${P}/${piped}`, { auth: su })).status).toBe(204);
    expect(await expectExact(filter)).toBe(before);
  });

  it('a guest counts through the list rule; a rule change is a new count', async () => {
    const guest = await listBoth(t, '', '');
    expect(guest.total).toBe(guest.plainTotal);
    expect(guest.total).toBe(26);
    expect((await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { listRule: 'published = true && n < 30' } })).status).toBe(200);
    const narrowed = await listBoth(t, '', '');
    expect(narrowed.total).toBe(narrowed.plainTotal);
    expect(narrowed.total).toBe(20);
    expect((await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { listRule: 'published = true' } })).status).toBe(200);
    expect((await listBoth(t, '', '')).total).toBe(26);
  });

  it('a filter across a relation follows writes to the related collection', async () => {
    const filter = `filter=${q("author.country = 'FR' && n > 5")}`;
    const before = await expectExact(filter);
    expect((await send(t, 'PATCH', `/api/collections/authors/records/${authorIds[1]}`, { auth: su, body: { country: 'FR' } })).status).toBe(200);
    const after = await expectExact(filter);
    expect(after).toBeGreaterThan(before);
    expect((await send(t, 'PATCH', `/api/collections/authors/records/${authorIds[1]}`, { auth: su, body: { country: 'DE' } })).status).toBe(200);
    expect(await expectExact(filter)).toBe(before);
  });

  it('callers whose rule parameters differ never share a count', async () => {
    await createCollection(t, { name: 'members', type: 'auth', fields: [] });
    expect((await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { listRule: 'owner = @request.auth.id || published = true' } })).status).toBe(200);
    const a = await createAuthRecord(t, 'members', { email: 'a@example.com', password: 'password123', passwordConfirm: 'password123' });
    const b = await createAuthRecord(t, 'members', { email: 'b@example.com', password: 'password123', passwordConfirm: 'password123' });
    expect((await send(t, 'PATCH', `${P}/${postIds[0]}`, { auth: su, body: { owner: a.id } })).status).toBe(200);
    const forA = await listBoth(t, '', a.token);
    const forB = await listBoth(t, '', b.token);
    expect(forA.total).toBe(forA.plainTotal);
    expect(forB.total).toBe(forB.plainTotal);
    expect(forA.total).toBe(forB.total + 1);
    expect((await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { listRule: 'published = true' } })).status).toBe(200);
  });

  it('raw SQL through the console changes the next total (the version is bumped by the database)', async () => {
    expect((await send(t, 'PATCH', '/api/settings', { auth: su, body: { sqlConsole: { allowWrites: true } } })).status).toBe(200);
    const before = await expectExact('');
    const res = await send(t, 'POST', '/api/sql', { auth: su, body: { query: `DELETE FROM posts WHERE id = '${postIds[39]}'` } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await expectExact('')).toBe(before - 1);
    const update = await send(t, 'POST', '/api/sql', { auth: su, body: { query: `UPDATE posts SET n = n + 1000 WHERE n < 5` } });
    expect(update.status, JSON.stringify(update.body)).toBe(200);
    const filter = `filter=${q('n < 5')}`;
    expect(await expectExact(filter)).toBe(0);
  });

  it('a truncate empties the total', async () => {
    expect(await expectExact('')).toBeGreaterThan(0);
    expect((await send(t, 'DELETE', '/api/collections/posts/truncate', { auth: su })).status).toBe(204);
    const empty = await listBoth(t, '');
    expect(empty.total).toBe(0);
    expect(empty.plainTotal).toBe(0);
  });

  it('transactions writing the same collections in opposite orders all commit (version rows are taken in one order)', async () => {
    expect((await send(t, 'PATCH', '/api/settings', { auth: su, body: { batch: { enabled: true } } })).status).toBe(200);
    const create = (collection: string, data: Record<string, unknown>) => ({ method: 'POST', url: `/api/collections/${collection}/records`, body: data });
    const before = await expectExact('');
    const rounds = 15;
    for (let i = 0; i < rounds; i++) {
      const [ab, ba] = await Promise.all([
        send(t, 'POST', '/api/batch', { auth: su, body: { requests: [create('authors', { country: 'AB' }), create('posts', { n: 1, published: true })] } }),
        send(t, 'POST', '/api/batch', { auth: su, body: { requests: [create('posts', { n: 2, published: true }), create('authors', { country: 'BA' })] } }),
      ]);
      expect(ab.status, JSON.stringify(ab.body)).toBe(200);
      expect(ba.status, JSON.stringify(ba.body)).toBe(200);
    }
    expect(await expectExact('')).toBe(before + 2 * rounds);
  });

  it('skipTotal and views never count', async () => {
    const counted = t.app.counts.stats.counted;
    const res = await send(t, 'GET', `${P}?skipTotal=1`, { auth: su });
    expect(res.body.totalItems).toBe(-1);
    expect(t.app.counts.stats.counted).toBe(counted);
    await createCollection(t, { name: 'author_view', type: 'view', listRule: '', viewQuery: 'SELECT id, country FROM authors' });
    const view = await send(t, 'GET', '/api/collections/author_view/records', { auth: su });
    expect(view.body.totalItems).toBe(34);
    expect(t.app.counts.stats.counted).toBe(counted);
  });
});

describe.runIf(ENGINE === 'postgres' && REDIS_URL !== '')('stored list totals on two nodes', () => {
  it('a write on node A is in the next total node B serves, without waiting for a message', async () => {
    const nodes = await startTwoNodes('counts');
    try {
      const token = (await createSuperuser(nodes.a)).token;
      await createCollection(nodes.a, { name: 'notes', type: 'base', listRule: '', fields: [{ name: 'n', type: 'number' }] });
      for (let i = 0; i < 5; i++) await createRecord(nodes.a, 'notes', { n: i });
      const totalOnB = async () => (await send(nodes.b, 'GET', '/api/collections/notes/records?perPage=1', { auth: token })).body.totalItems;
      // The collection may reach B's catalogue a moment later; its first answer then counts.
      for (let i = 0; i < 100 && (await send(nodes.b, 'GET', '/api/collections/notes/records', { auth: token })).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await totalOnB()).toBe(5);
      const hits = nodes.b.app.counts.stats.hits;
      expect(await totalOnB()).toBe(5);
      expect(nodes.b.app.counts.stats.hits).toBe(hits + 1);
      for (let i = 0; i < 10; i++) {
        expect((await send(nodes.a, 'POST', '/api/collections/notes/records', { auth: token, body: { n: 100 + i } })).status).toBe(200);
        expect(await totalOnB()).toBe(6 + i);
      }
    } finally {
      await nodes.close();
    }
  });
});
