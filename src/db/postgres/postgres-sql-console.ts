/**
 * The SQL console on PostgreSQL (core/sql-console): the statement runs on a connection of its
 * own, in a `READ ONLY` transaction unless the `sqlConsole.allowWrites` setting is on, with
 * `statement_timeout` at the query deadline. Rows are fetched through a portal a page at a time
 * and the fetch stops at the row cap or the byte cap, so a `SELECT * FROM big` is never read
 * whole. Every value comes back as PostgreSQL's text (PocketBase's strings; int8 and numeric
 * keep all their digits, bytea is `\x…` hex).
 *
 * NB: the connection is closed afterwards, never returned to the pool: a `SET` or `set_config`
 * in the statement must not outlive it (a read-only transaction is rolled back, which undoes
 * them, but a committed write would keep them).
 */
import pg from 'pg';
import { badRequest } from '../../core/errors.js';
import type { SqlConsoleColumn, SqlConsoleOutput, SqlConsoleRequest, SqlConsoleRunner } from '../../core/sql-console/sql-console-runner.js';
import { assertConsoleStatement, StatementError } from '../single-statement.js';

const READ_ONLY_MESSAGE = 'The SQL console is read-only: turn on the sqlConsole.allowWrites setting to run statements that write.';
/** Rows asked for per Execute: the byte cap is checked between pages. */
const PAGE_ROWS = 100;
/** Every type as its text. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/** A Query that stops fetching once it has enough rows or bytes, instead of reading every page. */
class CappedQuery extends pg.Query {
  truncated = false;
  private counted = 0;
  private bytes = 0;

  constructor(
    text: string,
    private readonly maxRows: number,
    private readonly maxBytes: number,
    callback: (err: Error | null, result: pg.QueryArrayResult) => void,
  ) {
    super({ text, rowMode: 'array', types: TEXT_TYPES, rows: Math.min(PAGE_ROWS, maxRows), callback } as unknown as pg.QueryConfig);
  }

  private synced = false;

  /**
   * With `rows` set, pg sends no Sync after Execute: after an error the server ignores every
   * message until one comes, so the connection would hang (pg-cursor syncs here too).
   */
  handleError(err: Error, connection: { sync(): void }): void {
    if (!this.synced) connection.sync();
    this.synced = true;
    (pg.Query.prototype as unknown as { handleError(e: Error, c: unknown): void }).handleError.call(this, err, connection);
  }

  handleCommandComplete(msg: unknown, connection: unknown): void {
    this.synced = true; // pg syncs after a CommandComplete when `rows` is set
    (pg.Query.prototype as unknown as { handleCommandComplete(m: unknown, c: unknown): void }).handleCommandComplete.call(this, msg, connection);
  }

  /** pg calls this when a page ended and the portal has more rows. */
  handlePortalSuspended(connection: { execute(o: object): void; flush(): void; sync(): void }): void {
    const self = this as unknown as { _result: { rows: (string | null)[][] }; portal: string; rows: number };
    const rows = self._result.rows;
    for (; this.counted < rows.length; this.counted++) for (const v of rows[this.counted]) this.bytes += v === null ? 4 : v.length + 2;
    if (rows.length >= this.maxRows || this.bytes >= this.maxBytes) {
      this.truncated = true;
      this.synced = true;
      connection.sync(); // ends the extended-protocol exchange; the portal closes with the transaction
      return;
    }
    connection.execute({ portal: self.portal, rows: self.rows });
    connection.flush();
  }
}

function capped(client: pg.PoolClient, text: string, maxRows: number, maxBytes: number): Promise<{ result: pg.QueryArrayResult; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const query: CappedQuery = new CappedQuery(text, maxRows, maxBytes, (err, result) => (err ? reject(err) : resolve({ result, truncated: query.truncated })));
    void client.query(query as unknown as pg.QueryConfig);
  });
}

/**
 * Each table, view and function of the schema with a digest of its definition (columns,
 * defaults, constraints, indexes, triggers, view query): compared before and after a write.
 */
const FINGERPRINT_SQL = `
SELECT lower(c.relname) AS name, md5(concat_ws('|', c.relkind,
  (SELECT string_agg(a.attname || ':' || a.atttypid || ':' || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ',' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY 1) FROM pg_index i WHERE i.indrelid = c.oid),
  (SELECT string_agg(t.tgname || pg_get_triggerdef(t.oid), ',' ORDER BY 1) FROM pg_trigger t WHERE t.tgrelid = c.oid),
  (SELECT string_agg(k.conname || pg_get_constraintdef(k.oid), ',' ORDER BY 1) FROM pg_constraint k WHERE k.conrelid = c.oid),
  (SELECT string_agg(r.rulename, ',' ORDER BY 1) FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN'),
  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END)) AS digest
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p')`;

async function fingerprint(client: pg.PoolClient): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; digest: string }>(FINGERPRINT_SQL);
  return new Map(rows.map((r) => [r.name, r.digest]));
}

/** The first protected table (or existing function: Basalt's SQL functions) whose definition changed. */
function changedProtected(before: Map<string, string>, after: Map<string, string>, request: SqlConsoleRequest): string | null {
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(name) === after.get(name)) continue;
    if (name.startsWith('function ') ? before.has(name) : request.isProtectedTable(name)) return name;
  }
  return null;
}

/** PocketBase's column info: the type's name (INT4, TEXT…) and whether the source column allows NULL. */
async function describe(client: pg.PoolClient, fields: pg.FieldDef[]): Promise<SqlConsoleColumn[]> {
  if (fields.length === 0) return [];
  const { rows } = await client.query<{ type: string | null; nullable: boolean }>(
    `SELECT upper(t.typname) AS type, coalesce(NOT a.attnotnull, true) AS nullable
       FROM unnest($1::oid[], $2::oid[], $3::int[]) WITH ORDINALITY AS f(typ, rel, col, i)
       LEFT JOIN pg_type t ON t.oid = f.typ
       LEFT JOIN pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.col AND f.col > 0
      ORDER BY f.i`,
    [fields.map((f) => f.dataTypeID), fields.map((f) => f.tableID), fields.map((f) => f.columnID)],
  );
  return fields.map((f, i) => ({ name: f.name, type: rows[i]?.type ?? '', nullable: rows[i]?.nullable ?? true }));
}

const WRITE_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

export class PostgresSqlConsole implements SqlConsoleRunner {
  constructor(
    private readonly connect: () => Promise<pg.PoolClient>,
    private readonly timeoutMs: number,
  ) {}

  async run(request: SqlConsoleRequest): Promise<SqlConsoleOutput> {
    try {
      assertConsoleStatement(request.query);
    } catch (err) {
      if (err instanceof StatementError) throw badRequest(`Failed to execute query: ${err.message}.`);
      throw err;
    }
    const client = await this.connect();
    try {
      await client.query(request.allowWrites ? 'BEGIN' : 'BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(this.timeoutMs))}`);
      const before = request.allowWrites ? await fingerprint(client) : null;
      const { result, truncated } = await capped(client, request.query, request.maxRows, request.maxBytes);
      if (before) {
        const changed = changedProtected(before, await fingerprint(client), request);
        if (changed) throw badRequest(`Failed to execute query: the statement changes the definition of "${changed}", a collection's or Basalt's own: change collections through the collections API.`);
      }
      const columns = await describe(client, result.fields ?? []);
      await client.query(request.allowWrites ? 'COMMIT' : 'ROLLBACK');
      return {
        columns,
        rows: (result.rows as (string | null)[][]).slice(0, request.maxRows),
        affectedRows: request.allowWrites && WRITE_COMMANDS.has(result.command) ? (result.rowCount ?? 0) : 0,
        truncated,
      };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      // 25006 read_only_sql_transaction
      if ((err as { code?: unknown })?.code === '25006') throw badRequest(READ_ONLY_MESSAGE);
      throw err;
    } finally {
      client.release(true);
    }
  }
}
