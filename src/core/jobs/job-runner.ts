/**
 * The worker side of the job queue on one node: one pump that claims due jobs for every job name
 * defined here, runs their handlers, and records outcomes in batches. A claim takes up to twice a
 * name's concurrency minus what this node holds: the extra half waits in a local queue and starts
 * the moment a slot frees, with no round trip between jobs (graphile-worker's "local queue"). It exists only once a job is defined: an app without jobs runs no loop at all.
 *
 * The pump does not poll hot. It claims when something may be due — an enqueue on this node
 * (after its commit), a wake-up message from another node (PostgreSQL NOTIFY), a freed slot of a
 * name that had more work, a retry's due time — and otherwise sleeps, via the Clock, until the
 * earliest due time it knows of or the fallback poll interval, whichever is first.
 */
import { noMetrics, type Metrics } from '../metrics/metrics.js';
import type { JobsConfig } from '../config.js';
import type { Clock, Logger } from '../ports.js';
import type { Tracing } from '../tracing/tracing.js';
import { formatDate } from '../time.js';
import { backoffDelay } from './backoff.js';
import { FailJobNow, RetryJobLater } from './job-errors.js';
import type { JobDefinition } from './job-options.js';
import type { ClaimedJob, JobOutcome, JobStore } from './job-store.js';
import type { JobContext } from './job-types.js';

/** API-format text of a time in ms. */
export const timeText = (ms: number): string => formatDate(new Date(ms));
const timeMs = (text: string): number => (text === '' ? Infinity : Date.parse(text.replace(' ', 'T')));

export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
}
export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
}
export class JobShutdownError extends Error {
  override readonly name = 'JobShutdownError';
}

/** Deleting old jobs: how often, and in batches of how many rows (at most PRUNE_BATCHES per state and round). */
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_BATCH = 1000;
const PRUNE_BATCHES = 10;
const REAP_LIMIT = 500;
/** A due job that could not be claimed (another node holds it for a moment): look again after this. */
const MIN_DELAY_MS = 20;
const MAX_ERROR_LENGTH = 10_000;

interface Attempt {
  id: string;
  attempt: number;
  controller: AbortController;
  timer: AbortController;
  onTimeout: () => void;
  /** running → done (its outcome recorded) | cancelled | released (shutdown) | lost (its lease was taken). */
  state: 'running' | 'done' | 'cancelled' | 'released' | 'lost';
  settled: Promise<void>;
}

class Lane {
  readonly running = new Map<string, Attempt>();
  /** Claimed (leased to this node), waiting for a slot, with the time of their claim. */
  queue: (ClaimedJob & { claimedAt: number })[] = [];
  /** Whether due jobs may be waiting (unknown counts as yes). */
  backlog = true;
  /**
   * Signals received (signal()): a claim whose query was in flight when one arrived must not
   * clear `backlog` from its answer, which may predate the signalled job's commit.
   */
  signals = 0;
  constructor(readonly def: JobDefinition) {}
  /**
   * How many more jobs to claim: the free slots, plus as many again to queue locally — only while
   * a slot is free, so that a node whose slots are all busy leaves new jobs to idle nodes.
   */
  get wants(): number {
    const free = this.def.concurrency - this.running.size - this.queue.length;
    return free > 0 ? free + this.def.concurrency : 0;
  }
}

export interface JobRunnerDeps {
  store: JobStore;
  clock: Clock;
  logger: Logger;
  config: JobsConfig;
  /** This node in `lockedBy` and in wake-up messages. */
  workerId: string;
  /** Counts the attempts' outcomes. @default noMetrics */
  metrics?: Metrics;
  /** A CONSUMER span per attempt, a child of the enqueuer's span context. @default null */
  tracing?: Tracing | null;
}

/**
 * An attempt's span attributes: the messaging semantic conventions (the job name is the
 * destination, a queue of its own), and the attempt number.
 */
function jobSpanAttributes(job: ClaimedJob, attempt: number): Record<string, string | number> {
  return { 'messaging.system': 'basalt', 'messaging.operation.type': 'process', 'messaging.destination.name': job.name, 'messaging.message.id': job.id, 'basalt.job.attempt': attempt };
}

/** Wake-up message: `w|<origin node>|<job name>`; cancel: `c|<job id>`. */
export const wakeMessage = (origin: string, name: string): string => `w|${origin}|${name}`;
export const cancelMessage = (id: string): string => `c|${id}`;

export class JobRunner {
  private readonly lanes = new Map<string, Lane>();
  private pumping: Promise<void> | null = null;
  private stopping = false;
  private closing: Promise<void> | null = null;
  private woken = false;
  private wakeUp: (() => void) | null = null;
  private outcomes: JobOutcome[] = [];
  private flushing: Promise<void> | null = null;
  private flushScheduled = false;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly deps: JobRunnerDeps) {}

  /** Starts working on `def`'s jobs (the pump starts with the first definition). */
  add(def: JobDefinition): void {
    this.lanes.set(def.name, new Lane(def));
    if (this.stopping) return;
    if (this.pumping) this.wake();
    // NB: background work for tracing: a job defined inside a request (the webhook relay defines
    // its job lazily) must not start a pump whose claims all hang under that request's trace, and
    // polls record no spans; each attempt gets its own span, parented explicitly.
    else this.pumping = this.deps.tracing ? this.deps.tracing.background(() => this.pump()) : this.pump();
  }

  /** A job of `name` may be due now: claim promptly. */
  signal(name: string): void {
    const lane = this.lanes.get(name);
    if (!lane) return;
    lane.backlog = true;
    lane.signals++;
    this.wake();
  }

  /** Aborts the attempt of `id` running here, if any (it was cancelled). */
  cancelLocal(id: string): void {
    for (const lane of this.lanes.values()) {
      // Not started yet: the row is cancelled already, so it is simply dropped.
      lane.queue = lane.queue.filter((job) => job.id !== id);
      const a = lane.running.get(id);
      if (a && a.state === 'running') {
        a.state = 'cancelled';
        a.controller.abort(new JobCancelledError(`job ${id} was cancelled`));
      }
    }
  }

  private onMessage(message: string): void {
    if (message.startsWith('w|')) {
      const rest = message.slice(2);
      const bar = rest.indexOf('|');
      // This node's own enqueues signalled it already, after their commit.
      if (bar >= 0 && rest.slice(0, bar) !== this.deps.workerId) {
        const name = rest.slice(bar + 1);
        // `*`: the listener reconnected; wake-ups may have been lost.
        if (name === '*') for (const lane of this.lanes.keys()) this.signal(lane);
        else this.signal(name);
      }
    } else if (message.startsWith('c|')) {
      this.cancelLocal(message.slice(2));
    }
  }

  private wake(): void {
    this.woken = true;
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }

  /** Sleeps `ms` or until woken; true when the time ran out. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const ac = new AbortController();
      this.wakeUp = () => {
        ac.abort();
        resolve(false);
      };
      this.deps.clock.sleep(ms, ac.signal).then(
        () => {
          this.wakeUp = null;
          resolve(true);
        },
        () => {},
      );
    });
  }

  private async pump(): Promise<void> {
    const { store, clock, logger, config } = this.deps;
    try {
      this.unlisten = await store.listen((m) => this.onMessage(m));
    } catch (err) {
      logger.warn({ err }, 'jobs: cannot listen for wake-ups; polling only');
    }
    let nextReap = 0;
    let nextPrune = 0;
    while (!this.stopping) {
      // Claims and no-op handlers on SQLite complete in microtasks: give I/O (and the outcome
      // flush, which batches on the next turn) a turn between rounds.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.stopping) break;
      this.woken = false;
      let delay = config.pollIntervalMs;
      try {
        const now = clock.now();
        if (now >= nextReap) {
          nextReap = now + config.pollIntervalMs;
          if ((await store.reapExpired(timeText(now), REAP_LIMIT)) > 0) for (const lane of this.lanes.values()) lane.backlog = true;
        }
        if (now >= nextPrune) {
          nextPrune = now + PRUNE_EVERY_MS;
          await this.prune(now);
        }
        await this.claim(now);
        if (this.stopping) break;
        if (this.woken || [...this.lanes.values()].some((l) => l.backlog && l.wants > 0)) continue;
        const idle = [...this.lanes.values()].filter((l) => l.wants > 0).map((l) => l.def.name);
        if (idle.length > 0) {
          const due = await store.nextDue(idle);
          const queued = timeMs(due.queued);
          const lease = timeMs(due.lease);
          if (lease !== Infinity) nextReap = Math.min(nextReap, lease + 1);
          const first = Math.min(queued, lease + 1);
          if (first !== Infinity) delay = Math.min(config.pollIntervalMs, Math.max(MIN_DELAY_MS, first - clock.now()));
        }
      } catch (err) {
        if (this.stopping) break;
        logger.error({ err }, 'jobs: worker loop failed; retrying');
        delay = Math.min(config.pollIntervalMs, 1000);
      }
      if (this.woken || this.stopping) continue;
      if (await this.sleep(delay)) for (const lane of this.lanes.values()) lane.backlog = true;
    }
  }

  private async claim(now: number): Promise<void> {
    const ready = [...this.lanes.values()].filter((l) => l.backlog && l.wants > 0);
    if (ready.length === 0) return;
    const requests = ready.map((l) => ({ name: l.def.name, limit: l.wants, lockedUntil: timeText(now + l.def.timeout + l.def.leaseMargin) }));
    const signalsBefore = new Map(ready.map((l) => [l.def.name, l.signals]));
    const claimed = await this.deps.store.claim(requests, this.deps.workerId, timeText(now));
    const counts = new Map<string, number>();
    for (const job of claimed) counts.set(job.name, (counts.get(job.name) ?? 0) + 1);
    for (const r of requests) {
      const lane = this.lanes.get(r.name)!;
      // A job enqueued (and signalled) while the claim ran may be missing from its answer: the
      // lane keeps its backlog, or that job would wait for the next poll (for ever on a manual clock).
      lane.backlog = (counts.get(r.name) ?? 0) >= r.limit || lane.signals !== signalsBefore.get(r.name);
    }
    for (const job of claimed) this.lanes.get(job.name)?.queue.push({ ...job, claimedAt: now });
    for (const lane of ready) this.drain(lane);
  }

  /** Starts queued jobs while the lane has free slots. */
  private drain(lane: Lane): void {
    while (lane.running.size < lane.def.concurrency && lane.queue.length > 0 && !this.stopping) {
      const job = lane.queue.shift()!;
      this.start(lane, job, this.deps.clock.now() - job.claimedAt);
    }
  }

  /** `waited`: ms since the claim; past half the lease margin the lease is renewed before the handler runs. */
  private start(lane: Lane, job: ClaimedJob, waited: number): void {
    const a: Attempt = {
      id: job.id,
      attempt: Number(job.attempts),
      controller: new AbortController(),
      timer: new AbortController(),
      onTimeout: () => {},
      state: 'running',
      settled: Promise.resolve(),
    };
    lane.running.set(job.id, a);
    a.settled = this.execute(lane, a, job, waited > lane.def.leaseMargin / 2);
  }

  private armTimer(a: Attempt, ms: number): void {
    a.timer.abort();
    const timer = new AbortController();
    a.timer = timer;
    this.deps.clock.sleep(ms, timer.signal).then(
      () => a.onTimeout(),
      () => {},
    );
  }

  private async execute(lane: Lane, a: Attempt, job: ClaimedJob, renewLease: boolean): Promise<void> {
    const def = lane.def;
    try {
      // It waited in the local queue: its lease must cover the whole timeout from now.
      if (renewLease) {
        const now = this.deps.clock.now();
        if (!(await this.deps.store.extendLease(a.id, a.attempt, timeText(now + def.timeout + def.leaseMargin), timeText(now)))) {
          a.state = 'lost';
          return;
        }
      }
      const timedOut = new Promise<'timeout'>((resolve) => (a.onTimeout = () => resolve('timeout')));
      this.armTimer(a, def.timeout);
      const running = (async () => {
        const ctx: JobContext = {
          id: job.id,
          name: job.name,
          payload: JSON.parse(job.payload),
          attempt: a.attempt,
          signal: a.controller.signal,
          extendLease: (ms) => this.extendLease(a, lane, ms),
        };
        const tracing = this.deps.tracing;
        if (!tracing) return void (await def.handler(ctx));
        await tracing.inSpan(`job ${job.name}`, { kind: 'consumer', parent: job.trace ?? null, attributes: jobSpanAttributes(job, a.attempt) }, () => def.handler(ctx));
      })().then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const result = await Promise.race([running, timedOut]);
      a.timer.abort();
      if (result === 'timeout') {
        const err = new JobTimeoutError(`job "${job.name}" timed out after ${def.timeout} ms`);
        this.record(a, job, def, err);
        a.controller.abort(err);
        // The slot stays taken until the handler returns: one that ignores its signal cannot pile up.
        await running;
      } else {
        this.record(a, job, def, result.ok ? null : result.error);
      }
    } finally {
      a.timer.abort();
      lane.running.delete(a.id);
      this.drain(lane);
      if (lane.backlog) this.wake();
    }
  }

  /** Queues the outcome of attempt `a` (nothing when it was cancelled or released meanwhile). */
  private record(a: Attempt, job: ClaimedJob, def: JobDefinition, error: unknown): void {
    if (a.state !== 'running') return;
    a.state = 'done';
    const metrics = this.deps.metrics ?? noMetrics;
    if (error === null) {
      metrics.jobAttempt(def.name, 'completed');
      return this.push({ kind: 'completed', id: a.id, attempt: a.attempt });
    }
    const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH) || 'error';
    const stack = (error instanceof Error ? (error.stack ?? '') : '').slice(0, MAX_ERROR_LENGTH);
    if (a.attempt < Number(job.maxAttempts) && !(error instanceof FailJobNow)) {
      const delay = error instanceof RetryJobLater ? Math.max(0, error.delayMs) : backoffDelay(def.backoff, a.attempt);
      const runAt = timeText(this.deps.clock.now() + delay);
      metrics.jobAttempt(def.name, 'retry');
      this.push({ kind: 'retry', id: a.id, attempt: a.attempt, runAt, error: message, stack });
    } else {
      metrics.jobAttempt(def.name, 'failed');
      this.push({ kind: 'failed', id: a.id, attempt: a.attempt, error: message, stack });
    }
  }

  private async extendLease(a: Attempt, lane: Lane, ms: number): Promise<void> {
    if (!Number.isInteger(ms) || ms < 1 || ms > 2 ** 31 - 1) throw new RangeError(`extendLease: ms must be an integer between 1 and ${2 ** 31 - 1}`);
    if (a.state !== 'running') throw new JobCancelledError(`job ${a.id} is no longer running (${a.state})`);
    const now = this.deps.clock.now();
    const ok = await this.deps.store.extendLease(a.id, a.attempt, timeText(now + ms + lane.def.leaseMargin), timeText(now));
    if (!ok) {
      if (a.state === 'running') a.state = 'lost';
      const err = new JobCancelledError(`job ${a.id} is no longer running: it was cancelled or taken over after its lease expired`);
      a.controller.abort(err);
      throw err;
    }
    if (a.state === 'running') this.armTimer(a, ms);
  }

  private push(outcome: JobOutcome): void {
    this.outcomes.push(outcome);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // The next turn of the event loop: outcomes of jobs ending together go in one write.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /** Writes the queued outcomes (one flush at a time; a failed one is retried). */
  flush(): Promise<void> {
    this.flushing ??= this.flushLoop().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.outcomes.length > 0) {
      const batch = this.outcomes;
      this.outcomes = [];
      try {
        await this.deps.store.finish(batch, timeText(this.deps.clock.now()));
        // A retry's due time may be earlier than the pump's sleep: let it look again.
        if (batch.some((o) => o.kind === 'retry')) this.wake();
      } catch (err) {
        this.deps.logger.error({ err, jobs: batch.length }, 'jobs: cannot record job outcomes');
        if (this.stopping) return;
        this.outcomes = batch.concat(this.outcomes);
        await this.deps.clock.sleep(1000).catch(() => {});
      }
    }
  }

  /** Deletes finished jobs past their retention, in bounded batches; returns how many. */
  async prune(now: number = this.deps.clock.now()): Promise<number> {
    const { config, store } = this.deps;
    let total = 0;
    const plan = [
      ['completed', config.completedRetentionMs],
      ['failed', config.failedRetentionMs],
      ['cancelled', config.failedRetentionMs],
    ] as const;
    for (const [state, retention] of plan) {
      const before = timeText(now - retention);
      for (let i = 0; i < PRUNE_BATCHES; i++) {
        const n = await store.prune(state, before, PRUNE_BATCH);
        total += n;
        if (n < PRUNE_BATCH) break;
      }
    }
    return total;
  }

  /**
   * Stops claiming, gives running attempts `shutdownGraceMs` to finish, then aborts the rest and
   * releases them (queued again, due now, the attempt not counted) for other nodes or the next start.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const { clock, store, logger, config } = this.deps;
    this.stopping = true;
    this.wake();
    await this.pumping;
    await this.unlisten?.().catch(() => {});
    // Claimed but never started: back to the queue at once, for other nodes.
    const unstarted = [...this.lanes.values()].flatMap((l) => l.queue.splice(0));
    if (unstarted.length > 0) {
      await store.release(unstarted.map((j) => ({ id: j.id, attempt: Number(j.attempts) })), timeText(clock.now())).catch((err: unknown) => logger.error({ err }, 'jobs: cannot release claimed jobs at shutdown'));
    }
    const attempts = [...this.lanes.values()].flatMap((l) => [...l.running.values()]);
    if (attempts.length > 0) {
      const grace = new AbortController();
      await Promise.race([Promise.all(attempts.map((a) => a.settled)), clock.sleep(config.shutdownGraceMs, grace.signal).catch(() => {})]);
      grace.abort();
      const left = [...this.lanes.values()].flatMap((l) => [...l.running.values()]).filter((a) => a.state === 'running');
      for (const a of left) {
        a.state = 'released';
        a.timer.abort();
        a.controller.abort(new JobShutdownError('the server is shutting down'));
      }
      if (left.length > 0) {
        await store.release(left.map((a) => ({ id: a.id, attempt: a.attempt })), timeText(clock.now())).catch((err: unknown) => logger.error({ err }, 'jobs: cannot release running jobs at shutdown'));
      }
    }
    await this.flush();
  }
}
