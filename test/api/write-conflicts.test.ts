/**
 * A write PostgreSQL ends as a deadlock's victim (another transaction, here a hand-made one
 * beside the app, holds what the write needs at its commit and then waits for the write's table)
 * is answered 503 in the standard error shape, saying to send it again: nothing was saved, and the
 * same request again goes through. Not a 500: the request did nothing wrong.
 */
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE } from '../harness/engines.js';
import { createCollection } from '../harness/fixtures.js';
import { untilSomeoneWaitsForALock } from '../harness/pg-lock-waits.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

describe.skipIf(ENGINE !== 'postgres')('a write chosen as a deadlock victim', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await createCollection(t, { name: 'notes', type: 'base', createRule: '', listRule: '', fields: [{ name: 'title', type: 'text' }] });
    // The collection's data-version row exists once something was written.
    expect((await send(t, 'POST', '/api/collections/notes/records', { body: { title: 'first' } })).status).toBe(200);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('gets a 503 saying to send it again, saves nothing, and succeeds when sent again', async () => {
    const other = new pg.Client({ connectionString: t.config.databaseUrl });
    const watcher = new pg.Client({ connectionString: t.config.databaseUrl });
    await Promise.all([other.connect(), watcher.connect()]);
    try {
      // The other transaction holds the data-version rows the write updates as it commits…
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM "_dataVersions" FOR UPDATE`);
      const write = send(t, 'POST', '/api/collections/notes/records', { body: { title: 'conflicted' } });
      await untilSomeoneWaitsForALock(watcher, 'the write');
      // …then waits for the table the write has written: a cycle, and the write waited first.
      const locked = other.query('LOCK TABLE notes IN SHARE MODE').then(
        () => 'locked',
        (err: Error) => `failed: ${err.message}`,
      );
      const res = await write;
      expect(await locked).toBe('locked');
      await other.query('ROLLBACK');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 503, message: expect.stringMatching(/conflict.*nothing was saved.*Send it again/), data: {} });
      const titles = async () => (await t.app.db.rows<{ title: string }>(sql`SELECT title FROM notes ORDER BY title`)).map((r) => r.title);
      expect(await titles()).toEqual(['first']);
      const again = await send(t, 'POST', '/api/collections/notes/records', { body: { title: 'conflicted' } });
      expect(again.status).toBe(200);
      expect(await titles()).toEqual(['conflicted', 'first']);
    } finally {
      await other.end().catch(() => {});
      await watcher.end().catch(() => {});
    }
  }, 60_000);
});
