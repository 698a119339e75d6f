/**
 * A Kysely driver for better-sqlite3 built for a server: one writer connection guarded by a
 * mutex (SQLite has one writer) and one reader connection for everything read-only outside a
 * transaction. In WAL mode the reader sees only committed data, so a request never reads
 * another request's half-done transaction, and reads never wait for a write to finish.
 * Prepared statements are cached per connection: preparing is a measurable share of a
 * primary-key read.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { StatementCache } from './statement-cache.js';

export { StatementCache };

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private locked = false;

  /** Called at each release, before the next holder gets the lock. */
  onRelease: (() => void) | null = null;

  get isLocked(): boolean {
    return this.locked;
  }

  /** Resolves with the release function once every earlier holder has released. */
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => next);
    return previous.then(() => {
      this.locked = true;
      return () => {
        this.locked = false;
        this.onRelease?.();
        release();
      };
    });
  }
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; booleans become 0/1. */
export function bindable(parameters: readonly unknown[]): readonly unknown[] {
  let plain = true;
  for (let i = 0; i < parameters.length && plain; i++) {
    const p = parameters[i];
    plain = p !== true && p !== false && p !== undefined;
  }
  if (plain) return parameters;
  const out = new Array(parameters.length);
  for (let i = 0; i < parameters.length; i++) {
    const p = parameters[i];
    out[i] = p === true ? 1 : p === false ? 0 : p === undefined ? null : p;
  }
  return out;
}

function run(cache: StatementCache, query: CompiledQuery): QueryResult<any> {
  const stmt = cache.get(query.sql);
  const params = bindable(query.parameters);
  if (stmt.reader) return { rows: stmt.all(params) as any[] };
  const { changes, lastInsertRowid } = stmt.run(params);
  return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
}

/**
 * Runs `sql` on the writer, for code that holds the write lock inside a transaction: the rows a
 * statement returns (none for a plain write).
 */
export function runOnWriter(driver: SqliteDriver, sql: string, params: readonly unknown[]): unknown[] {
  const stmt = driver.writerStatements.get(sql);
  const bound = bindable(params);
  if (stmt.reader) return stmt.all(bound);
  stmt.run(bound);
  return [];
}

class SqliteConnection implements DatabaseConnection {
  inTransaction = false;
  private release: (() => void) | null = null;

  constructor(private readonly driver: SqliteDriver) {}

  async begin(): Promise<void> {
    this.release = await this.driver.writeLock.lock();
    try {
      this.driver.writerStatements.get('BEGIN IMMEDIATE').run();
      this.inTransaction = true;
    } catch (err) {
      this.end();
      throw err;
    }
  }

  finish(command: 'COMMIT' | 'ROLLBACK'): void {
    try {
      if (this.driver.writer.inTransaction) this.driver.writerStatements.get(command).run();
    } finally {
      this.inTransaction = false;
      this.end();
    }
  }

  private end(): void {
    const release = this.release;
    this.release = null;
    release?.();
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction) return run(this.driver.writerStatements, query);
    const stmt = this.driver.readerStatements ? this.driver.readerStatements.get(query.sql) : null;
    if (stmt && stmt.readonly) return run(this.driver.readerStatements!, query);
    const release = await this.driver.writeLock.lock();
    try {
      return run(this.driver.writerStatements, query);
    } finally {
      release();
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery(): AsyncIterableIterator<QueryResult<any>> {
    throw new Error('streaming is not supported by the SQLite driver');
  }
}

export interface SqliteDriverConfig {
  writer: BetterSqlite3.Database;
  /** A second connection to the same file for reads; omit for in-memory databases. */
  reader?: BetterSqlite3.Database;
}

export class SqliteDriver implements Driver {
  readonly writer: BetterSqlite3.Database;
  readonly reader: BetterSqlite3.Database | null;
  readonly writerStatements: StatementCache;
  readonly readerStatements: StatementCache | null;
  readonly writeLock = new Mutex();

  constructor(config: SqliteDriverConfig) {
    this.writer = config.writer;
    this.reader = config.reader ?? null;
    this.writerStatements = new StatementCache(this.writer);
    this.readerStatements = this.reader ? new StatementCache(this.reader) : null;
  }

  async init(): Promise<void> {}

  /** The reader's cached statement for `sql` when it is read-only (else null: it must go to the writer). */
  readStatement(sql: string): BetterSqlite3.Statement | null {
    if (!this.readerStatements) return null;
    const stmt = this.readerStatements.get(sql);
    return stmt.readonly && stmt.reader ? stmt : null;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new SqliteConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as SqliteConnection).begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as SqliteConnection).finish('COMMIT');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as SqliteConnection).finish('ROLLBACK');
  }

  async releaseConnection(): Promise<void> {}

  /** After DDL: cached statements of the reader may describe old table shapes. */
  clearStatementCache(): void {
    this.writerStatements.clear();
    this.readerStatements?.clear();
  }

  async destroy(): Promise<void> {
    // Wait for a transaction in flight, then close both connections.
    const release = await this.writeLock.lock();
    try {
      this.reader?.close();
      this.writer.close();
    } finally {
      release();
    }
  }
}

/**
 * The writer connection for code that already holds the write lock inside `BEGIN IMMEDIATE`
 * (SqliteDatabase.transaction): statements run directly, with no lock and no transaction
 * bookkeeping of the query builder in between.
 */
class LockedWriterDriver implements Driver {
  private readonly connection: DatabaseConnection;

  constructor(driver: SqliteDriver) {
    this.connection = {
      executeQuery: async (query) => run(driver.writerStatements, query),
      // eslint-disable-next-line require-yield
      streamQuery: async function* () {
        throw new Error('streaming is not supported by the SQLite driver');
      },
    };
  }

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }
  async beginTransaction(): Promise<void> {
    throw new Error('already in a transaction');
  }
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

export class BasaltSqliteDialect implements Dialect {
  constructor(private readonly driver: Driver) {}

  /** The dialect for statements run inside a transaction that holds the write lock. */
  static lockedWriter(driver: SqliteDriver): BasaltSqliteDialect {
    return new BasaltSqliteDialect(new LockedWriterDriver(driver));
  }

  createDriver(): Driver {
    return this.driver;
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  createAdapter() {
    return new SqliteAdapter();
  }
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}
