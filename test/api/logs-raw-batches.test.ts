/**
 * The stored logs' raw batches (`_logsRaw`, core/logs/log-expansion.ts): a flush keeps its batch
 * raw and the entries become `_logs` rows later, when the server has room or before any read. On
 * the engine under test, with the real writer thread: every read answers every flushed entry; an
 * idle server expands on its own; raw batches left by an earlier run (or another node) are read;
 * a batch of an unknown packing is dropped, not misread; truncation removes raw batches too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSuperuser } from '../harness/fixtures.js';
import { ENGINE } from '../harness/engines.js';
import { send } from '../harness/scenario.js';
import { createPgDatabase, startTestApp, type TestApp } from '../harness/test-app.js';
import { LogBatchBuilder } from '../../src/core/logs/log-batch.js';
import { LOG_BATCH_FORMAT, LOGS_RAW_TABLE, LOGS_TABLE, type LogStore } from '../../src/core/logs/log-store.js';
import { silentLogger } from '../../src/core/ports.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { createDatabase } from '../../src/db/create-database.js';

/** Plain SQL on the logs' database, beside the app (auxiliary.db, or the PostgreSQL database). */
interface LogsSql {
  count(table: string): Promise<number>;
  insertRaw(format: number, entries: number, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

async function logsSql(dataDir: string, url: string): Promise<LogsSql> {
  if (ENGINE === 'postgres') {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return {
      count: async (table) => Number((await c.query(`SELECT COUNT(*) AS n FROM "${table}"`)).rows[0].n),
      insertRaw: async (format, entries, bytes) => {
        await c.query(`INSERT INTO "${LOGS_RAW_TABLE}" ("format", "entries", "bytes") VALUES ($1, $2, $3)`, [format, entries, Buffer.from(bytes)]);
      },
      close: () => c.end(),
    };
  }
  const db = new Sqlite(join(dataDir, 'auxiliary.db'));
  db.pragma('busy_timeout = 5000');
  return {
    count: async (table) => Number(db.prepare(`SELECT COUNT(*) FROM "${table}"`).pluck().get()),
    insertRaw: async (format, entries, bytes) => {
      db.prepare(`INSERT INTO "${LOGS_RAW_TABLE}" (format, entries, bytes) VALUES (?, ?, ?)`).run(format, entries, Buffer.from(bytes));
    },
    close: async () => {
      db.close();
    },
  };
}

/** A packed batch of app entries with these messages. */
function batchOf(messages: string[]): Uint8Array {
  const builder = new LogBatchBuilder();
  for (const [i, m] of messages.entries()) builder.appendEntry(Date.now() + i, 0, m, `{"n":${i}}`);
  return builder.seal().bytes.slice();
}

describe('raw log batches, through the app', () => {
  let t: TestApp;
  let su = '';
  let sqlOf: LogsSql;

  beforeAll(async () => {
    t = await startTestApp();
    su = (await createSuperuser(t)).token;
    sqlOf = await logsSql(t.config.dataDir, t.config.databaseUrl);
  });
  afterAll(async () => {
    await sqlOf?.close();
    await t?.close();
  });

  const list = async (query = '') => {
    const res = await send(t, 'GET', `/api/logs${query}`, { auth: su });
    expect(res.status, res.raw).toBe(200);
    return res.body as { totalItems: number; items: { message: string; data: Record<string, unknown> }[] };
  };

  it('a read answers every entry flushed before it, and leaves nothing raw', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: su });
    for (let i = 0; i < 25; i++) await send(t, 'GET', `/api/health?read=${i}`);
    await t.app.logs.writer!.flush();
    const { totalItems } = await list(`?filter=${encodeURIComponent("data.url ~ 'read='")}`);
    expect(totalItems).toBe(25);
    expect(await sqlOf.count(LOGS_RAW_TABLE)).toBe(0);
  });

  it('an idle server expands the raw batches on its own', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: su });
    for (let i = 0; i < 10; i++) await send(t, 'GET', `/api/health?idle=${i}`);
    await t.app.logs.writer!.flush();
    await vi.waitFor(async () => expect(await sqlOf.count(LOGS_RAW_TABLE)).toBe(0), { timeout: 5000, interval: 50 });
    expect(await sqlOf.count(LOGS_TABLE)).toBe(10);
  });

  it('reads raw batches it did not write itself (an earlier run, another node)', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: su });
    await sqlOf.insertRaw(LOG_BATCH_FORMAT, 3, batchOf(['elsewhere 1', 'elsewhere 2', 'elsewhere 3']));
    const { items } = await list(`?sort=@rowid&filter=${encodeURIComponent("message ~ 'elsewhere'")}`);
    expect(items.map((e) => [e.message, e.data.n])).toEqual([
      ['elsewhere 1', 0],
      ['elsewhere 2', 1],
      ['elsewhere 3', 2],
    ]);
  });

  it('drops a raw batch of an unknown packing instead of misreading it', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: su });
    await sqlOf.insertRaw(LOG_BATCH_FORMAT + 98, 2, batchOf(['future 1', 'future 2']));
    const res = await list();
    expect(res.items.map((e) => e.message)).not.toContain('future 1');
    expect(await sqlOf.count(LOGS_RAW_TABLE)).toBe(0);
  });

  it('DELETE /api/logs removes raw batches too', async () => {
    await sqlOf.insertRaw(LOG_BATCH_FORMAT, 2, batchOf(['doomed 1', 'doomed 2']));
    expect((await send(t, 'DELETE', '/api/logs', { auth: su })).status).toBe(204);
    expect(await sqlOf.count(LOGS_RAW_TABLE)).toBe(0);
    const { items } = await list(`?filter=${encodeURIComponent("message ~ 'doomed'")}`);
    expect(items).toHaveLength(0);
  });

  it('a backup is made while raw batches wait (their bytes column does not trip the dump)', async () => {
    // What it asserts is only that: the dump leaves `_logsRaw`'s rows out as it leaves `_logs`'s, unchecked here.
    await sqlOf.insertRaw(LOG_BATCH_FORMAT, 1, batchOf(['in a backup?']));
    const res = await send(t, 'POST', '/api/backups', { auth: su, body: { name: 'with_raw_logs.zip' } });
    expect(res.status, res.raw).toBe(204);
  });
});

describe('raw log batches, at the store', () => {
  it('counts the raw entries an earlier run left when it opens, and expands them on the first read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-lograw-'));
    const pgDb = ENGINE === 'postgres' ? await createPgDatabase() : null;
    const open = () => createDatabase(pgDb ? { type: 'postgres', url: pgDb.url, maxConnections: 2 } : { type: 'sqlite', file: join(dir, 'data.db') });
    try {
      // First run: creates the tables, stores nothing.
      let db = await open();
      let store: LogStore = await db.openLogStore!({ now: () => Date.now() } as never, silentLogger);
      await store.close();
      await db.close();

      const sqlOf = await logsSql(dir, pgDb?.url ?? '');
      try {
        await sqlOf.insertRaw(LOG_BATCH_FORMAT, 2, batchOf(['left 1', 'left 2']));
      } finally {
        await sqlOf.close();
      }

      db = await open();
      store = await db.openLogStore!({ now: () => Date.now() } as never, silentLogger);
      try {
        const listed = await store.list({ sort: '@rowid' }, systemCaller());
        expect(listed.items.map((e) => e.message)).toEqual(['left 1', 'left 2']);
        const stats = await store.stats('', systemCaller());
        expect(stats.reduce((n, s) => n + s.total, 0)).toBe(2);
      } finally {
        await store.close();
        await db.close();
      }
    } finally {
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
