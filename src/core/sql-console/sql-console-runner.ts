/**
 * The port behind `POST /api/sql`: each engine runs one client statement (db/sqlite and
 * db/postgres `*-sql-console.ts`). The HTTP shape and the checks that do not depend on the
 * engine live in sql-console.ts.
 */

/** What the console asks the engine to run. */
export interface SqlConsoleRequest {
  /** One statement, at most SQL_CONSOLE_MAX_QUERY characters (already checked). */
  query: string;
  /** false: the statement runs read-only (a read-only connection or a READ ONLY transaction). */
  allowWrites: boolean;
  /** Rows returned at most; the rest are not read. */
  maxRows: number;
  /** Bytes of values returned at most (the row that crosses it is the last one). */
  maxBytes: number;
  /**
   * Tables whose definition (columns, indexes, triggers…) a statement may not change: the
   * collections and Basalt's own tables, whose cached models would otherwise go stale.
   * Compared case-insensitively.
   */
  isProtectedTable(name: string): boolean;
}

/** A result column: PocketBase's `{name, type, nullable}` (type: the engine's type name, "" when unknown). */
export interface SqlConsoleColumn {
  name: string;
  type: string;
  nullable: boolean;
}

export interface SqlConsoleOutput {
  columns: SqlConsoleColumn[];
  /** Every value as text (PocketBase scans each one into a string), NULL as null. */
  rows: (string | null)[][];
  affectedRows: number;
  /** The statement had more rows than maxRows / maxBytes let through. */
  truncated: boolean;
}

export interface SqlConsoleRunner {
  /**
   * Runs the statement under the query deadline (a QueryTimeoutError, or whatever the engine's
   * classifyError reads as `timeout`, past it). Refusals are ApiErrors (400); driver errors are
   * thrown as they are and reported by the console.
   */
  run(request: SqlConsoleRequest): Promise<SqlConsoleOutput>;
}
