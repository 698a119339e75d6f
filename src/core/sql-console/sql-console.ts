/**
 * `POST /api/sql`, PocketBase 0.39's SQL console (apis/sql.go): a superuser runs one statement
 * and gets `{execTime, affectedRows, columns, rows}` back, every value as text. Basalt's
 * differences, all for bounds: one statement only; read-only unless the `sqlConsole.allowWrites`
 * setting is on; the query deadline (Config.queryTimeoutMs) instead of PocketBase's 3 minutes;
 * at most 1,000 rows (as PocketBase) and 8 MiB of values; DDL that would change a collection's
 * or Basalt's own table is refused, so the cached collection models never go stale.
 */
import { ApiError, badRequest, fieldError, MESSAGES } from '../errors.js';
import type { Database, Logger } from '../ports.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { SqlConsoleColumn } from './sql-console-runner.js';

/** PocketBase's limit on the query's length. */
export const SQL_CONSOLE_MAX_QUERY = 5000;
/** PocketBase's `runSQLMaxRows`. */
export const SQL_CONSOLE_MAX_ROWS = 1000;
/** Bytes of values in one answer; the row that crosses it is the last one. */
export const SQL_CONSOLE_MAX_BYTES = 8 << 20;
/** Characters of the query kept in the log line. */
const LOGGED_QUERY_CHARS = 500;

export interface SqlConsoleResult {
  execTime: number;
  affectedRows: number;
  columns: SqlConsoleColumn[];
  rows: (string | null)[][];
}

export interface SqlConsoleDeps {
  db: Database;
  settings: SettingsService;
  logger: Logger;
  /** Names of the collections' tables, current at each call. */
  collectionTables(): Iterable<string>;
  now(): number;
}

/** Reads `{query}` the way PocketBase's form does: required, a string, at most 5000 characters. */
function queryOf(body: unknown): string {
  const raw = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).query : undefined;
  if (raw !== undefined && raw !== null && typeof raw !== 'string') {
    throw badRequest(MESSAGES.validationFailed, { query: fieldError('validation_invalid_type', 'Must be a string.') });
  }
  const query = (raw ?? '').trim();
  if (query === '') throw badRequest(MESSAGES.validationFailed, { query: fieldError('validation_required', 'Cannot be blank.') });
  if ((raw as string).length > SQL_CONSOLE_MAX_QUERY) {
    throw badRequest(MESSAGES.validationFailed, {
      query: fieldError('validation_length_out_of_range', `The length must be between 0 and ${SQL_CONSOLE_MAX_QUERY}.`, { min: 0, max: SQL_CONSOLE_MAX_QUERY }),
    });
  }
  return query;
}

/**
 * The query as it is logged: string literals (and PostgreSQL dollar-quoted text) replaced by
 * `'…'` — a password or token typed into the console must not end up in the logs — and cut
 * to LOGGED_QUERY_CHARS.
 */
export function queryForLog(query: string): string {
  const masked = query.replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, "'…'").replace(/'(?:[^']|'')*'?/g, "'…'");
  return masked.length > LOGGED_QUERY_CHARS ? `${masked.slice(0, LOGGED_QUERY_CHARS)}…` : masked;
}

export class SqlConsole {
  constructor(private readonly deps: SqlConsoleDeps) {}

  async run(body: unknown, superuserId: string): Promise<SqlConsoleResult> {
    const query = queryOf(body);
    const allowWrites = this.deps.settings.get().sqlConsole.allowWrites;
    this.deps.logger.info({ superuserId, allowWrites, query: queryForLog(query) }, 'sql console');
    const protectedTables = new Set<string>();
    for (const name of this.deps.collectionTables()) protectedTables.add(name.toLowerCase());
    const started = this.deps.now();
    try {
      const output = await this.deps.db.console.run({
        query,
        allowWrites,
        maxRows: SQL_CONSOLE_MAX_ROWS,
        maxBytes: SQL_CONSOLE_MAX_BYTES,
        // Basalt's own tables all start with `_` (_collections, _params, _superusers, _jobs…),
        // and the engines' own (sqlite_*, pg_*) are theirs.
        isProtectedTable: (name) => {
          const lower = name.toLowerCase();
          return lower.startsWith('_') || lower.startsWith('sqlite_') || lower.startsWith('pg_') || protectedTables.has(lower);
        },
      });
      return { execTime: Math.round(this.deps.now() - started), affectedRows: output.affectedRows, columns: output.columns, rows: output.rows };
    } catch (err) {
      throw this.failure(err);
    }
  }

  /** PocketBase's answer to a failing statement: 400 with the engine's own message. */
  private failure(err: unknown): unknown {
    if (err instanceof ApiError) return err;
    const failure = this.deps.db.classifyError(err);
    // A deadline or a conflict keeps the 503 it gets everywhere else (http/error-handler.ts).
    if (!failure || failure.kind === 'timeout' || failure.kind === 'conflict') return err;
    return badRequest(`Failed to execute query. Raw error:\n${String((err as Error)?.message ?? err)}`);
  }
}
