/**
 * Requests never see another request's unfinished transaction, and concurrent writes never lose
 * each other's changes (on SQLite: one writer, and reads from a separate connection in WAL mode).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/core/records/caller.js';
import { transact } from '../../src/core/events/transaction.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let suId = '';
beforeAll(async () => {
  t = await startTestApp();
  const admin = await createSuperuser(t);
  suId = admin.id;
  await createCollection(t, { name: 'counters', fields: [{ name: 'name', type: 'text' }, { name: 'n', type: 'number' }] });
});
afterAll(async () => {
  await t?.close();
});

const counters = () => t.app.registry.find('counters')!;
const count = async (filter: string) => (await t.app.records.reader.list(counters(), { filter }, systemCaller())).totalItems;

describe('write isolation', () => {
  it('an uncommitted insert is invisible to other requests until the commit', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedSignal = new Promise<void>((r) => (inserted = r));
    const tx = transact(t.app.db, async (txn) => {
      await t.app.records.writer.create(counters(), { data: { name: 'pending' } }, systemCaller(), txn);
      inserted();
      await gate;
    });
    await insertedSignal;
    expect(await count("name = 'pending'")).toBe(0);
    release();
    await tx;
    expect(await count("name = 'pending'")).toBe(1);
  });

  it('concurrent increments all land (no lost update)', async () => {
    const r = await createRecord(t, 'counters', { name: 'hits', n: 0 });
    const id = String(r.values.id);
    await Promise.all(Array.from({ length: 40 }, () => t.app.records.writer.update(counters(), id, { data: { 'n+': 1 } }, systemCaller())));
    const after = await t.app.records.reader.view(counters(), id, {}, systemCaller());
    expect(after.n).toBe(40);
  });

  it('superusers deleted all at once: one stays', async () => {
    const a = await createAuthRecord(t, '_superusers', { email: 'su-a@example.com' });
    const b = await createAuthRecord(t, '_superusers', { email: 'su-b@example.com' });
    const supers = () => t.app.registry.find('_superusers')!;
    // Three exist in this app: each delete alone would be allowed.
    const results = await Promise.allSettled([a.id, b.id, suId].map((id) => t.app.records.writer.delete(supers(), id, systemCaller())));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect((await t.app.records.reader.list(supers(), {}, systemCaller())).totalItems).toBe(1);
  });

  it('a record created while its required relation target is deleted never dangles', async () => {
    await createCollection(t, { name: 'authors', fields: [{ name: 'name', type: 'text' }] });
    await createCollection(t, {
      name: 'books',
      fields: [{ name: 'author', type: 'relation', collectionId: 'authors', maxSelect: 1, required: true }],
    });
    const authors = () => t.app.registry.find('authors')!;
    const books = () => t.app.registry.find('books')!;
    for (let i = 0; i < 15; i++) {
      const author = String((await createRecord(t, 'authors', { name: `a${i}` })).values.id);
      await Promise.allSettled([
        t.app.records.writer.create(books(), { data: { author } }, systemCaller()),
        t.app.records.writer.delete(authors(), author, systemCaller()),
      ]);
    }
    const all = await t.app.records.reader.list(books(), { perPage: '500' }, systemCaller());
    const existing = new Set((await t.app.records.reader.list(authors(), { perPage: '500' }, systemCaller())).items.map((a) => a.id));
    for (const book of all.items) expect(existing.has(book.author as string)).toBe(true);
  });

  it('writes racing a schema change use the new schema, never a stale one (no 500)', async () => {
    await createCollection(t, { name: 'racy', fields: [{ name: 'a', type: 'text' }, { name: 'b', type: 'number' }] });
    const racy = () => t.app.registry.find('racy')!;
    const { token } = await createSuperuser(t, 'racer@example.com');
    const writes = Array.from({ length: 30 }, (_, i) =>
      t.server.inject({ method: 'POST', url: '/api/collections/racy/records', headers: { authorization: token }, payload: { a: `v${i}` } }),
    );
    const current = await t.app.collections.find('racy');
    const change = t.app.collections.update('racy', {
      fields: current.fields.filter((f) => f.name !== 'b').map((f) => (f.name === 'a' ? { ...f, type: 'number' } : f)),
    });
    const results = await Promise.all(writes);
    await change;
    for (const r of results) expect([200, 400], r.body).toContain(r.statusCode);
    expect(racy().field('b')).toBeUndefined();
  });
});
