/**
 * Columns of `_jobs` added after its first layout, the same DDL on SQLite and PostgreSQL. Each
 * engine's CREATE TABLE has them; a table made by an earlier version gains them at start-up.
 */
import { JOB_TRACE_COLUMN, JOBS_TABLE } from '../core/jobs/job-store.js';
import type { Database } from '../core/ports.js';

/** Nullable without a default: adding it rewrites no row on either engine. */
export const JOB_TRACE_COLUMN_SQL = `"${JOB_TRACE_COLUMN}" TEXT`;

export async function addMissingJobColumns(db: Database): Promise<void> {
  const present = await db.schema.columnNames(JOBS_TABLE);
  if (!present.includes(JOB_TRACE_COLUMN)) await db.query(`ALTER TABLE "${JOBS_TABLE}" ADD COLUMN ${JOB_TRACE_COLUMN_SQL}`, []);
}
