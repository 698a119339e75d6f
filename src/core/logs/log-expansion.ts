/**
 * When the stored logs' raw batches become `_logs` rows. A flush keeps its batch raw, one row of
 * packed bytes (`_logsRaw`): about one write a batch. Expanding it (formatting each entry, one
 * row and its index entries each) is most of what storing a log costs, several µs an entry, and
 * on a server whose cores are full that CPU is taken from the requests wherever it runs (measured:
 * a process burning the writer's 0.17 cores cost getOne 20 % by itself). So the expansion waits
 * for room:
 *
 * - when the main thread has room (its event loop busy less than `busyAbove` of the last tick):
 *   a slice of `sliceEntries` a tick, so a server with headroom has its logs queryable within a
 *   second or so;
 * - before every read of the logs (`settle`: list, view, stats, the retention cleanup), so what
 *   the API answers always includes every entry flushed before the read;
 * - without waiting, slice after slice, when more than `maxRaw` entries wait: a server saturated
 *   for long is back to expanding as it goes, so the raw backlog (disk, and the time the first
 *   read waits) stays bounded.
 *
 * NB: real timers, not the app's Clock, like the writer's flush cadence: nothing observes them.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Logger } from '../ports.js';

export interface LogExpansionOptions {
  /** Entries a step expands (whole batches: a little more). @default 5000 */
  sliceEntries?: number;
  /** Raw entries past which expansion no longer waits for room. @default 1,000,000 */
  maxRaw?: number;
  /** How often room is looked for while raw entries wait. @default 250 */
  tickMs?: number;
  /** Event-loop utilization at or above which the server has no room. @default 0.9 */
  busyAbove?: number;
  /** Longest a read waits for the backlog before answering with what is expanded. @default 30,000 */
  settleTimeoutMs?: number;
}

export class LogExpansion {
  /** Raw entries, as last known: the worker's count after the last step plus those stored since. */
  private raw: number;
  /** Entries handed to the store so far (to know which of them a step's answer may not count). */
  private stored = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private lastUtilization: EventLoopUtilization = performance.eventLoopUtilization();
  private closed = false;
  private readonly slice: number;
  private readonly maxRaw: number;
  private readonly tickMs: number;
  private readonly busyAbove: number;
  private readonly settleTimeoutMs: number;

  constructor(
    /** Expands about `limit` raw entries; resolves with the entries still raw. */
    private readonly expandSome: (limit: number) => Promise<number>,
    private readonly logger: Logger,
    /** Raw entries when the store opened (a previous run's, left unexpanded). */
    initialRaw: number,
    options: LogExpansionOptions = {},
  ) {
    this.slice = options.sliceEntries ?? 5000;
    this.maxRaw = options.maxRaw ?? 1_000_000;
    this.tickMs = options.tickMs ?? 250;
    this.busyAbove = options.busyAbove ?? 0.9;
    this.settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
    this.raw = initialRaw;
    this.schedule();
  }

  /** Entries still raw, as last known. */
  get backlog(): number {
    return this.raw;
  }

  /** Counts `entries` just handed to the store (called when the batch is sent, before it is written). */
  added(entries: number): void {
    this.stored += entries;
    this.raw += entries;
    this.schedule();
  }

  /**
   * Expands every entry handed to the store before the call (waiting for those another node is
   * expanding), within the settle timeout.
   */
  async settle(): Promise<void> {
    const deadline = performance.now() + this.settleTimeoutMs;
    const storedBefore = this.stored;
    // At least one step, even when nothing is known to be raw: its answer counts the raw batches
    // in the store, which on PostgreSQL include other nodes' (their own expansions wait for room
    // on their node). Entries stored during the wait may stay raw: they came after the read.
    let first = true;
    while ((first || this.raw > this.stored - storedBefore) && !this.closed) {
      first = false;
      const before = this.raw;
      if (!(await this.step())) return;
      if (this.raw < before || this.raw <= this.stored - storedBefore) continue;
      // Nothing expanded: the rest is another node's expansion in flight (PostgreSQL).
      if (performance.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** One slice, after any step already running (steps never overlap); false when it failed. */
  private step(): Promise<boolean> {
    const run = this.running.then(async () => {
      const storedBefore = this.stored;
      try {
        const raw = await this.expandSome(this.slice);
        // Batches handed over after the step was asked for are not in the worker's answer.
        this.raw = raw + (this.stored - storedBefore);
        return true;
      } catch (err) {
        this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'logs: cannot expand stored log entries');
        return false;
      }
    });
    this.running = run.then(() => {});
    return run;
  }

  private schedule(): void {
    if (this.timer || this.closed || this.raw <= 0) return;
    this.timer = setTimeout(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, this.lastUtilization).utilization;
    this.lastUtilization = now;
    let ok = busy < this.busyAbove ? await this.step() : true;
    // Past the bound, slice after slice until back under it (each step yields to the loop); a
    // failure waits for the next tick rather than retrying at once into the same failure.
    while (ok && this.raw > this.maxRaw && !this.closed) ok = await this.step();
    this.timer = null;
    this.schedule();
  }

  /** Stops looking for room (what is raw stays raw, expanded on the next start or read), after the step in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
