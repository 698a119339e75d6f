/**
 * Backups of a PostgreSQL database: a logical dump of Basalt's schema with `pg_dump` (plain SQL;
 * pg_dump reads in one repeatable-read snapshot, so the copy is consistent while writes go on),
 * restored with `psql` in one transaction that drops the schema and runs the dump: other
 * connections see the old data or the new, never a mix. The stored logs' rows are not dumped.
 *
 * The binaries must be of a version that accepts the server's (pg_dump refuses a newer server).
 * The password goes to them through PGPASSWORD, never on the command line. Without them, Basalt
 * makes and restores its own dump instead (own-dump.ts).
 */
import { spawn } from 'node:child_process';
import { sql, type Kysely } from 'kysely';
import type { DatabaseBackups } from '../../core/ports.js';
import { LOGS_RAW_TABLE, LOGS_TABLE } from '../../core/logs/log-store.js';
import { checkDump, dumpIdent } from './dump-guard.js';
import { checkOwnDump, isOwnDump, mentions, restoreOwnDump, writeOwnDump } from './own-dump.js';
import { TRIGRAM_EXTENSION_SQL } from './postgres-schema.js';
import { isTransactionConflict } from './transaction-conflict.js';

/** How long the restore waits for the locks of other sessions (other nodes' transactions) before it gives up. */
const LOCK_TIMEOUT = '30s';

/**
 * Tries at a restore that PostgreSQL ends as a deadlock's victim (isTransactionConflict). The restore locks every table
 * of the schema as it drops them; a transaction that holds one table and then writes another (the
 * stored logs' writer moving a raw batch into `_logs`, a job's claim, another node's record write)
 * can close a cycle with it. The restore is one transaction, so nothing was changed and trying
 * again is safe; the other transaction is usually done by then.
 */
const RESTORE_ATTEMPTS = 3;

export class PostgresBackups implements DatabaseBackups {
  readonly fileName = 'data.sql';
  private readonly target: { url: string; password: string | null };

  constructor(
    url: string,
    private readonly kysely: Kysely<any>,
  ) {
    const parsed = new URL(url);
    const password = parsed.password ? decodeURIComponent(parsed.password) : null;
    parsed.password = '';
    this.target = { url: parsed.toString(), password };
  }

  private async schemaName(): Promise<string> {
    const { rows } = await sql<{ s: string }>`SELECT current_schema() AS s`.execute(this.kysely);
    if (!rows[0]?.s) throw new Error('no current schema: check the search_path of the database role');
    return rows[0].s;
  }

  async dump(path: string): Promise<void> {
    const schema = await this.schemaName();
    // pg_dump's patterns take quoted names literally.
    const quoted = `"${schema.replace(/"/g, '""')}"`;
    try {
      await this.run('pg_dump', ['--dbname', this.target.url, '--schema', quoted, '--exclude-table-data', `${quoted}."${LOGS_TABLE}"`, '--exclude-table-data', `${quoted}."${LOGS_RAW_TABLE}"`, '--no-owner', '--no-privileges', '--file', path]);
    } catch (err) {
      if (!(err instanceof MissingBinary)) throw err;
      await writeOwnDump(this.kysely, path);
    }
  }

  async check(path: string): Promise<string | null> {
    const schema = await this.schemaName();
    return (await isOwnDump(path)) ? checkOwnDump(path, schema) : checkDump(path, schema);
  }

  async restore(path: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.restoreOnce(path);
      } catch (err) {
        if (attempt >= RESTORE_ATTEMPTS || !isTransactionConflict(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  private async restoreOnce(path: string): Promise<void> {
    if (await isOwnDump(path)) return restoreOwnDump(this.kysely, path, await this.schemaName(), LOCK_TIMEOUT);
    const schema = dumpIdent(await this.schemaName());
    // A searchable field's index needs pg_trgm, which a fresh database lacks (pg_dump of one schema leaves extensions out).
    const extensions = (await mentions(path, 'gin_trgm_ops')) ? ` ${TRIGRAM_EXTENSION_SQL};` : '';
    await this.run('psql', [
      '--no-psqlrc',
      '--quiet',
      '--set', 'ON_ERROR_STOP=1',
      // Errors carry their SQLSTATE (`ERROR:  40P01: deadlock detected`), whatever the server's language.
      '--set', 'VERBOSITY=verbose',
      '--single-transaction',
      '--dbname', this.target.url,
      '--command', `SET lock_timeout = '${LOCK_TIMEOUT}'; DROP SCHEMA IF EXISTS ${schema} CASCADE;${extensions}`,
      '--file', path,
    ]);
  }

  /**
   * Runs a PostgreSQL client binary; rejects with its first lines of stderr (never the password)
   * and, when they name one, the SQLSTATE of the error as `code` (as pg's errors have it).
   */
  private run(command: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const env = this.target.password === null ? process.env : { ...process.env, PGPASSWORD: this.target.password };
      const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'ENOENT' ? new MissingBinary(command) : new Error(`${command} failed to start: ${err.message}`));
      });
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new ClientBinaryError(command, code, stderr));
      });
    });
  }
}

/** A PostgreSQL client binary ended with an error. */
class ClientBinaryError extends Error {
  /** The SQLSTATE of the error it printed (VERBOSITY=verbose), if any. */
  readonly code: string | undefined;

  constructor(command: string, exitCode: number | null, stderr: string) {
    super(`${command} failed (exit ${String(exitCode)}): ${stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
    this.name = 'ClientBinaryError';
    this.code = /\b(?:ERROR|FATAL):\s+([0-9A-Z]{5}):/.exec(stderr)?.[1];
  }
}

/** The PostgreSQL client binary is not on the PATH. */
class MissingBinary extends Error {
  constructor(command: string) {
    super(`${command} is not installed (a pg_dump backup needs the PostgreSQL client binaries on the PATH)`);
    this.name = 'MissingBinary';
  }
}
