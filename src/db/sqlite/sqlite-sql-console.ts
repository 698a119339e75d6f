/**
 * The SQL console on SQLite (core/sql-console). No client statement runs on the main thread:
 * it is prepared there only to learn whether it writes (preparing compiles, never runs), then
 * - a read runs in the read pool, on a worker's read-only connection, under the query deadline;
 * - a write (only with the `sqlConsole.allowWrites` setting) takes the writer's lock, as every
 *   Basalt write does, and runs in a worker on that worker's own writable connection in BEGIN
 *   IMMEDIATE, under the same deadline. NB: SQLite cannot interrupt a statement: at the deadline
 *   the request answers 503 and the worker is terminated, but the lock is released only once the
 *   worker has exited (its transaction rolled back) — releasing it earlier would let the main
 *   thread's writer meet SQLite's lock and wait for it on the event loop (busy_timeout).
 */
import { badRequest } from '../../core/errors.js';
import type { SqlConsoleOutput, SqlConsoleRequest, SqlConsoleRunner } from '../../core/sql-console/sql-console-runner.js';
import { assertConsoleStatement, StatementError } from '../single-statement.js';
import { PROTECTED_CODE, READ_ONLY_CODE } from './sqlite-console-statement.js';
import type { SqliteDriver } from './sqlite-driver.js';
import type { SqliteReadPool } from './sqlite-read-pool.js';

/** Pragmas that take an argument only to name what they describe. */
const DESCRIBING_PRAGMAS = new Set([
  'table_info', 'table_xinfo', 'table_list', 'index_list', 'index_info', 'index_xinfo', 'foreign_key_list', 'foreign_key_check', 'integrity_check', 'quick_check',
]);

export const READ_ONLY_MESSAGE = 'The SQL console is read-only: turn on the sqlConsole.allowWrites setting to run statements that write.';

const DDL = new Set(['CREATE', 'ALTER', 'DROP']);

export class SqliteSqlConsole implements SqlConsoleRunner {
  constructor(
    private readonly driver: SqliteDriver,
    private readonly pool: SqliteReadPool | null,
  ) {}

  async run(request: SqlConsoleRequest): Promise<SqlConsoleOutput> {
    const firstWord = checkStatement(request.query);
    // The read workers are what keep client SQL off the main thread: without them (an
    // in-memory database, readWorkers 0) there is no console.
    if (!this.pool) throw badRequest('The SQL console needs the read workers (a database file and at least one read worker).');
    const probe = (this.driver.reader ?? this.driver.writer).prepare(request.query);
    const reads = probe.reader && probe.readonly;
    if (!reads && !request.allowWrites) throw badRequest(READ_ONLY_MESSAGE);
    const task = { sql: request.query, maxRows: request.maxRows, maxBytes: request.maxBytes, protectedTables: this.protectedTables(request) };
    try {
      if (reads) return await this.pool.console({ ...task, write: false });
      const release = await this.driver.writeLock.lock();
      let held = true;
      try {
        return await this.pool.console({ ...task, write: true }, (exited) => {
          held = false;
          void exited.then(release);
        });
      } finally {
        if (held) release();
        // Other tables' shapes may have changed: Basalt's cached statements must be prepared again.
        if (DDL.has(firstWord)) {
          this.driver.clearStatementCache();
          this.pool.clearStatementCache();
        }
      }
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      if (code === READ_ONLY_CODE) throw badRequest(READ_ONLY_MESSAGE);
      if (code === PROTECTED_CODE) throw badRequest(`Failed to execute query: ${(err as Error).message}.`);
      throw err;
    }
  }

  /** The existing tables the request protects, lower-cased (new `_…` names are protected by the worker). */
  private protectedTables(request: SqlConsoleRequest): string[] {
    const names = (this.driver.reader ?? this.driver.writer).prepare('SELECT DISTINCT lower(tbl_name) FROM sqlite_schema').pluck().all() as string[];
    return names.filter((name) => request.isProtectedTable(name));
  }
}

/** One statement, no transaction control, no pragma that sets a value (it would change a pooled connection). */
function checkStatement(query: string): string {
  let firstWord: string;
  try {
    firstWord = assertConsoleStatement(query);
  } catch (err) {
    if (err instanceof StatementError) throw badRequest(`Failed to execute query: ${err.message}.`);
    throw err;
  }
  if (firstWord === 'PRAGMA') {
    const m = /^\s*PRAGMA\s+(?:\w+\s*\.\s*)?(\w+)\s*([=(])?/i.exec(query);
    if (!m || (m[2] && !DESCRIBING_PRAGMAS.has(m[1].toLowerCase()))) {
      throw badRequest('Failed to execute query: the console runs only pragmas that read (no value set; describing pragmas such as table_info(name) may name what they describe).');
    }
  }
  return firstWord;
}
