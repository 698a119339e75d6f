/**
 * The stored logs (`/api/logs`, PocketBase's logs): what requests, hooks and jobs log at or above
 * `settings.logs.minLevel`, kept `settings.logs.maxDays` days (0 stores nothing) in the LogStore,
 * written through the LogWriter's buffer. The per-request pino line (`--log-level`) is separate.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../ports.js';
import type { Caller } from '../records/caller.js';
import type { ListResult } from '../records/record-reader.js';
import type { SettingsService } from '../settings/settings-service.js';
import { formatDate } from '../time.js';
import { LOG_LEVELS, type LogEntry, type LogStatsItem, type LogStore } from './log-store.js';
import { LogWriter, type LogWriterOptions } from './log-writer.js';
import type { CapturedRequest } from './request-log-format.js';

/** Largest `data` stored for a log line of the app logger (its JSON); bigger is replaced by a note. */
const MAX_DATA_JSON = 16 * 1024;

export class LogService {
  readonly writer: LogWriter | null;

  constructor(
    /** Null when the database has no log store: nothing is stored, the endpoints list nothing. */
    private readonly store: LogStore | null,
    private readonly settings: SettingsService,
    private readonly clock: Clock,
    logger: Logger,
    options: LogWriterOptions = {},
  ) {
    this.writer = store ? new LogWriter(store, logger, options) : null;
  }

  /** Whether an entry of `level` would be stored now (callers skip building one otherwise). */
  accepts(level: number): boolean {
    if (!this.writer) return false;
    const { maxDays, minLevel } = this.settings.get().logs;
    return maxDays > 0 && level >= minLevel;
  }

  /** Queues an entry (never waits, never throws); dropped unless `accepts(level)`. */
  add(level: number, message: string, data: Record<string, unknown>): void {
    if (!this.accepts(level)) return;
    this.addJson(level, message, JSON.stringify(data));
  }

  /**
   * `add` with `data` given as the JSON text of an object, for callers that build it themselves
   * (the request log, once per request: cheaper than an object serialized later).
   */
  addJson(level: number, message: string, data: string): void {
    if (!this.accepts(level)) return;
    this.writer!.addEntry(this.clock.now(), level, message, data);
  }

  /**
   * Queues a request's entry, raw: it is formatted where its batch is written (log-batch.ts).
   * The caller has checked `accepts(request.level)`; `time` is set here, from the app's Clock.
   */
  addRequest(request: CapturedRequest): void {
    if (!this.writer) return;
    request.time = this.clock.now();
    this.writer.addRequest(request);
  }

  list(query: Record<string, string | undefined>, caller: Caller): Promise<ListResult<LogEntry>> {
    if (!this.store) return Promise.resolve({ page: 1, perPage: 30, totalItems: 0, totalPages: 0, items: [] });
    return this.store.list(query, caller);
  }

  async view(id: string): Promise<LogEntry | null> {
    return this.store ? this.store.view(id) : null;
  }

  async stats(filter: string, caller: Caller): Promise<LogStatsItem[]> {
    return this.store ? this.store.stats(filter, caller) : [];
  }

  /** Deletes every stored entry, the queued ones included. */
  async truncate(): Promise<void> {
    await this.writer?.flush();
    await this.store?.truncate();
  }

  /** Deletes what is older than `maxDays` (the `__pbLogsCleanup__` cron); returns how many. */
  async prune(): Promise<number> {
    if (!this.store) return 0;
    const { maxDays } = this.settings.get().logs;
    // maxDays 0 stores nothing new; what was stored before stays until truncated (as in PocketBase).
    if (maxDays <= 0) return 0;
    return this.store.deleteOlderThan(formatDate(new Date(this.clock.now() - maxDays * 86_400_000)));
  }

  /** Writes what is queued and closes the store (app.close()). */
  async close(): Promise<void> {
    await this.writer?.close();
    await this.store?.close();
  }
}

const LEVEL_OF = { debug: LOG_LEVELS.debug, info: LOG_LEVELS.info, warn: LOG_LEVELS.warn, error: LOG_LEVELS.error } as const;

/** `obj` as stored JSON text of an object: errors by their message, nothing that JSON cannot hold, bounded. */
function logData(obj: object): string {
  try {
    const text = JSON.stringify(obj, (_key, value: unknown) => (value instanceof Error ? value.message : typeof value === 'bigint' ? String(value) : value));
    if (text === undefined) return '{}';
    if (text.length > MAX_DATA_JSON) return '{"truncated":true}';
    // An array or a plain value (a logger called with one) is stored under `value`.
    return text.startsWith('{') ? text : `{"value":${text}}`;
  } catch {
    return '{}';
  }
}

/**
 * The app logger that also stores its lines (at or above the minimum level), as PocketBase's
 * `app.Logger()` does: what hooks, jobs and Basalt itself log. The per-request line (`access`)
 * is not stored: requests are stored by the HTTP layer with their own data.
 */
export function storingLogger(base: Logger, logs: LogService): Logger {
  const at = (level: keyof typeof LEVEL_OF) => (obj: object, msg?: string) => {
    base[level](obj, msg);
    const n = LEVEL_OF[level];
    if (logs.accepts(n)) logs.addJson(n, msg ?? '', logData(obj));
  };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  // Always defined, so the request line never goes through the storing `info`.
  logger.access = base.access ? base.access.bind(base) : (entry) => base.info(entry, 'request');
  return logger;
}
