import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CompiledQuery, Kysely, type RawBuilder } from 'kysely';
import { DATA_VERSIONS_TABLE } from '../../core/internal-tables.js';
import type { Database, DatabaseBackups, DatabaseStats, DbFailure, Logger, QueryObserver, SchemaManager } from '../../core/ports.js';
import type { FilterDialect } from '../../core/rules/filter-dialect.js';
import { QueryTimeoutError } from '../query-timeout-error.js';
import { isPointRead } from './point-read.js';
import { openConnection } from './sqlite-connection.js';
import { BasaltSqliteDialect, bindable, runOnWriter, SqliteDriver } from './sqlite-driver.js';
import { SqliteReadPool } from './sqlite-read-pool.js';
import { SqliteFilterDialect } from './sqlite-filter-dialect.js';
import { SqliteSchemaManager, type SqlitePreparer } from './sqlite-schema.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import type { JobStore } from '../../core/jobs/job-store.js';
import type { SqlConsoleRunner } from '../../core/sql-console/sql-console-runner.js';
import { SqliteSqlConsole } from './sqlite-sql-console.js';
import type { LogStore } from '../../core/logs/log-store.js';
import type { Clock } from '../../core/clock.js';
import { auxiliaryFileOf, openSqliteLogStore } from './sqlite-log-store.js';
import type { Tracing } from '../../core/tracing/tracing.js';
import { instrumented, type Instruments } from '../instrumented.js';
import { SqliteBackups } from './sqlite-backups.js';

export interface SqliteOptions {
  /** Path of the database file, or ':memory:' (tests only: no separate reader connection). */
  file: string;
  /**
   * Worker threads for reads (sqlite-read-pool.ts); 0 runs every read on the main thread with no
   * deadline (measurements only). @default 2
   */
  readWorkers?: number;
  /** Deadline of a read in a worker, waiting for the worker included (ms). @default 5000 */
  queryTimeoutMs?: number;
  /** WAL checkpoints in a worker thread (sqlite-checkpointer.ts); false: on commit, as SQLite does. @default true */
  backgroundCheckpoints?: boolean;
  /** Told the duration of each transaction and of each statement outside one (the metrics). @default none */
  observe?: QueryObserver;
  /** Spans for each transaction and each read outside one (README "Tracing"); null: none. @default null */
  tracing?: Tracing | null;
}

const filterDialect = new SqliteFilterDialect();

class SqliteDatabase implements Database {
  readonly engine = 'sqlite' as const;
  readonly filter: FilterDialect = filterDialect;
  readonly schema: SchemaManager;
  readonly console: SqlConsoleRunner;

  constructor(
    readonly kysely: Kysely<any>,
    private readonly driver: SqliteDriver,
    readonly inTransaction: boolean,
    private readonly pool: SqliteReadPool | null,
    private readonly checkpointer: SqliteCheckpointer | null = null,
    readonly jobs: JobStore = new SqliteJobStore(driver),
    /** The root database only: a transaction's statements count in its own duration. */
    observe?: QueryObserver,
  ) {
    this.instruments = { observe, tracing: null, system: 'sqlite' };
    const preparer: SqlitePreparer = {
      describe: (select) =>
        driver.writer
          .prepare(select)
          .columns()
          .map((c) => ({ name: c.name, table: c.table, column: c.column, type: c.type })),
    };
    this.console = new SqliteSqlConsole(driver, pool);
    this.schema = new SqliteSchemaManager(kysely, preparer, () => {
      driver.clearStatementCache();
      pool?.clearStatementCache();
    });
  }

  private txDatabase: SqliteDatabase | null = null;
  /** Set on the root database of a file (an in-memory database has no backups). */
  backups?: DatabaseBackups;
  /** How the root database was opened (the logs file goes next to it); null on transactions. */
  opened: SqliteOptions | null = null;
  /** Metrics and spans of this database's calls (db/instrumented.ts). */
  private readonly instruments: Instruments;

  /** Set on the root database when tracing is on; transactions' statements get no span of their own. */
  get tracing(): Tracing | null {
    return this.instruments.tracing;
  }

  set tracing(tracing: Tracing | null) {
    this.instruments.tracing = tracing;
  }

  async openLogStore(clock: Clock, logger: Logger): Promise<LogStore> {
    if (!this.opened) throw new Error('the log store is opened on the root database');
    // One read worker: log lists are rare admin reads. The batches are written by a worker of
    // their own (sqlite-log-worker.ts), whose connection checkpoints on its commits, off the main
    // thread; this connection only reads and, rarely, deletes: no background checkpointer.
    const file = auxiliaryFileOf(this.opened.file);
    const aux = openSqlite({ file, readWorkers: this.opened.readWorkers === 0 ? 0 : 1, queryTimeoutMs: this.opened.queryTimeoutMs, backgroundCheckpoints: false });
    return openSqliteLogStore(aux, file, clock, logger);
  }

  /**
   * One write transaction at a time (SQLite has one writer): take the write lock, BEGIN
   * IMMEDIATE, run `fn` on the locked writer, COMMIT (ROLLBACK if `fn` throws), release.
   */
  async transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    // Waiting for the write lock included: it is what the caller's write costs.
    return instrumented(this.instruments, 'transaction', null, () => this.runTransaction(fn));
  }

  private async runTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    const driver = this.driver;
    this.txDatabase ??= new SqliteDatabase(new Kysely<any>({ dialect: BasaltSqliteDialect.lockedWriter(driver) }), driver, true, this.pool, null, this.jobs);
    const release = await driver.writeLock.lock();
    try {
      driver.writerStatements.get('BEGIN IMMEDIATE').run();
      let result: T;
      try {
        result = await fn(this.txDatabase);
      } catch (err) {
        if (driver.writer.inTransaction) driver.writerStatements.get('ROLLBACK').run();
        throw err;
      }
      try {
        driver.writerStatements.get('COMMIT').run();
      } catch (err) {
        if (driver.writer.inTransaction) driver.writerStatements.get('ROLLBACK').run();
        throw err;
      }
      return result;
    } finally {
      release();
    }
  }

  /**
   * Where a statement runs:
   * - inside a write transaction: on the writer, which holds the lock (no deadline: SQLite
   *   cannot interrupt it, and a worker cannot see the transaction's own writes);
   * - a read outside one: in the read pool, under the query deadline, off the main thread —
   *   every list, count, expand and realtime check with a client filter or a rule comes here;
   * - except a point read (one row by primary key, nothing else in the plan: point-read.ts),
   *   which stays on the main thread's reader: it cannot be slow, and the hand-off would double
   *   the cost of getOne;
   * - anything else (a write outside a transaction) goes through the query builder to the writer.
   * Reads the server builds with the query builder itself (catalogue, settings, auth look-ups
   * by indexed columns) stay on the main reader: they carry no client filter.
   */
  async query<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    return instrumented(this.instruments, () => (this.driver.readStatement(text) ? 'read' : 'write'), text, () => this.run<T>(text, params));
  }

  private async run<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    if (!this.inTransaction) {
      const read = this.driver.readStatement(text);
      if (read) {
        const bound = bindable(params);
        if (!this.pool || isPointRead(this.driver.reader!, read, text, bound)) return read.all(bound) as T[];
        return this.pool.read<T>(text, bound);
      }
    }
    // Inside a transaction this node holds the writer: run the cached statement directly (the
    // query builder's executor adds a few promise turns and allocations to every statement).
    if (this.inTransaction) return runOnWriter(this.driver, text, params) as T[];
    const result = await this.kysely.executeQuery(CompiledQuery.raw(text, [...params]));
    return result.rows as T[];
  }

  async rows<T>(query: RawBuilder<unknown>): Promise<T[]> {
    const compiled = query.compile(this.kysely);
    return this.query<T>(compiled.sql, compiled.parameters);
  }

  readCompiled<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    return this.query<T>(text, params);
  }

  async explain(query: RawBuilder<unknown>): Promise<string> {
    const compiled = query.compile(this.kysely);
    const rows = await this.query<{ id: number; parent: number; detail: string }>(`EXPLAIN QUERY PLAN ${compiled.sql}`, compiled.parameters);
    // Indented by depth, as the sqlite3 shell prints it.
    const depth = new Map<number, number>([[0, 0]]);
    return rows
      .map((r) => {
        const d = (depth.get(r.parent) ?? 0) + 1;
        depth.set(r.id, d);
        return `${'  '.repeat(d - 1)}${r.detail}`;
      })
      .join('\n');
  }

  async versionSpan(key: string): Promise<{ from: number; to: number } | null> {
    const reader = this.driver.reader;
    if (!this.inTransaction || !reader) return null;
    const text = `SELECT "v" FROM "${DATA_VERSIONS_TABLE}" WHERE "id" = ?`;
    // The writer sees this transaction's own bumps; the reader, another connection, what was
    // committed before it (SQLite has one writer: nothing else commits meanwhile).
    const to = runOnWriter(this.driver, text, [key])[0] as { v?: number } | undefined;
    const from = reader.prepare(text).get(key) as { v?: number } | undefined;
    if (typeof to?.v !== 'number' || typeof from?.v !== 'number') return null;
    return { from: from.v, to: to.v };
  }

  async lockSchema(): Promise<void> {
    // BEGIN IMMEDIATE already holds SQLite's single write lock for the whole transaction.
  }

  async lockSchemaShared(): Promise<void> {
    // Schema changes are write transactions too: the write lock already orders them.
  }

  classifyError(err: unknown): DbFailure | null {
    if (err instanceof QueryTimeoutError) return { kind: 'timeout', ms: err.ms };
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e?.code !== 'string' || !e.code.startsWith('SQLITE_')) return null;
    if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      // "UNIQUE constraint failed: posts.slug, posts.lang"
      const list = String(e.message).split(':').slice(1).join(':');
      const refs = list.split(',').map((s) => s.trim()).filter(Boolean);
      const table = refs[0]?.split('.')[0];
      return { kind: 'unique', table, columns: refs.map((r) => r.slice(r.indexOf('.') + 1)) };
    }
    // SQLITE_ERROR is SQLite's "bad statement" (no such column, syntax…); constraints are refusals
    // too. BUSY, IOERR, FULL, CORRUPT… are the server's problem.
    if (e.code === 'SQLITE_ERROR' || e.code.startsWith('SQLITE_CONSTRAINT') || e.code === 'SQLITE_MISMATCH') {
      return { kind: 'refused', message: String(e.message) };
    }
    return { kind: 'other' };
  }

  async optimize(): Promise<void> {
    // On the writer, under its lock: the statement is read-only to better-sqlite3, so the query
    // builder would send it to the read-only connection, where it cannot store statistics.
    const release = await this.driver.writeLock.lock();
    try {
      this.driver.writer.pragma('optimize');
    } finally {
      release();
    }
  }

  stats(): DatabaseStats {
    return this.pool ? { readWorkers: { size: this.pool.workers, busy: this.pool.busy, queued: this.pool.queued } } : {};
  }

  async close(): Promise<void> {
    await this.pool?.close();
    await this.checkpointer?.close();
    await this.kysely.destroy();
  }
}

/** Opens (creating if needed) the SQLite database: a writer and, for files, a reader connection. */
export function openSqlite(options: SqliteOptions): Database {
  const memory = options.file === ':memory:';
  if (!memory) mkdirSync(dirname(options.file), { recursive: true });
  const writer = openConnection(options.file, false);
  const reader = memory ? undefined : openConnection(options.file, true);
  for (const conn of reader ? [writer, reader] : [writer]) filterDialect.registerFunctions(conn);
  const driver = new SqliteDriver({ writer, reader });
  const kysely = new Kysely<any>({ dialect: new BasaltSqliteDialect(driver) });
  const workers = options.readWorkers ?? 2;
  const pool = reader && workers > 0 ? new SqliteReadPool({ file: options.file, size: workers, timeoutMs: options.queryTimeoutMs }) : null;
  let checkpointer: SqliteCheckpointer | null = null;
  if (!memory && options.backgroundCheckpoints !== false) {
    const background = new SqliteCheckpointer(writer, options.file, {
      lockWriter: () => driver.writeLock.lock(),
      onFailure: (message) => process.emitWarning(`background WAL checkpoints stopped (${message}); SQLite checkpoints on commit again`, 'BasaltSqliteWarning'),
    });
    driver.writeLock.onRelease = () => background.writeReleased();
    checkpointer = background;
  }
  const db = new SqliteDatabase(kysely, driver, false, pool, checkpointer, undefined, options.observe);
  db.opened = options;
  if (!memory) {
    db.backups = new SqliteBackups(driver, options.file, () => {
      driver.clearStatementCache();
      pool?.clearStatementCache();
    });
  }
  db.tracing = options.tracing ?? null;
  return db;
}
