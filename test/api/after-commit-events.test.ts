/**
 * Writes announce themselves through after-commit events only: an event describes committed
 * data, and a failed or rolled-back write announces nothing (realtime and webhooks build on this).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/core/records/caller.js';
import { transact } from '../../src/core/events/transaction.js';
import { createCollection } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const seen: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  await createCollection(t, { name: 'notes', fields: [{ name: 'title', type: 'text', required: true }] });
  t.app.events.on('recordCreated', ({ record }) => void seen.push(`created ${String(record.values.title)}`));
  t.app.events.on('recordUpdated', ({ record }) => void seen.push(`updated ${String(record.values.title)}`));
  t.app.events.on('recordDeleted', ({ record }) => void seen.push(`deleted ${String(record.values.title)}`));
});
afterAll(async () => {
  await t?.close();
});

const notes = () => t.app.registry.find('notes')!;

describe('after-commit events', () => {
  it('a committed create, update and delete each emit once, after the commit', async () => {
    seen.length = 0;
    const writer = t.app.records.writer;
    const r = await writer.create(notes(), { data: { title: 'a' } }, systemCaller());
    await writer.update(notes(), String(r.values.id), { data: { title: 'b' } }, systemCaller());
    await writer.delete(notes(), String(r.values.id), systemCaller());
    expect(seen).toEqual(['created a', 'updated b', 'deleted b']);
  });

  it('a refused write emits nothing', async () => {
    seen.length = 0;
    await expect(t.app.records.writer.create(notes(), { data: { title: '' } }, systemCaller())).rejects.toMatchObject({ status: 400 });
    expect(seen).toEqual([]);
  });

  it('writes of a transaction that rolls back emit nothing, and leave nothing', async () => {
    seen.length = 0;
    await expect(
      transact(t.app.db, async (tx) => {
        await t.app.records.writer.create(notes(), { data: { title: 'ghost' } }, systemCaller(), tx);
        expect(seen).toEqual([]); // not before the commit either
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(seen).toEqual([]);
    const list = await t.app.records.reader.list(notes(), { filter: "title = 'ghost'" }, systemCaller());
    expect(list.totalItems).toBe(0);
  });
});
