/**
 * The write buffer of the stored logs: entries are queued in memory and written off the request
 * path, one write per flush (one statement or one transaction), every `flushIntervalMs` or as soon
 * as `batchSize` wait.
 *
 * Bounded: when the store cannot keep up (a slow disk, a lost database) and `capacity` entries
 * wait, the oldest are dropped and counted (`dropped`), so memory never grows without bound and
 * no request ever waits for a log write. A failed flush drops its entries too (counted), rather
 * than retrying into the same failure.
 *
 * NB: the flush cadence is a real timer, not the app's Clock: it is a write-batching delay that
 * nothing observes (the entries carry their `created` time from the Clock when they are queued).
 */
import type { Logger } from '../ports.js';
import type { LogEntry, LogStore } from './log-store.js';

export interface LogWriterOptions {
  /** @default 200 */
  flushIntervalMs?: number;
  /** Entries that trigger a flush at once, and the most one flush writes. @default 1000 */
  batchSize?: number;
  /** Entries that may wait; past it the oldest are dropped. @default 10000 */
  capacity?: number;
}

export class LogWriter {
  private pending: LogEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** Entries lost: dropped when the buffer was full, or in a failed flush. */
  dropped = 0;
  private readonly interval: number;
  private readonly batchSize: number;
  private readonly capacity: number;

  constructor(
    private readonly store: LogStore,
    /** Where flush failures go: the base logger, never the storing one (no loop). */
    private readonly logger: Logger,
    options: LogWriterOptions = {},
  ) {
    this.interval = options.flushIntervalMs ?? 200;
    this.batchSize = Math.max(1, options.batchSize ?? 1000);
    this.capacity = Math.max(this.batchSize, options.capacity ?? 10_000);
  }

  /** Entries waiting to be written. */
  get size(): number {
    return this.pending.length;
  }

  add(entry: LogEntry): void {
    if (this.closed) return;
    if (this.pending.length >= this.capacity) {
      // Drop a tenth at once: one splice per overload burst, not a shift per entry.
      const n = Math.max(1, Math.floor(this.capacity / 10));
      this.pending.splice(0, n);
      this.dropped += n;
    }
    this.pending.push(entry);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush schedules what comes next
    if (this.pending.length >= this.batchSize) {
      this.clearTimer();
      this.flushing = this.flushOnce();
    } else if (!this.timer && this.pending.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.flushing) this.flushing = this.flushOnce();
      }, this.interval);
      this.timer.unref();
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Writes one batch; then schedules the next one (at once if a full batch waits). */
  private async flushOnce(): Promise<void> {
    const batch = this.pending.splice(0, this.batchSize);
    try {
      await this.store.insertMany(batch);
    } catch (err) {
      this.dropped += batch.length;
      this.logger.error({ err: err instanceof Error ? err.message : String(err), entries: batch.length }, 'logs: cannot store log entries');
    } finally {
      this.flushing = null;
    }
    if (!this.closed) this.schedule();
  }

  /** Writes everything queued so far (and waits for a flush already running). */
  async flush(): Promise<void> {
    this.clearTimer();
    for (;;) {
      if (this.flushing) await this.flushing;
      else if (this.pending.length > 0) {
        this.flushing = this.flushOnce();
        await this.flushing;
      } else return;
    }
  }

  /** Flushes what is queued, then refuses new entries. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.clearTimer();
  }
}
