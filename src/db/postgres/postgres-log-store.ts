/**
 * The stored logs on PostgreSQL: a `_logs` table in the data database. PostgreSQL has no single
 * writer to contend for (a flush is one COPY, from a worker thread on a connection of its own,
 * touching no row of the data), and keeping the logs in the same database lets every node of a cluster write and
 * read the same logs, which a per-node SQLite file could not.
 */
import { sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { LogTable, LOG_COLUMNS } from '../../core/logs/log-table.js';
import { LOGS_RAW_TABLE, LOGS_TABLE, type LogStore } from '../../core/logs/log-store.js';
import type { LogBatch } from '../../core/logs/log-batch.js';
import type { Database, Logger } from '../../core/ports.js';
import { quoteIdent } from '../column-kinds.js';
import { postgresColumnSql, ROWID_COLUMN } from './postgres-schema.js';
import { DeferredLogWriter } from '../deferred-log-writer.js';
import { LogWorkerClient } from '../log-worker-client.js';
import { workerEntry } from '../worker-entry.js';

class PostgresLogStore extends LogTable implements LogStore {
  constructor(
    db: Database,
    clock: Clock,
    /** Writes the batches through a worker (postgres-log-worker.ts) on a connection of its own; any node expands any node's raw batches. */
    private readonly writer: DeferredLogWriter,
  ) {
    super(db, clock, () => writer.settle());
  }

  async insertBatch(batch: LogBatch): Promise<Uint8Array | void> {
    if (batch.count === 0) return;
    return this.writer.store(batch);
  }

  async close(): Promise<void> {
    // The data database is closed by its owner; the writer's connection is the store's own.
    await this.writer.close();
  }
}

/** Creates `_logs` when missing (IF NOT EXISTS, under the schema lock: nodes may start together). */
export async function openPostgresLogStore(db: Database, url: string, clock: Clock, logger: Logger): Promise<LogStore> {
  const t = quoteIdent(LOGS_TABLE);
  const raw = quoteIdent(LOGS_RAW_TABLE);
  let rawEntries = 0;
  const columns = [...LOG_COLUMNS.map(postgresColumnSql), `${quoteIdent(ROWID_COLUMN)} BIGINT GENERATED ALWAYS AS IDENTITY`].join(', ');
  await db.transaction(async (tx) => {
    await tx.lockSchema();
    await tx.rows(sql.raw(`CREATE TABLE IF NOT EXISTS ${t} (${columns})`));
    await tx.rows(sql.raw(`CREATE INDEX IF NOT EXISTS "idx_logs_created" ON ${t} ("created")`));
    await tx.rows(sql.raw(`CREATE INDEX IF NOT EXISTS "idx_logs_level" ON ${t} ("level")`));
    await tx.rows(sql.raw(`CREATE INDEX IF NOT EXISTS "idx_logs_rowid" ON ${t} (${quoteIdent(ROWID_COLUMN)})`));
    // Stored as they come (no compression: packed text compresses, but at a CPU cost the raw
    // batches exist to avoid), the counts ahead of the bytes.
    const [found] = await tx.rows<{ oid: string | null }>(sql`SELECT to_regclass(${raw})::text AS oid`);
    if (!found?.oid) {
      await tx.rows(sql.raw(`CREATE TABLE ${raw} ("id" BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "format" INTEGER NOT NULL, "entries" INTEGER NOT NULL, "bytes" BYTEA NOT NULL)`));
      await tx.rows(sql.raw(`ALTER TABLE ${raw} ALTER COLUMN "bytes" SET STORAGE EXTERNAL`));
    }
    const [left] = await tx.rows<{ n: string | null }>(sql.raw(`SELECT SUM("entries") AS n FROM ${raw}`));
    rawEntries = Number(left?.n ?? 0);
  });
  const client = new LogWorkerClient(() => workerEntry(import.meta.url, 'postgres-log-worker', ['pg', 'pg-copy-streams']), { url });
  return new PostgresLogStore(db, clock, new DeferredLogWriter(client, logger, rawEntries));
}
