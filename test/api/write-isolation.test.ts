/**
 * Requests never see another request's unfinished transaction, and concurrent writes never lose
 * each other's changes (on SQLite: one writer, and reads from a separate connection in WAL mode).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { superuserCaller } from '../../src/core/auth/auth-service.js';
import { transact } from '../../src/core/events/transaction.js';
import { createCollection, createRecord } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await createCollection(t, { name: 'counters', fields: [{ name: 'name', type: 'text' }, { name: 'n', type: 'number' }] });
});
afterAll(async () => {
  await t?.close();
});

const counters = () => t.app.registry.find('counters')!;
const count = async (filter: string) => (await t.app.records.reader.list(counters(), { filter }, superuserCaller())).totalItems;

describe('write isolation', () => {
  it('an uncommitted insert is invisible to other requests until the commit', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedSignal = new Promise<void>((r) => (inserted = r));
    const tx = transact(t.app.db, async (txn) => {
      await t.app.records.writer.create(counters(), { data: { name: 'pending' } }, superuserCaller(), txn);
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
    await Promise.all(Array.from({ length: 40 }, () => t.app.records.writer.update(counters(), id, { data: { 'n+': 1 } }, superuserCaller())));
    const after = await t.app.records.reader.view(counters(), id, {}, superuserCaller());
    expect(after.n).toBe(40);
  });
});
