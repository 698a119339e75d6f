/**
 * Fresh, empty databases for one benchmark run: a temporary directory (the SQLite file, and
 * Basalt's --dir for both engines) and, for PostgreSQL, a new database `basalt_bench_<ts>` on
 * the server of BENCH_PG_URL. Both are removed at the end, whatever happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { onCleanup } from './cleanup.js';
import type { Target } from './dataset.js';

/** Does the maintenance database answer? (Used to skip PostgreSQL when it is not running.) */
export async function isReachable(adminUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function admin(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function tempDir(engine: string): string {
  const dir = mkdtempSync(join(tmpdir(), `basalt-bench-${engine}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  onCleanup(`remove ${dir}`, remove, remove);
  return dir;
}

export async function createTarget(engine: 'sqlite' | 'postgres', adminUrl: string): Promise<Target> {
  const dir = tempDir(engine);
  if (engine === 'sqlite') return { engine, dir };
  const name = `basalt_bench_${Date.now()}`;
  await admin(adminUrl, `CREATE DATABASE "${name}"`);
  onCleanup(`drop database ${name}`, () => admin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const url = new URL(adminUrl);
  url.pathname = '/' + name;
  return { engine, dir, url: url.toString() };
}
