/**
 * The entry of the stored logs' writer thread on SQLite (db/log-worker-client.ts): its own
 * connection to `auxiliary.db`. A batch is kept raw (one row of `_logsRaw`); an expansion formats
 * the oldest raw batches' entries (core/logs/log-batch.ts) and inserts them into `_logs`, removing
 * the raw rows in the same transaction, checkpoints included, off the main thread.
 */
import BetterSqlite3 from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { readLogBatch } from '../../core/logs/log-batch.js';
import { LOG_BATCH_FORMAT, LOGS_RAW_TABLE, LOGS_TABLE } from '../../core/logs/log-store.js';
import { serveLogBatches } from '../log-worker-loop.js';

/**
 * Rows per INSERT: measured in this thread (a batch of 1,000 request entries), 20 rows a
 * statement took ~25 % less time a row than one row a statement (one call into SQLite, one
 * statement step, instead of twenty); more rows a statement gained nothing more.
 */
const ROWS_PER_STATEMENT = 20;

const ROW = '(?, ?, ?, ?, ?)';
const insertSql = (rows: number) => `INSERT INTO ${LOGS_TABLE} (id, level, message, data, created) VALUES ${Array(rows).fill(ROW).join(', ')}`;

const db = new BetterSqlite3((workerData as { file: string }).file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const insertMany = db.prepare(insertSql(ROWS_PER_STATEMENT));
const insertOne = db.prepare(insertSql(1));
const keepRaw = db.prepare(`INSERT INTO ${LOGS_RAW_TABLE} (format, entries, bytes) VALUES (${LOG_BATCH_FORMAT}, ?, ?)`);
const oldestRaw = db.prepare<[], { id: number; format: number; entries: number; bytes: Buffer }>(`SELECT id, format, entries, bytes FROM ${LOGS_RAW_TABLE} ORDER BY id LIMIT 1`);
const removeRaw = db.prepare(`DELETE FROM ${LOGS_RAW_TABLE} WHERE id = ?`);
const rawEntries = db.prepare(`SELECT COALESCE(SUM(entries), 0) FROM ${LOGS_RAW_TABLE}`).pluck();

function insertEntries(bytes: Uint8Array): void {
  const values: (string | number)[] = [];
  readLogBatch(bytes, (e) => {
    values.push(e.id, e.level, e.message, e.data, e.created);
    if (values.length === 5 * ROWS_PER_STATEMENT) {
      insertMany.run(values);
      values.length = 0;
    }
  });
  for (let i = 0; i < values.length; i += 5) insertOne.run(values.slice(i, i + 5));
}

/** Expands whole raw batches, oldest first, until `limit` entries are done or none is left. */
const expandSome = db.transaction((limit: number) => {
  let done = 0;
  while (done < limit) {
    const row = oldestRaw.get();
    if (!row) break;
    // A batch packed by a version that packed differently cannot be read: dropped, not misread.
    if (row.format === LOG_BATCH_FORMAT) insertEntries(row.bytes);
    removeRaw.run(row.id);
    done += row.entries;
  }
});

serveLogBatches({
  store: (bytes, count) => {
    keepRaw.run(count, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  },
  expand: (limit) => {
    expandSome(limit);
    return Number(rawEntries.get());
  },
  close: () => {
    db.close();
  },
});
