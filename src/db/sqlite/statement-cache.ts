/** Prepared statements of one connection, by SQL text (the main thread's reader and writer, each read worker). */
import type BetterSqlite3 from 'better-sqlite3';

const STATEMENT_CACHE_SIZE = 1000;

export class StatementCache {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  constructor(private readonly db: BetterSqlite3.Database) {}

  get(sql: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (stmt) return stmt;
    stmt = this.db.prepare(sql);
    // NB: DDL changes invalidate nothing here: better-sqlite3 re-prepares internally on SQLITE_SCHEMA.
    if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
    this.statements.set(sql, stmt);
    return stmt;
  }

  clear(): void {
    this.statements.clear();
  }
}
