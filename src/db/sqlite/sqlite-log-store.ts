/**
 * The stored logs on SQLite: a second database file next to the data file, `auxiliary.db` (as
 * PocketBase names it), with its own writer, reader and one read worker. SQLite has one writer
 * per file: with the logs in the data file, every flush of the log buffer would queue behind (and
 * hold up) record writes; in their own file, the two never wait for each other.
 */
import { dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { LogTable, LOG_COLUMNS } from '../../core/logs/log-table.js';
import { LOGS_TABLE, type LogStore } from '../../core/logs/log-store.js';
import type { Database } from '../../core/ports.js';
import { parseIndex } from '../../core/collections/index-definition.js';

/** The file name PocketBase gives its logs database. */
export const AUXILIARY_FILE = 'auxiliary.db';

/** `auxiliary.db` in the data file's folder (in memory for an in-memory data database). */
export function auxiliaryFileOf(dataFile: string): string {
  return dataFile === ':memory:' ? ':memory:' : join(dirname(dataFile), AUXILIARY_FILE);
}

class SqliteLogStore extends LogTable implements LogStore {
  async close(): Promise<void> {
    await this.db.close();
  }
}

/** Opens `aux` (a Database on the auxiliary file, WAL) and creates `_logs` in it when missing. */
export async function openSqliteLogStore(aux: Database, clock: Clock): Promise<LogStore> {
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
  return new SqliteLogStore(aux, clock);
}
