import BetterSqlite3 from 'better-sqlite3';

/**
 * Opens one connection with Basalt's pragmas: the writer, the main-thread reader and each read
 * worker's connection (sqlite-read-worker.ts) all go through here, so they read alike.
 */
export function openConnection(file: string, readonly: boolean): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, { readonly: readonly && file !== ':memory:' });
  // WAL lets the reader connections read while the writer writes; NORMAL sync is safe in WAL
  // (a power loss may lose the last commits, never corrupt the file).
  if (!readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = OFF');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -32000');
  return db;
}
