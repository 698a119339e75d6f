/**
 * The write buffer of the stored logs: entries are packed into off-heap batches as they are queued
 * (log-batch.ts) and written off the request path, one write per batch (one statement or one
 * transaction), every `flushIntervalMs` or as soon as a batch is full (`batchSize` entries or its
 * chunk of bytes).
 *
 * Bounded: when the store cannot keep up (a slow disk, a lost database) and `capacity` entries
 * wait, the oldest batch is dropped and counted (`dropped`), so memory never grows without bound
 * and no request ever waits for a log write. A failed flush drops its entries too (counted),
 * rather than retrying into the same failure.
 *
 * NB: the flush cadence is a real timer, not the app's Clock: it is a write-batching delay that
 * nothing observes (the entries carry their `created` time from the Clock when they are queued).
 */
import { AsyncResource } from 'node:async_hooks';
import type { Logger } from '../ports.js';
import type { Tracing } from '../tracing/tracing.js';
import { LogBatchBuilder, type LogBatch } from './log-batch.js';
import type { LogStore } from './log-store.js';
import type { CapturedRequest } from './request-log-format.js';

export interface LogWriterOptions {
  /** @default 200 */
  flushIntervalMs?: number;
  /** Entries that seal a batch and trigger a flush at once: the most one flush writes. @default 1000 */
  batchSize?: number;
  /** Entries that may wait; past it the oldest batch is dropped. @default 10000 */
  capacity?: number;
  /** Bytes of a batch's chunk (a full chunk seals the batch too). @default 128 KiB */
  chunkBytes?: number;
  /**
   * Flushes are background work (Tracing.background): started from a request's context, their
   * writes would otherwise be recorded as spans of whichever request happened to start them.
   * @default null
   */
  tracing?: Tracing | null;
}

export class LogWriter {
  /** Sealed batches waiting, oldest first. */
  private sealed: LogBatch[] = [];
  private readonly building: LogBatchBuilder;
  /** Entries waiting in `sealed`. */
  private sealedCount = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** Entries lost: dropped when the buffer was full, or in a failed flush. */
  dropped = 0;
  private readonly interval: number;
  private readonly batchSize: number;
  private readonly capacity: number;
  private readonly tracing: Tracing | null;

  constructor(
    private readonly store: LogStore,
    /** Where flush failures go: the base logger, never the storing one (no loop). */
    private readonly logger: Logger,
    options: LogWriterOptions = {},
  ) {
    this.interval = options.flushIntervalMs ?? 200;
    this.batchSize = Math.max(1, options.batchSize ?? 1000);
    this.capacity = Math.max(this.batchSize, options.capacity ?? 10_000);
    this.building = new LogBatchBuilder(options.chunkBytes);
    this.tracing = options.tracing ?? null;
  }

  /** Entries waiting to be written. */
  get size(): number {
    return this.sealedCount + this.building.count;
  }

  /** Queues an app log entry (`data`: JSON text of an object) captured at `time` (ms). */
  addEntry(time: number, level: number, message: string, data: string): void {
    if (this.closed) return;
    if (this.size >= this.capacity) this.dropOldest();
    if (!this.building.appendEntry(time, level, message, data)) {
      this.seal();
      this.building.appendEntry(time, level, message, data);
    }
    this.appended();
  }

  /** Queues a request's entry, raw (formatted when its batch is written). */
  addRequest(request: CapturedRequest): void {
    if (this.closed) return;
    if (this.size >= this.capacity) this.dropOldest();
    if (!this.building.appendRequest(request)) {
      this.seal();
      this.building.appendRequest(request);
    }
    this.appended();
  }

  private appended(): void {
    if (this.building.count >= this.batchSize) this.seal();
    this.schedule();
  }

  private seal(): void {
    if (this.building.count === 0) return;
    const batch = this.building.seal();
    this.sealed.push(batch);
    this.sealedCount += batch.count;
  }

  /** Drops the oldest batch waiting (the one being filled when none is sealed). */
  private dropOldest(): void {
    if (this.sealed.length === 0) this.seal();
    const batch = this.sealed.shift();
    if (!batch) return;
    this.sealedCount -= batch.count;
    this.dropped += batch.count;
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush schedules what comes next
    if (this.sealed.length > 0) {
      this.clearTimer();
      this.background(() => this.startFlush());
    } else if (!this.timer && this.building.count > 0) {
      this.timer = this.background(() =>
        setTimeout(() => {
          this.timer = null;
          if (this.flushing) return;
          this.seal();
          this.startFlush();
        }, this.interval),
      );
      this.timer.unref();
    }
  }

  /**
   * Runs `fn` as the writer's own work, not the request's that queued the entry: in the async
   * context the writer was created in (so nothing a request carries in AsyncLocalStorage, such as
   * the read replicas' client attribution, sees a flush as that client's write), and outside any
   * trace (Tracing.background).
   */
  private background<T>(fn: () => T): T {
    return this.detached(() => (this.tracing ? this.tracing.background(fn) : fn()));
  }

  /** Calls a function in the async context of the writer's creation. */
  private readonly detached = AsyncResource.bind(<T>(fn: () => T): T => fn());

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Starts writing the oldest sealed batch, if there is one. */
  private startFlush(): void {
    const batch = this.sealed.shift();
    if (!batch) return;
    this.sealedCount -= batch.count;
    // Cleared in a callback, always after this assignment (even if the store fails synchronously).
    this.flushing = this.flushOnce(batch).then(() => {
      this.flushing = null;
      if (!this.closed) this.schedule();
    });
  }

  /** Writes `batch`; a failure drops it (counted). */
  private async flushOnce(batch: LogBatch): Promise<void> {
    try {
      const written = await this.store.insertBatch(batch);
      if (written) this.building.recycle(written);
    } catch (err) {
      this.dropped += batch.count;
      this.logger.error({ err: err instanceof Error ? err.message : String(err), entries: batch.count }, 'logs: cannot store log entries');
    }
  }

  /** Writes everything queued so far (and waits for a flush already running). */
  async flush(): Promise<void> {
    this.clearTimer();
    for (;;) {
      if (this.flushing) await this.flushing;
      else if (this.size > 0) {
        this.seal();
        this.startFlush();
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
