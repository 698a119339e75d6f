/**
 * The queries of the LogStore port over a `_logs` table, engine-neutral (kysely and the filter
 * dialect of the database the table lives in). The engine stores in db/ choose that database and
 * create the table; everything they share is here.
 *
 * The table is seen by the filter compiler as a synthetic collection (like `_jobs`, job-list.ts),
 * so `filter` and `sort` pass the client-query gate with its checks and cost bounds; `data` is a
 * JSON field, so `data.status >= 400` is a JSON path extraction on both engines. The model is a
 * base collection, not a view, so `@rowid` sorts by insertion order (SQLite's rowid, PostgreSQL's
 * identity column) as PocketBase's `_logs` does.
 */
import { sql, type ExpressionBuilder } from 'kysely';
import { makeField } from '../collections/scaffolds.js';
import { internalTableModel } from '../collections/internal-table-model.js';
import { listInternalTable } from '../collections/internal-table-list.js';
import type { Clock } from '../clock.js';
import type { ColumnDefinition, Database } from '../ports.js';
import type { Caller } from '../records/caller.js';
import { checkClientQuery } from '../records/client-query.js';
import type { ListResult } from '../records/record-reader.js';
import { filterPredicate, ROOT, type QueryContext } from '../records/record-query.js';
import { LOGS_RAW_TABLE, LOGS_TABLE, type LogEntry, type LogStatsItem } from './log-store.js';

export const LOGS_MODEL = internalTableModel(
  LOGS_TABLE,
  [makeField('text', 'id'), makeField('number', 'level'), makeField('text', 'message'), makeField('json', 'data'), makeField('date', 'created')],
  { rowid: true },
);

/** The columns of `_logs`, as both engines create them. */
export const LOG_COLUMNS: ColumnDefinition[] = [
  { name: 'id', kind: 'text', nullable: false, default: '', primaryKey: true },
  { name: 'level', kind: 'number', nullable: false, default: 0 },
  { name: 'message', kind: 'text', nullable: false, default: '' },
  { name: 'data', kind: 'json', nullable: false, default: '{}' },
  { name: 'created', kind: 'text', nullable: false, default: '' },
];

const COLUMNS = ['id', 'level', 'message', 'data', 'created'] as const;

/** Rows one delete statement removes at most, so a large backlog never holds a long write lock. */
const DELETE_BATCH = 1000;

export interface LogRow {
  id: string;
  level: number | string;
  message: string;
  data: unknown;
  created: string;
}

/** A `_logs` row as the API shows it (`data` parsed). */
export function toLogEntry(row: LogRow): LogEntry {
  let data: unknown = row.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      data = {};
    }
  }
  return { id: row.id, level: Number(row.level), message: row.message, data: (data ?? {}) as Record<string, unknown>, created: row.created };
}

export class LogTable {
  private readonly ctx: QueryContext;

  constructor(
    protected readonly db: Database,
    clock: Clock,
    /** Makes every entry stored so far readable (log-expansion.ts); awaited before each read. */
    protected readonly settle: () => Promise<void> = async () => {},
  ) {
    this.ctx = { db, clock, schema: { find: (idOrName: string) => (idOrName === LOGS_MODEL.id ? LOGS_MODEL : undefined), all: () => [LOGS_MODEL] } };
  }

  async list(query: Record<string, string | undefined>, caller: Caller): Promise<ListResult<LogEntry>> {
    await this.settle();
    const list = await listInternalTable<LogRow>(this.ctx, LOGS_MODEL, query, caller, { defaultSort: '-created', columns: COLUMNS });
    return { ...list, items: list.items.map(toLogEntry) };
  }

  async view(id: string): Promise<LogEntry | null> {
    await this.settle();
    const columns = sql.join(COLUMNS.map((c) => sql.id(c)));
    const rows = await this.db.rows<LogRow>(sql`SELECT ${columns} FROM ${sql.id(LOGS_TABLE)} WHERE ${sql.id('id')} = ${id} LIMIT 1`);
    return rows.length > 0 ? toLogEntry(rows[0]) : null;
  }

  async stats(filter: string, caller: Caller): Promise<LogStatsItem[]> {
    const checked = checkClientQuery({ filter }, caller);
    await this.settle();
    const where = filterPredicate(this.ctx, LOGS_MODEL, checked, caller) ?? sql`1=1`;
    // `created` is API-format text on both engines: its first 13 characters are the hour.
    const hour = sql`substr(${sql.ref(`${ROOT}.created`)}, 1, 13)`;
    const rows = await this.db.rows<{ hour: string; total: number | string }>(
      sql`SELECT ${hour} AS ${sql.id('hour')}, COUNT(*) AS ${sql.id('total')} FROM ${sql.id(LOGS_TABLE)} AS ${sql.id(ROOT)} WHERE ${where} GROUP BY ${hour} ORDER BY ${hour}`,
    );
    return rows.map((r) => ({ date: `${r.hour}:00:00.000Z`, total: Number(r.total) }));
  }

  /** Deletes every entry, raw ones first (an expansion in flight then finds nothing, or has committed). */
  async truncate(): Promise<void> {
    await this.db.kysely.deleteFrom(LOGS_RAW_TABLE).execute();
    await this.db.kysely.deleteFrom(LOGS_TABLE).execute();
  }

  async deleteOlderThan(cutoff: string): Promise<number> {
    await this.settle();
    let total = 0;
    for (;;) {
      const result = await this.db.kysely
        .deleteFrom(LOGS_TABLE)
        .where('id', 'in', (eb: ExpressionBuilder<any, any>) => eb.selectFrom(LOGS_TABLE).select('id').where('created', '<=', cutoff).limit(DELETE_BATCH))
        .executeTakeFirst();
      const n = Number(result.numDeletedRows);
      total += n;
      if (n < DELETE_BATCH) return total;
    }
  }
}
