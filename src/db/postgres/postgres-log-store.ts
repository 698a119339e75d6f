/**
 * The stored logs on PostgreSQL: a `_logs` table in the data database. PostgreSQL has no single
 * writer to contend for (a flush is one multi-row INSERT on a pooled connection, touching no row
 * of the data), and keeping the logs in the same database lets every node of a cluster write and
 * read the same logs, which a per-node SQLite file could not.
 */
import { sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { LogTable, LOG_COLUMNS } from '../../core/logs/log-table.js';
import { LOGS_TABLE, type LogStore } from '../../core/logs/log-store.js';
import { unpackLogBatch, type LogBatch } from '../../core/logs/log-batch.js';
import type { Database } from '../../core/ports.js';
import { quoteIdent } from '../column-kinds.js';
import { postgresColumnSql, ROWID_COLUMN } from './postgres-schema.js';

/**
 * One statement text for every batch size: the entries travel as five arrays. Batches are cut by
 * bytes as well as by count (log-batch.ts), so a VALUES list per row count would compile (and
 * prepare) a new text for most flushes.
 */
const INSERT_BATCH = `INSERT INTO ${quoteIdent(LOGS_TABLE)} ("id", "level", "message", "data", "created") SELECT * FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::text[])`;

class PostgresLogStore extends LogTable implements LogStore {
  async insertBatch(batch: LogBatch): Promise<void> {
    const entries = unpackLogBatch(batch);
    if (entries.length === 0) return;
    const columns: [string[], number[], string[], string[], string[]] = [[], [], [], [], []];
    for (const e of entries) {
      columns[0].push(e.id);
      columns[1].push(e.level);
      // PostgreSQL text cannot hold NUL (JSON text escapes it; a logged message may carry one).
      columns[2].push(e.message.includes('\0') ? e.message.replaceAll('\0', '\uFFFD') : e.message);
      columns[3].push(e.data);
      columns[4].push(e.created);
    }
    await this.db.query(INSERT_BATCH, columns);
  }

  async close(): Promise<void> {
    // The data database: closed by its owner.
  }
}

/** Creates `_logs` when missing (IF NOT EXISTS, under the schema lock: nodes may start together). */
export async function openPostgresLogStore(db: Database, clock: Clock): Promise<LogStore> {
  const t = quoteIdent(LOGS_TABLE);
  const columns = [...LOG_COLUMNS.map(postgresColumnSql), `${quoteIdent(ROWID_COLUMN)} BIGINT GENERATED ALWAYS AS IDENTITY`].join(', ');
  await db.transaction(async (tx) => {
    await tx.lockSchema();
    await tx.rows(sql.raw(`CREATE TABLE IF NOT EXISTS ${t} (${columns})`));
    await tx.rows(sql.raw(`CREATE INDEX IF NOT EXISTS "idx_logs_created" ON ${t} ("created")`));
    await tx.rows(sql.raw(`CREATE INDEX IF NOT EXISTS "idx_logs_level" ON ${t} ("level")`));
    await tx.rows(sql.raw(`CREATE INDEX IF NOT EXISTS "idx_logs_rowid" ON ${t} (${quoteIdent(ROWID_COLUMN)})`));
  });
  return new PostgresLogStore(db, clock);
}
