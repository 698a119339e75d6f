/**
 * Background WAL checkpoints (db/sqlite/sqlite-checkpointer.ts): under a steady stream of write
 * transactions the WAL keeps starting over (it stays near its working size instead of growing to
 * the safety net), and nothing written is lost.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/db/sqlite/sqlite-database.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-ckpt-'));
  dirs.push(dir);
  return join(dir, 'data.db');
}

/** Writes `count` one-row transactions of ~1 KiB each (a page apiece, and a WAL frame or two). */
async function writeRows(db: ReturnType<typeof openSqlite>, from: number, count: number): Promise<void> {
  const filler = 'x'.repeat(1000);
  for (let i = from; i < from + count; i++) {
    await db.transaction(async (tx) => {
      await tx.rows(sql`INSERT INTO t (n, body) VALUES (${i}, ${filler})`);
    });
    // Let the worker's replies in between, as a server's event loop would.
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
}

const walSize = (file: string) => {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
};

describe('SQLite background checkpoints', () => {
  it('keep the WAL starting over under steady writes, and lose nothing', async () => {
    const file = tempFile();
    const db = openSqlite({ file, readWorkers: 0 });
    await db.transaction(async (tx) => {
      await tx.rows(sql`CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT)`);
    });
    // 20,000 transactions × ≥ 1 frame: with no restart the WAL would reach the 10,000-frame
    // safety net (10,000 × 4,120 bytes ≈ 41.2 MB, measured with the tail step removed);
    // restarting, it stays at the size of a few passes (4–8 MB on a quiet machine, up to 34 MB
    // seen in CI while the PostgreSQL suite's other files shared the two cores).
    await writeRows(db, 0, 20_000);
    expect(walSize(file)).toBeLessThan(38 * 1024 * 1024);
    await db.close();

    const check = new BetterSqlite3(file, { readonly: true });
    expect(check.prepare('SELECT COUNT(*) AS n, SUM(n) AS s FROM t').get()).toEqual({ n: 20_000, s: (19_999 * 20_000) / 2 });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  }, 60_000);

  it('can be turned off: SQLite checkpoints on commit as it does by default', async () => {
    const file = tempFile();
    const db = openSqlite({ file, readWorkers: 0, backgroundCheckpoints: false });
    await db.transaction(async (tx) => {
      await tx.rows(sql`CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT)`);
    });
    await writeRows(db, 0, 3000);
    // SQLite's own automatic checkpoint at 1,000 frames keeps it about that size.
    expect(walSize(file)).toBeLessThan(8 * 1024 * 1024);
    await db.close();
  }, 60_000);

  it('neither end a script early while a write waits behind them nor keep it alive after close', async () => {
    const child = fileURLToPath(new URL('../harness/sqlite-writes-child.ts', import.meta.url));
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', child, tempFile()], { timeout: 60_000 }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: stdout }));
    });
    expect(result).toEqual({ code: 0, out: 'done\n' });
  }, 70_000);
});
