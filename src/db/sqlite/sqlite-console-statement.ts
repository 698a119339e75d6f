/**
 * Runs one SQL console statement on a connection of a read worker (sqlite-read-worker.ts):
 * every value as text, at most `maxRows` rows and about `maxBytes` of values. A write runs in
 * BEGIN IMMEDIATE on the worker's own writable connection and is rolled back when it changed
 * the definition of a protected table (a collection's or Basalt's own: their cached models
 * would go stale).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { ConsoleRows, ConsoleTask } from './sqlite-read-pool.js';

/** An error the main thread turns into a 400 (sqlite-sql-console.ts). */
export const READ_ONLY_CODE = 'BASALT_CONSOLE_READ_ONLY';
export const PROTECTED_CODE = 'BASALT_CONSOLE_PROTECTED';

function coded(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * PocketBase scans every value into a string: integers keep all their digits (safeIntegers),
 * and a BLOB becomes its bytes read as UTF-8 (invalid sequences as U+FFFD, as Go's JSON does).
 */
function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  return String(value);
}

function execute(conn: BetterSqlite3.Database, task: ConsoleTask): ConsoleRows {
  const stmt = conn.prepare(task.sql);
  // NB: ATTACH, BEGIN and pragmas that set a value are "read-only" to SQLite yet change the
  // connection: only statements that return rows run on a read-only connection.
  if (!task.write && (!stmt.reader || !stmt.readonly)) throw coded('not a read-only statement', READ_ONLY_CODE);
  const out: ConsoleRows = { columns: [], rows: [], affectedRows: 0, truncated: false };
  if (stmt.reader) {
    out.columns = stmt.columns().map((c) => ({ name: c.name, type: (c.type ?? '').toUpperCase(), nullable: true }));
    stmt.raw(true).safeIntegers(true);
    let bytes = 0;
    for (const row of stmt.iterate() as Iterable<unknown[]>) {
      if (out.rows.length >= task.maxRows || bytes >= task.maxBytes) {
        out.truncated = true;
        break; // returning from the iterator resets the statement: the rest is never read
      }
      const values = row.map(text);
      for (const v of values) bytes += v === null ? 4 : v.length + 2;
      out.rows.push(values);
    }
    // A write with RETURNING answers a row per row it changed (as far as they were read).
    if (task.write) out.affectedRows = out.rows.length;
  } else {
    // The statement's own rows: the change counters' trigger updates (SchemaManager.ensureChangeCounter) are not the user's.
    // (Only writes get here: a read-only task must return rows, checked above.)
    out.affectedRows = stmt.run().changes;
  }
  return out;
}

/** Each table's schema entries (its own SQL, its indexes' and triggers'), by lower-cased name. */
function schemaOf(conn: BetterSqlite3.Database): Map<string, string> {
  const rows = conn.prepare("SELECT lower(tbl_name) AS t, group_concat(type || ':' || name || ':' || coalesce(sql, ''), char(10)) AS d FROM (SELECT * FROM sqlite_schema ORDER BY type, name) GROUP BY lower(tbl_name)").all() as { t: string; d: string }[];
  return new Map(rows.map((r) => [r.t, r.d]));
}

function isProtected(name: string, task: ConsoleTask): boolean {
  return name.startsWith('_') || name.startsWith('sqlite_') || task.protectedTables.includes(name);
}

export function runConsoleRead(conn: BetterSqlite3.Database, task: ConsoleTask): ConsoleRows {
  return execute(conn, task);
}

export function runConsoleWrite(conn: BetterSqlite3.Database, task: ConsoleTask): ConsoleRows {
  conn.exec('BEGIN IMMEDIATE');
  try {
    const before = schemaOf(conn);
    const out = execute(conn, task);
    const after = schemaOf(conn);
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(name) !== after.get(name) && isProtected(name, task)) {
        throw coded(`the statement changes the definition of "${name}", a collection's or Basalt's own table: change collections through the collections API`, PROTECTED_CODE);
      }
    }
    conn.exec('COMMIT');
    return out;
  } catch (err) {
    if (conn.inTransaction) conn.exec('ROLLBACK');
    throw err;
  }
}
