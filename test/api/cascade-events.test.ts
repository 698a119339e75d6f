/**
 * Records a delete changes through relations are announced like any other write: a realtime
 * subscriber hears `delete` for each record deleted by cascade (recursively, auth system records
 * included) and `update` for each record whose relation lost the id, with its new values; all
 * after the commit, nothing when the delete rolls back, and a cascade too large to hold is
 * refused. Over a real SSE socket; runs on every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/core/records/caller.js';
import { transact } from '../../src/core/events/transaction.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { openSse, type SseConnection, type SseMessage } from '../harness/sse-client.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let base = '';
let su = '';
const open: SseConnection[] = [];

const dataOf = (m: SseMessage) => JSON.parse(m.data) as { action: string; record: Record<string, any> };
const idOf = (r: { values: Record<string, unknown> }) => String(r.values.id);

async function subscriber(subscriptions: string[], auth?: string): Promise<SseConnection> {
  const c = await openSse(base);
  open.push(c);
  const res = await fetch(`${base}/api/realtime`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify({ clientId: c.clientId, subscriptions }),
  });
  expect(res.status, await res.clone().text()).toBe(204);
  return c;
}

/** The next `count` record events of the connection, then no more for a while. */
async function eventsOf(c: SseConnection, count: number): Promise<{ action: string; record: Record<string, any> }[]> {
  const out = [];
  for (let i = 0; i < count; i++) out.push(dataOf(await c.next((m) => m.event !== 'PB_CONNECT')));
  await c.none((m) => m.event !== 'PB_CONNECT', 300);
  return out;
}

const open_ = { listRule: '', viewRule: '' };

beforeAll(async () => {
  t = await startTestApp({ config: { realtime: { idleTimeoutMs: 60_000, maxLifetimeMs: 120_000 } } });
  base = await listenOnLoopback(t);
  su = (await createSuperuser(t)).token;
  const authors = await createCollection(t, { name: 'authors', fields: [{ name: 'name', type: 'text' }], ...open_ });
  const books = await createCollection(t, {
    name: 'books',
    fields: [{ name: 'title', type: 'text' }, { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1, cascadeDelete: true }],
    ...open_,
  });
  await createCollection(t, { name: 'reviews', fields: [{ name: 'body', type: 'text' }, { name: 'book', type: 'relation', collectionId: books.id, maxSelect: 1, cascadeDelete: true }], ...open_ });
  await createCollection(t, {
    name: 'shelves',
    fields: [{ name: 'name', type: 'text' }, { name: 'books', type: 'relation', collectionId: books.id, maxSelect: 10 }, { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true }],
    ...open_,
  });
  await createCollection(t, { name: 'fans', fields: [{ name: 'name', type: 'text' }, { name: 'favorite', type: 'relation', collectionId: authors.id, maxSelect: 1 }], ...open_ });
  await createCollection(t, { name: 'loans', fields: [{ name: 'book', type: 'relation', collectionId: books.id, maxSelect: 1, required: true }], ...open_ });
});

afterAll(async () => {
  for (const c of open) c.close();
  await t?.close();
});

describe('cascade deletes announce every record they change', () => {
  it('deleted records (recursively) get delete events, unlinked ones update events with their new values, after the commit', async () => {
    const author = await createRecord(t, 'authors', { name: 'Ann' });
    const other = await createRecord(t, 'authors', { name: 'Other' });
    const b1 = await createRecord(t, 'books', { title: 'one', author: idOf(author) });
    const b2 = await createRecord(t, 'books', { title: 'two', author: idOf(author) });
    const kept = await createRecord(t, 'books', { title: 'kept', author: idOf(other) });
    const review = await createRecord(t, 'reviews', { body: 'great', book: idOf(b1) });
    const shelf = await createRecord(t, 'shelves', { name: 'mixed', books: [idOf(b1), idOf(b2), idOf(kept)] });
    const fan = await createRecord(t, 'fans', { name: 'Fan', favorite: idOf(author) });
    const c = await subscriber(['authors/*', 'books/*', 'reviews/*', 'shelves/*', 'fans/*']);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the shelf's update stamp must be able to move

    const res = await send(t, 'DELETE', `/api/collections/authors/records/${idOf(author)}`, { auth: su });
    expect(res.status, res.raw).toBe(204);

    const events = await eventsOf(c, 7);
    const summary = events.map((e) => `${e.action} ${e.record.collectionName}/${e.record.id}`);
    expect(summary.sort()).toEqual(
      [
        `delete authors/${idOf(author)}`,
        `delete books/${idOf(b1)}`,
        `delete books/${idOf(b2)}`,
        `delete reviews/${idOf(review)}`,
        `update shelves/${idOf(shelf)}`,
        `update shelves/${idOf(shelf)}`,
        `update fans/${idOf(fan)}`,
      ].sort(),
    );
    // Each update carries the record as it now is: the last one of the shelf is what is stored.
    const shelfUpdates = events.filter((e) => e.record.collectionName === 'shelves').map((e) => e.record.books);
    // (the two books go in id order, which is random)
    expect(shelfUpdates).toHaveLength(2);
    expect([[idOf(b2), idOf(kept)], [idOf(b1), idOf(kept)]]).toContainEqual(shelfUpdates[0]);
    expect(shelfUpdates[1]).toEqual([idOf(kept)]);
    const stored = await send(t, 'GET', `/api/collections/shelves/records/${idOf(shelf)}`);
    expect(stored.body.books).toEqual([idOf(kept)]);
    expect(stored.body.updated).not.toBe(shelf.values.updated);
    expect(events.filter((e) => e.record.collectionName === 'shelves').at(-1)!.record.updated).toBe(stored.body.updated);
    expect(events.find((e) => e.record.collectionName === 'fans')!.record).toMatchObject({ id: idOf(fan), name: 'Fan', favorite: '' });
  });

  it('a delete refused part-way through its cascade (a required relation) rolls back and announces nothing', async () => {
    const author = await createRecord(t, 'authors', { name: 'Blocked' });
    const book = await createRecord(t, 'books', { title: 'lent', author: idOf(author) });
    await createRecord(t, 'fans', { name: 'Fan2', favorite: idOf(author) });
    await createRecord(t, 'loans', { book: idOf(book) });
    const c = await subscriber(['authors/*', 'books/*', 'fans/*']);

    const res = await send(t, 'DELETE', `/api/collections/authors/records/${idOf(author)}`, { auth: su });
    expect(res.status).toBe(400);
    await c.none((m) => m.event !== 'PB_CONNECT', 500);
    expect((await send(t, 'GET', `/api/collections/books/records/${idOf(book)}`)).status).toBe(200);
  });

  it('a delete inside a transaction that rolls back announces nothing', async () => {
    const author = await createRecord(t, 'authors', { name: 'Rolled back' });
    await createRecord(t, 'fans', { name: 'Fan3', favorite: idOf(author) });
    const c = await subscriber(['authors/*', 'fans/*']);
    await expect(
      transact(t.app.db, async (tx) => {
        await t.app.records.writer.delete(t.app.registry.find('authors')!, idOf(author), systemCaller(), tx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await c.none((m) => m.event !== 'PB_CONNECT', 500);
  });

  it('the auth system records of a deleted user (sign-in origins) get delete events', async () => {
    const user = await createAuthRecord(t, 'users', { email: 'leaver@example.com', password: 'leaver-password1' });
    const signIn = await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'leaver@example.com', password: 'leaver-password1' } });
    expect(signIn.status, signIn.raw).toBe(200);
    const origins = await send(t, 'GET', `/api/collections/_authOrigins/records?filter=${encodeURIComponent(`recordRef = "${user.id}"`)}`, { auth: su });
    expect(origins.body.items).toHaveLength(1);
    const c = await subscriber(['_authOrigins/*', 'users/*'], su);

    expect((await send(t, 'DELETE', `/api/collections/users/records/${user.id}`, { auth: su })).status).toBe(204);
    const events = await eventsOf(c, 2);
    expect(events.map((e) => `${e.action} ${e.record.collectionName}/${e.record.id}`).sort()).toEqual([`delete _authOrigins/${origins.body.items[0].id}`, `delete users/${user.id}`].sort());
  });

  it('a cascade is processed in chunks: every one of more than a chunk of referencing records is unlinked and announced', async () => {
    const author = await createRecord(t, 'authors', { name: 'Popular' });
    const fans = t.app.registry.find('fans')!;
    await transact(t.app.db, async (tx) => {
      for (let i = 0; i < 1100; i++) await t.app.records.writer.create(fans, { data: { name: `f${i}`, favorite: idOf(author) } }, systemCaller(), tx);
    });
    const updated = new Set<string>();
    const off = t.app.events.on('recordUpdated', ({ record }) => {
      if (record.collection.name === 'fans' && record.values.favorite === '') updated.add(idOf(record));
    });
    try {
      expect((await send(t, 'DELETE', `/api/collections/authors/records/${idOf(author)}`, { auth: su })).status).toBe(204);
    } finally {
      off();
    }
    expect(updated.size).toBe(1100);
    const left = await send(t, 'GET', `/api/collections/fans/records?filter=${encodeURIComponent(`favorite = "${idOf(author)}"`)}`);
    expect(left.body.totalItems).toBe(0);
  }, 120_000);
});

describe('the cascade bound', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await startTestApp({ config: { maxCascadeRecords: 5 } });
    const authors = await createCollection(small, { name: 'authors', fields: [{ name: 'name', type: 'text' }] });
    await createCollection(small, { name: 'fans', fields: [{ name: 'name', type: 'text' }, { name: 'favorite', type: 'relation', collectionId: authors.id, maxSelect: 1 }] });
  });
  afterAll(async () => {
    await small?.close();
  });

  it('a delete that would change more records than the limit is refused (400) and changes nothing', async () => {
    const suToken = (await createSuperuser(small)).token;
    const seen: string[] = [];
    small.app.events.on('recordUpdated', ({ record }) => void seen.push(idOf(record)));
    small.app.events.on('recordDeleted', ({ record }) => void seen.push(idOf(record)));
    const within = await createRecord(small, 'authors', { name: 'four fans' });
    for (let i = 0; i < 4; i++) await createRecord(small, 'fans', { name: `w${i}`, favorite: idOf(within) });
    const beyond = await createRecord(small, 'authors', { name: 'five fans' });
    for (let i = 0; i < 5; i++) await createRecord(small, 'fans', { name: `b${i}`, favorite: idOf(beyond) });

    const refused = await send(small, 'DELETE', `/api/collections/authors/records/${idOf(beyond)}`, { auth: suToken });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ status: 400, message: 'Failed to delete record. It is referenced by too many records to change in one delete; remove or unlink some of them first.', data: {} });
    expect(seen).toEqual([]);
    expect((await send(small, 'GET', `/api/collections/authors/records/${idOf(beyond)}`, { auth: suToken })).status).toBe(200);

    expect((await send(small, 'DELETE', `/api/collections/authors/records/${idOf(within)}`, { auth: suToken })).status).toBe(204);
    expect(seen).toHaveLength(5);
  });
});
