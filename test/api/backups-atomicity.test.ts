/**
 * A restore replaces the database in one transaction: reads running beside it (other nodes on
 * PostgreSQL, the read workers on SQLite — the HTTP gate aside) see the old data or the new,
 * never a mix of the two. On PostgreSQL, a transaction beside it that closes a deadlock with it
 * (the stored logs' writer's shape: one table locked, then another written) does not make the
 * restore fail: it tries again, with pg_dump's copy and with Basalt's own.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ENGINE } from '../harness/engines.js';
import { untilSomeoneWaitsForALock } from '../harness/pg-lock-waits.js';
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

describe.skipIf(ENGINE !== 'postgres')('restore and a transaction that closes a deadlock with it', () => {
  const deadlocks = async (c: pg.Client) => Number((await c.query<{ n: string }>('SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0].n);

  for (const [copy, binaries] of [
    ["pg_dump's copy", true],
    ["Basalt's own copy (no client binaries)", false],
  ] as const) {
    it(`${copy}: the restore, the deadlock's victim, tries again and replaces the data; the other transaction commits`, async () => {
      const key = binaries ? 'deadlock_pg.zip' : 'deadlock_own.zip';
      const path = process.env.PATH;
      if (!binaries) process.env.PATH = '/nonexistent';
      const worker = new pg.Client({ connectionString: t.config.databaseUrl });
      const watcher = new pg.Client({ connectionString: t.config.databaseUrl });
      try {
        await t.app.backups.create(key);
        const [{ n: before }] = await t.app.db.rows<{ n: number }>(sql`SELECT count(*) AS n FROM items`);
        await createRecord(t, 'items', { n: 999 });
        await Promise.all([worker.connect(), watcher.connect()]);
        const deadlocksBefore = await deadlocks(watcher);
        // As the log writer expands a batch: a raw row locked first, then a `_logs` row written.
        await worker.query(`INSERT INTO "_logsRaw" ("format", "entries", "bytes") VALUES (1, 0, '\\x00')`);
        await worker.query('BEGIN');
        await worker.query(`SELECT "id" FROM "_logsRaw" ORDER BY "id" LIMIT 1 FOR UPDATE`);
        const restored = t.app.backups.restore(key, { drain: async () => true }).then(
          () => 'restored',
          (err: Error) => `failed: ${err.message}`,
        );
        // Once the restore waits for the worker's lock, the worker writes the table the restore already holds.
        await untilSomeoneWaitsForALock(watcher, 'the restore');
        const written = worker
          .query(`INSERT INTO "_logs" ("id", "level", "message", "data", "created") VALUES ('deadlock-test', 0, 'm', '{}', '2026-01-01 00:00:00.000Z')`)
          .then(() => worker.query('COMMIT'))
          .then(
            () => 'committed',
            (err: Error) => `failed: ${err.message}`,
          );
        expect(await restored).toBe('restored');
        expect(await written).toBe('committed');
        const [{ n: after }] = await t.app.db.rows<{ n: number }>(sql`SELECT count(*) AS n FROM items`);
        expect(Number(after)).toBe(Number(before));
        // The deadlock did happen (PostgreSQL counts it; its statistics reach the view within a second or so).
        await expect.poll(() => deadlocks(watcher), { timeout: 10_000 }).toBeGreaterThan(deadlocksBefore);
      } finally {
        process.env.PATH = path;
        await worker.end().catch(() => {});
        await watcher.end().catch(() => {});
      }
    }, 60_000);
  }
});
