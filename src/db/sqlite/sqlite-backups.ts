/**
 * Backups of a SQLite database through SQLite's online backup API (better-sqlite3's `backup`):
 * - dump: copies from the writer connection, in steps between which writes go on; SQLite keeps
 *   the copy up to date with writes made on that same connection, so the result is the database
 *   as of the last step (consistent, never a torn page or a half transaction);
 * - restore: the backup API the other way, from the checked copy into the live file, through a
 *   connection of its own. SQLite holds the destination's write transaction from the first step
 *   to the last, so the read connections (main thread and workers) see the old database or the
 *   new one, never a mix; their prepared statements are re-prepared on the new schema.
 */
import BetterSqlite3 from 'better-sqlite3';
import type { DatabaseBackups } from '../../core/ports.js';
import type { SqliteDriver } from './sqlite-driver.js';

/** Tables a Basalt database always has: the catalogue, the settings, and one PocketBase lacks. */
const BASALT_TABLES = ['_collections', '_params', '_cronRuns'];

export class SqliteBackups implements DatabaseBackups {
  readonly fileName = 'data.db';

  constructor(
    private readonly driver: SqliteDriver,
    /** The live database file. */
    private readonly file: string,
    /** Forgets every cached statement (main thread and read workers) after the schema changed. */
    private readonly clearStatements: () => void,
  ) {}

  async dump(path: string): Promise<void> {
    await this.driver.writer.backup(path);
  }

  async check(path: string): Promise<string | null> {
    let conn: BetterSqlite3.Database | null = null;
    try {
      conn = new BetterSqlite3(path, { fileMustExist: true });
      if (conn.pragma('quick_check', { simple: true }) !== 'ok') return 'its database file is damaged';
      const tables = new Set(conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
      const missing = BASALT_TABLES.find((t) => !tables.has(t));
      if (missing) return `its database is not Basalt's (no ${missing} table)`;
      const pageSize = conn.pragma('page_size', { simple: true });
      const livePageSize = this.driver.writer.pragma('page_size', { simple: true });
      // SQLite cannot back up into a WAL database of another page size.
      if (pageSize !== livePageSize) return `its database has pages of ${String(pageSize)} bytes, and this one of ${String(livePageSize)} (run VACUUM with page_size = ${String(livePageSize)} on it first)`;
      return null;
    } catch (err) {
      return `its database file is not a SQLite database (${(err as Error).message})`;
    } finally {
      conn?.close();
    }
  }

  async restore(path: string): Promise<void> {
    // No write of this process may start in between: the backup's connection would wait for it.
    const release = await this.driver.writeLock.lock();
    const source = new BetterSqlite3(path, { fileMustExist: true });
    try {
      await source.backup(this.file);
    } finally {
      source.close();
      this.clearStatements();
      release();
    }
  }
}
