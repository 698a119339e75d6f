/**
 * The LogStore port: where the stored logs (`/api/logs`, PocketBase's `_logs`) live, implemented
 * per engine in db/ (`sqlite/sqlite-log-store.ts`: a second database file, `auxiliary.db`, with
 * its own connections; `postgres/postgres-log-store.ts`: a `_logs` table). Logs are kept apart
 * from the data so that writing them never contends with record writes (SQLite has one writer
 * per file).
 */
import type { Caller } from '../records/caller.js';
import type { LogBatch } from './log-batch.js';
import type { ListResult } from '../records/record-reader.js';

export const LOGS_TABLE = '_logs';

/**
 * Batches of entries kept as they were queued (log-batch.ts's packed bytes, one row a batch) until
 * they are expanded into `_logs` rows (log-expansion.ts). `format` is the packing's version.
 */
export const LOGS_RAW_TABLE = '_logsRaw';

/** The version of log-batch.ts's packing that `_logsRaw.format` names. */
export const LOG_BATCH_FORMAT = 1;

/** PocketBase's (slog's) levels. */
export const LOG_LEVELS = { debug: -4, info: 0, warn: 4, error: 8 } as const;

/** One stored log entry, as the API shows it (PocketBase's `core.Log`). */
export interface LogEntry {
  /** 15-character id. */
  id: string;
  /** slog level: -4 debug, 0 info, 4 warn, 8 error. */
  level: number;
  message: string;
  /** Request logs: `type: "request"`, `method`, `url`, `status`, `execTime`… (core/logs/request-log.ts). */
  data: Record<string, unknown>;
  /** `YYYY-MM-DD HH:MM:SS.sssZ`. */
  created: string;
}

/** An entry on its way to the store: `data` is its JSON text already (serialized once, when queued). */
export interface NewLogEntry {
  id: string;
  level: number;
  message: string;
  /** JSON text of an object. */
  data: string;
  created: string;
}

/** One hour of `GET /api/logs/stats`: `date` is `YYYY-MM-DD HH:00:00.000Z`. */
export interface LogStatsItem {
  date: string;
  total: number;
}

export interface LogStore {
  /**
   * Writes the entries of a batch (log-batch.ts) in one statement or transaction (all or none).
   * Resolves with the batch's bytes when the store is done with them and they may be filled
   * again (LogBatchBuilder.recycle), or with nothing.
   */
  insertBatch(batch: LogBatch): Promise<Uint8Array | void>;
  /** `?filter=`, `?sort=` (default `-created`), `?page=`, `?perPage=`, `?skipTotal=`, through the client-query gate. */
  list(query: Record<string, string | undefined>, caller: Caller): Promise<ListResult<LogEntry>>;
  /** The entry with this id, or null. */
  view(id: string): Promise<LogEntry | null>;
  /** Entries per hour matching `filter` (client text, through the client-query gate), oldest first. */
  stats(filter: string, caller: Caller): Promise<LogStatsItem[]>;
  /** Deletes every entry. */
  truncate(): Promise<void>;
  /** Deletes the entries created at or before `cutoff` (API-format date text); returns how many. */
  deleteOlderThan(cutoff: string): Promise<number>;
  close(): Promise<void>;
}
