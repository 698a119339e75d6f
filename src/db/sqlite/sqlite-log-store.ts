/**
 * The stored logs on SQLite: a second database file next to the data file, `auxiliary.db` (as
 * PocketBase names it), with its own writer, reader and one read worker. SQLite has one writer
 * per file: with the logs in the data file, every flush of the log buffer would queue behind (and
 * hold up) record writes; in their own file, the two never wait for each other.
 */
import { dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { sql } from 'kysely';
import { LogTable, LOG_COLUMNS, toLogEntry } from '../../core/logs/log-table.js';
import { formatDate } from '../../core/time.js';
import { LOGS_RAW_TABLE, LOGS_TABLE, type LogEntry, type LogStore } from '../../core/logs/log-store.js';
import { unpackLogBatch, type LogBatch } from '../../core/logs/log-batch.js';
import type { Database, Logger } from '../../core/ports.js';
import { parseIndex } from '../../core/collections/index-definition.js';
import { DeferredLogWriter } from '../deferred-log-writer.js';
import { LogWorkerClient } from '../log-worker-client.js';
import { workerEntry } from '../worker-entry.js';

/** The `created` text of a log entry with this id, or null for an id no log entry can have. */
function createdOfLogId(id: string): string | null {
  if (!/^[a-z0-9]{15}$/.test(id)) return null;
  const ms = parseInt(id.slice(0, 9), 36);
  return Number.isSafeInteger(ms) && ms < 8.64e15 ? formatDate(new Date(ms)) : null;
}

/** The file name PocketBase gives its logs database. */
export const AUXILIARY_FILE = 'auxiliary.db';

/** `auxiliary.db` in the data file's folder (in memory for an in-memory data database). */
export function auxiliaryFileOf(dataFile: string): string {
  return dataFile === ':memory:' ? ':memory:' : join(dirname(dataFile), AUXILIARY_FILE);
}

/**
 * In memory (no file a worker could open), a batch is one transaction of single-row INSERTs on
 * this connection; on a file, the writer's worker inserts (sqlite-log-worker.ts).
 */
const INSERT_ONE = `INSERT INTO ${LOGS_TABLE} (id, level, message, data, created) VALUES (?, ?, ?, ?, ?)`;

class SqliteLogStore extends LogTable implements LogStore {
  constructor(
    db: Database,
    clock: Clock,
    /** Writes the batches through a worker (sqlite-log-worker.ts); null in memory, where only this connection sees the data. */
    private readonly writer: DeferredLogWriter | null,
  ) {
    super(db, clock, writer ? () => writer.settle() : undefined);
  }

  async insertBatch(batch: LogBatch): Promise<Uint8Array | void> {
    if (batch.count === 0) return;
    if (this.writer) return this.writer.store(batch);
    const entries = unpackLogBatch(batch);
    await this.db.transaction(async (tx) => {
      for (const e of entries) await tx.query(INSERT_ONE, [e.id, e.level, e.message, e.data, e.created]);
    });
    return batch.bytes;
  }

  /**
   * The entry with this id, found through `created`: ids are time-ordered (newTimeOrderedId), so
   * their first 9 characters are the millisecond the entry was created at, which `created` holds.
   */
  override async view(id: string): Promise<LogEntry | null> {
    const created = createdOfLogId(id);
    if (created === null) return null;
    await this.settle();
    const entries = await this.db.rows<{ id: string; level: number; message: string; data: string; created: string }>(
      sql`SELECT id, level, message, data, created FROM ${sql.id(LOGS_TABLE)} WHERE created = ${created} AND id = ${id} LIMIT 1`,
    );
    return entries.length > 0 ? toLogEntry(entries[0]) : null;
  }

  async close(): Promise<void> {
    await this.writer?.close();
    await this.db.close();
  }
}

/** Opens `aux` (a Database on the auxiliary file, WAL) and creates `_logs` in it when missing. */
export async function openSqliteLogStore(aux: Database, file: string, clock: Clock, logger: Logger): Promise<LogStore> {
  let raw = 0;
  try {
    await aux.transaction(async (tx) => {
      // Entries in `format` and `entries`, ahead of the bytes: counting them reads no blob.
      await tx.query(`CREATE TABLE IF NOT EXISTS ${LOGS_RAW_TABLE} (id INTEGER PRIMARY KEY, format INTEGER NOT NULL, entries INTEGER NOT NULL, bytes BLOB NOT NULL)`, []);
      const [left] = await tx.query<{ n: number | null }>(`SELECT SUM(entries) AS n FROM ${LOGS_RAW_TABLE}`, []);
      raw = Number(left?.n ?? 0);
      if (await tx.schema.tableExists(LOGS_TABLE)) {
        // Dropped from the files of earlier versions: ~10 % of each insert, for lookups view() makes through `created`.
        await tx.query('DROP INDEX IF EXISTS idx_logs_id', []);
        return;
      }
      // Keyed by rowid: entries are appended in time order, one page write per flush, and
      // `@rowid` is the insertion order. The id has no index of its own: view() finds an entry
      // through `created`, which its id encodes.
      await tx.schema.createTable(LOGS_TABLE, LOG_COLUMNS, { rowidKeyed: true });
      await tx.schema.createIndex(parseIndex(`CREATE INDEX idx_logs_created ON ${LOGS_TABLE} (created)`));
      await tx.schema.createIndex(parseIndex(`CREATE INDEX idx_logs_level ON ${LOGS_TABLE} (level)`));
    });
  } catch (err) {
    await aux.close();
    throw err;
  }
  if (file === ':memory:') return new SqliteLogStore(aux, clock, null);
  const client = new LogWorkerClient(() => workerEntry(import.meta.url, 'sqlite-log-worker', ['better-sqlite3']), { file });
  return new SqliteLogStore(aux, clock, new DeferredLogWriter(client, logger, raw));
}
