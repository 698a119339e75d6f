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

  it('before-commit callbacks run inside the transaction, in order, and may queue more', async () => {
    seen.length = 0;
    const order: string[] = [];
    await transact(t.app.db, async (tx) => {
      tx.beforeCommit(async () => {
        order.push('first');
        // Still inside: this write commits with the rest.
        await t.app.records.writer.create(notes(), { data: { title: 'from before-commit' } }, systemCaller(), tx);
        tx.beforeCommit(() => void order.push('queued by first'));
      });
      tx.beforeCommit(() => void order.push('second'));
      tx.afterCommit(() => void order.push('after commit'));
      order.push('work');
    });
    expect(order).toEqual(['work', 'first', 'second', 'queued by first', 'after commit']);
    expect(seen).toEqual(['created from before-commit']);
  });

  it('a before-commit callback that throws rolls everything back and runs no after-commit work', async () => {
    seen.length = 0;
    let after = false;
    await expect(
      transact(t.app.db, async (tx) => {
        await t.app.records.writer.create(notes(), { data: { title: 'doomed' } }, systemCaller(), tx);
        tx.afterCommit(() => void (after = true));
        tx.beforeCommit(() => {
          throw new Error('check failed');
        });
      }),
    ).rejects.toThrow('check failed');
    expect(after).toBe(false);
    expect(seen).toEqual([]);
    const list = await t.app.records.reader.list(notes(), { filter: "title = 'doomed'" }, systemCaller());
    expect(list.totalItems).toBe(0);
  });
});
