/**
 * A restore replaces the database in one transaction: reads running beside it (other nodes on
 * PostgreSQL, the read workers on SQLite — the HTTP gate aside) see the old data or the new,
 * never a mix of the two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createCollection, createRecord } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  await createCollection(t, { name: 'items', type: 'base', fields: [{ name: 'n', type: 'number' }] });
  await createCollection(t, { name: 'tags', type: 'base', fields: [{ name: 'n', type: 'number' }] });
});

afterAll(async () => {
  await t?.close();
});

describe('restore and concurrent reads', () => {
  it('every read sees the backup or the data before it, never a mix', async () => {
    for (let i = 0; i < 40; i++) await createRecord(t, 'items', { n: i });
    for (let i = 0; i < 10; i++) await createRecord(t, 'tags', { n: i });
    await t.app.backups.create('small.zip');
    await t.app.db.transaction(async (tx) => {
      for (let i = 0; i < 400; i++) await tx.rows(sql`INSERT INTO items (id, n) VALUES (${`zz${String(i).padStart(13, '0')}`}, ${i})`);
      await tx.rows(sql`DELETE FROM tags`);
    });
    const read = async () => {
      const [row] = await t.app.db.rows<{ items: number; tags: number }>(sql`SELECT (SELECT count(*) FROM items) AS items, (SELECT count(*) FROM tags) AS tags`);
      return `${Number(row.items)}/${Number(row.tags)}`;
    };
    expect(await read()).toBe('440/0');
    const seen = new Map<string, number>();
    let reading = true;
    const readers = Array.from({ length: 3 }, async () => {
      while (reading) {
        const state = await read().catch((err: Error) => `error: ${err.message}`);
        seen.set(state, (seen.get(state) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
      }
    });
    await new Promise((r) => setTimeout(r, 50));
    await t.app.backups.restore('small.zip', { drain: async () => true });
    await new Promise((r) => setTimeout(r, 50));
    reading = false;
    await Promise.all(readers);
    expect(await read()).toBe('40/10');
    expect([...seen.keys()].filter((s) => s !== '440/0' && s !== '40/10')).toEqual([]);
    expect(seen.get('440/0')).toBeGreaterThan(0);
    expect(seen.get('40/10')).toBeGreaterThan(0);
  }, 60_000);
});
