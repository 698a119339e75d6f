/**
 * `auxiliary.db` written by an earlier version has a unique index on `_logs.id`; opening it drops
 * the index (each insert paid for it) and entries are still found by id, through `created`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/create-database.js';
import { newTimeOrderedId } from '../../src/core/ids.js';
import { formatDate } from '../../src/core/time.js';
import { LogBatchBuilder } from '../../src/core/logs/log-batch.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { silentLogger } from '../../src/core/ports.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('drops the old id index of auxiliary.db and still views entries by id', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-aux-'));
  dirs.push(dir);
  const now = Date.UTC(2026, 11, 4, 10, 0, 0, 123);
  const oldId = newTimeOrderedId(now);
  const old = new Database(join(dir, 'auxiliary.db'));
  old.pragma('journal_mode = WAL');
  old.exec(`CREATE TABLE "_logs" ("id" TEXT DEFAULT '' NOT NULL, "level" NUMERIC DEFAULT 0 NOT NULL, "message" TEXT DEFAULT '' NOT NULL, "data" JSON DEFAULT '{}' NOT NULL, "created" TEXT DEFAULT '' NOT NULL);
    CREATE UNIQUE INDEX "idx_logs_id" ON "_logs" ("id"); CREATE INDEX "idx_logs_created" ON "_logs" ("created"); CREATE INDEX "idx_logs_level" ON "_logs" ("level");`);
  old.prepare('INSERT INTO _logs (id, level, message, data, created) VALUES (?, ?, ?, ?, ?)').run(oldId, 0, 'GET /old', '{"url":"/old"}', formatDate(new Date(now)));
  old.close();

  const db = await createDatabase({ type: 'sqlite', file: join(dir, 'data.db') });
  const store = await db.openLogStore!({ now: () => now } as never, silentLogger);
  try {
    const inspect = new Database(join(dir, 'auxiliary.db'), { readonly: true });
    const indexes = inspect.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '_logs' ORDER BY name").all();
    inspect.close();
    expect(indexes).toEqual([{ name: 'idx_logs_created' }, { name: 'idx_logs_level' }]);
    expect(await store.view(oldId)).toEqual({ id: oldId, level: 0, message: 'GET /old', data: { url: '/old' }, created: formatDate(new Date(now)) });

    const builder = new LogBatchBuilder();
    builder.appendEntry(now + 1, 8, 'GET /new', '{"status":500}');
    await store.insertBatch(builder.seal());
    const listed = await store.list({ filter: "message = 'GET /new'" }, systemCaller());
    expect(listed.items).toHaveLength(1);
    const newId = listed.items[0].id;
    expect(await store.view(newId)).toMatchObject({ id: newId, level: 8, data: { status: 500 } });
    expect(await store.view('zzzzzzzzzzzzzzz')).toBeNull();
    expect(await store.view('short')).toBeNull();
  } finally {
    await store.close();
    await db.close();
  }
});
