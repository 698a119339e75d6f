/**
 * The entry of the stored logs' writer thread on SQLite (db/log-worker-client.ts): its own connection to
 * `auxiliary.db`; each message is a batch (core/logs/log-batch.ts), formatted here and inserted
 * in one transaction, checkpoints included, off the main thread.
 */
import BetterSqlite3 from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { readLogBatch } from '../../core/logs/log-batch.js';
import { LOGS_TABLE } from '../../core/logs/log-store.js';
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

const insertAll = db.transaction((bytes: Uint8Array) => {
  const values: (string | number)[] = [];
  readLogBatch(bytes, (e) => {
    values.push(e.id, e.level, e.message, e.data, e.created);
    if (values.length === 5 * ROWS_PER_STATEMENT) {
      insertMany.run(values);
      values.length = 0;
    }
  });
  for (let i = 0; i < values.length; i += 5) insertOne.run(values.slice(i, i + 5));
});

serveLogBatches(
  (bytes) => insertAll(bytes),
  () => {
    db.close();
  },
);
