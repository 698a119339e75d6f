/**
 * The stored logs on SQLite: a second database file next to the data file, `auxiliary.db` (as
 * PocketBase names it), with its own writer, reader and one read worker. SQLite has one writer
 * per file: with the logs in the data file, every flush of the log buffer would queue behind (and
 * hold up) record writes; in their own file, the two never wait for each other.
 */
import { dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { LogTable, LOG_COLUMNS } from '../../core/logs/log-table.js';
import { LOGS_TABLE, type LogEntry, type LogStore } from '../../core/logs/log-store.js';
import type { Database } from '../../core/ports.js';
import { parseIndex } from '../../core/collections/index-definition.js';
import { SqliteLogWriter, type LogRow } from './sqlite-log-writer.js';

/** The file name PocketBase gives its logs database. */
export const AUXILIARY_FILE = 'auxiliary.db';

/** `auxiliary.db` in the data file's folder (in memory for an in-memory data database). */
export function auxiliaryFileOf(dataFile: string): string {
  return dataFile === ':memory:' ? ':memory:' : join(dirname(dataFile), AUXILIARY_FILE);
}

/**
 * A batch is one transaction of single-row INSERTs of one cached statement. Measured on the main
 * thread (a busy 2-core machine, 40,000 rows): about half the time of one multi-row VALUES with
 * five parameters a row (binding and parsing dominate; dropping the indexes saved ~5 %), and far
 * less than a JSON array unpacked with json_each (each `->>` parses the element again).
 */
const INSERT_ONE = `INSERT INTO ${LOGS_TABLE} (id, level, message, data, created) VALUES (?, ?, ?, ?, ?)`;

class SqliteLogStore extends LogTable implements LogStore {
  constructor(
    db: Database,
    clock: Clock,
    /** The worker that writes the batches (sqlite-log-writer.ts); null in memory, where only this connection sees the data. */
    private readonly writer: SqliteLogWriter | null,
  ) {
    super(db, clock);
  }

  override async insertMany(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.writer) {
      await this.writer.insert(entries.map((e): LogRow => [e.id, e.level, e.message, JSON.stringify(e.data), e.created]));
      return;
    }
    await this.db.transaction(async (tx) => {
      for (const e of entries) await tx.query(INSERT_ONE, [e.id, e.level, e.message, JSON.stringify(e.data), e.created]);
    });
  }

  async close(): Promise<void> {
    await this.writer?.close();
    await this.db.close();
  }
}

/** Opens `aux` (a Database on the auxiliary file, WAL) and creates `_logs` in it when missing. */
export async function openSqliteLogStore(aux: Database, file: string, clock: Clock): Promise<LogStore> {
  try {
    await aux.transaction(async (tx) => {
      if (await tx.schema.tableExists(LOGS_TABLE)) return;
      // Keyed by rowid: entries are appended in time order, one page write per flush, and
      // `@rowid` is the insertion order; the id gets its own unique index for views.
      await tx.schema.createTable(LOGS_TABLE, LOG_COLUMNS, { rowidKeyed: true });
      await tx.schema.createIndex(parseIndex(`CREATE UNIQUE INDEX idx_logs_id ON ${LOGS_TABLE} (id)`));
      await tx.schema.createIndex(parseIndex(`CREATE INDEX idx_logs_created ON ${LOGS_TABLE} (created)`));
      await tx.schema.createIndex(parseIndex(`CREATE INDEX idx_logs_level ON ${LOGS_TABLE} (level)`));
    });
  } catch (err) {
    await aux.close();
    throw err;
  }
  return new SqliteLogStore(aux, clock, file === ':memory:' ? null : new SqliteLogWriter(file, INSERT_ONE));
}
