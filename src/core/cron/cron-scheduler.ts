/**
 * Cron jobs that fire once per cluster (docs/cron.md). Every node registers the same jobs and
 * tries every tick; a tick is claimed in the database (cron-runs.ts) and only the node whose
 * claim succeeded runs the handler. So no tick runs twice (the claim is unique), and none is
 * missed while any node is alive (every live node tries it).
 *
 * Cheap when idle: one timer for the earliest next tick across all jobs (not one per job), on
 * the injected Clock (croner only computes dates), and no polling. The timer is re-armed when a
 * job is added or removed, or when a job's run ends.
 *
 * Per node, runs of one job never overlap: while a job runs here (a tick or a manual run), this
 * node does not try its next ticks (another node may take them); once it ends, ticks that came
 * due in the meantime are tried, unless they are more than {@link LATE_LIMIT_MS} late.
 */
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Database, Logger } from '../ports.js';
import { CronRuns, tickText } from './cron-runs.js';
import { CronDefinitionError, CronSchedule } from './cron-schedule.js';

export interface CronOptions {
  /** The IANA time zone the expression is read in (`Europe/Paris`). @default 'UTC' */
  timezone?: string;
  /**
   * When the latest tick before start-up was missed by the whole cluster (no node claimed it,
   * though the job had run before), run it once at start — the latest one only, not every
   * missed tick. @default false
   */
  catchUp?: boolean;
}

/** What a handler receives. */
export interface CronRun {
  readonly id: string;
  /** The scheduled time of this run (ms since the epoch); null for a manual run (`runNow`). */
  readonly tick: number | null;
  /** Aborted when the scheduler stops and the grace period is over: a long handler should return. */
  readonly signal: AbortSignal;
}

export type CronHandler = (run: CronRun) => unknown;

/** A registered job as `GET /api/crons` shows it (PocketBase's shape). */
export interface CronJob {
  id: string;
  expression: string;
}

/**
 * How a manual run ended: `done`, `failed` (the handler threw: logged), `busy` (a run of this job
 * was already in progress on this node: nothing ran), `missing` (no such job) or `stopped`.
 */
export type CronRunOutcome = 'done' | 'failed' | 'busy' | 'missing' | 'stopped';

export interface CronSchedulerDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** This node's name on the claims it wins. @default a random id */
  node?: string;
  /** How long `stop()` waits for running handlers. @default 10000 */
  graceMs?: number;
}

/**
 * Job ids: 1 to 100 characters among letters, digits and `_ . : @ -`. 100 is Fastify's longest
 * path parameter, so every job can be run through `POST /api/crons/{id}`; the character set needs
 * no URL encoding and keeps ids safe in logs.
 */
export const CRON_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,100}$/;
/** A tick more late than this (a stalled process, a suspended machine) is not tried any more. */
export const LATE_LIMIT_MS = 60_000;
/** Ticks of one job tried in one go at most (a per-second job after a stall). */
const MAX_DUE_AT_ONCE = 60;
/** The timer never sleeps longer: timers overflow past 2^31 ms, and the wall clock may be adjusted. */
const MAX_SLEEP_MS = 3_600_000;
/** How often a node prunes the claims table, and how long claims are kept. */
const PRUNE_EVERY_MS = 3_600_000;
const CLAIM_RETENTION_MS = 86_400_000;
const DEFAULT_GRACE_MS = 10_000;

interface Entry {
  id: string;
  schedule: CronSchedule;
  handler: CronHandler;
  catchUp: boolean;
  /** The first tick this node has not handled yet (null: the expression has no more ticks). */
  next: number | null;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class CronScheduler {
  /** This node's name on the claims it wins. */
  readonly node: string;
  private readonly runs: CronRuns;
  private readonly entries = new Map<string, Entry>();
  /** Runs in progress on this node, by job id (ticks, catch-up, manual runs). */
  private readonly running = new Map<string, Promise<void>>();
  private state: 'idle' | 'started' | 'stopped' = 'idle';
  private loop: Promise<void> | null = null;
  private wakeController: AbortController | null = null;
  private wakePending = false;
  private handlerAbort = new AbortController();
  private lastPrune = -Infinity;
  private readonly graceMs: number;

  constructor(private readonly deps: CronSchedulerDeps) {
    this.node = deps.node ?? newId();
    this.runs = new CronRuns(deps.db, this.node);
    this.graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;
  }

  /**
   * Registers (or replaces: same id, as PocketBase's `Add`) a job. Throws CronDefinitionError,
   * naming the id, for a bad id, a malformed expression, an unknown time zone or an expression
   * that never fires. A job added while the scheduler runs is scheduled from now on.
   */
  add(id: string, expression: string, handler: CronHandler, options: CronOptions = {}): void {
    if (typeof id !== 'string' || !CRON_ID_PATTERN.test(id)) {
      const shown = typeof id === 'string' ? JSON.stringify(id.length > 120 ? id.slice(0, 120) + '…' : id) : String(id);
      throw new CronDefinitionError(`invalid cron id ${shown}: use 1 to 100 letters, digits or _ . : @ -`);
    }
    if (typeof handler !== 'function') throw new CronDefinitionError(`cron "${id}": the handler must be a function`);
    const now = this.deps.clock.now();
    let schedule: CronSchedule;
    try {
      schedule = CronSchedule.parse(expression, options.timezone ?? 'UTC', now);
    } catch (err) {
      if (err instanceof CronDefinitionError) throw new CronDefinitionError(`cron "${id}": ${err.message}`);
      throw err;
    }
    const entry: Entry = { id, schedule, handler, catchUp: options.catchUp === true, next: schedule.next(now) };
    this.entries.set(id, entry);
    if (this.state === 'started') {
      if (entry.catchUp) this.catchUp(entry, now);
      this.wake();
    }
  }

  /** Unregisters a job (a run in progress finishes); false when there was none. */
  remove(id: string): boolean {
    const removed = this.entries.delete(id);
    if (removed) this.wake();
    return removed;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The registered jobs: the application's by id, then the built-in `__…` ones (`__pb…`, `__basalt…`) by id (PocketBase's order). */
  list(): CronJob[] {
    // PocketBase's maintenance jobs and Basalt's own (core/cron/builtin-crons.ts).
    const builtIn = (id: string) => id.startsWith('__pb') || id.startsWith('__basalt');
    return [...this.entries.values()]
      .sort((a, b) => Number(builtIn(a.id)) - Number(builtIn(b.id)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((e) => ({ id: e.id, expression: e.schedule.expression }));
  }

  /** The next tick of a job after `after` (default: now), in ms since the epoch; null when none. */
  nextTick(id: string, after = this.deps.clock.now()): number | null {
    return this.entries.get(id)?.schedule.next(after) ?? null;
  }

  /**
   * Runs a job now on this node, outside its schedule: not claimed (other nodes are not asked),
   * but never overlapping a run of the same job on this node (then nothing runs: `busy`).
   * Resolves when the handler has finished; never rejects (a failing handler is logged).
   */
  async runNow(id: string): Promise<CronRunOutcome> {
    const entry = this.entries.get(id);
    if (!entry) return 'missing';
    if (this.state === 'stopped') return 'stopped';
    if (this.running.has(id)) {
      this.deps.logger.info({ cron: id }, 'cron job already running on this node: manual run skipped');
      return 'busy';
    }
    let outcome: CronRunOutcome = 'done';
    const run = (async () => {
      // After the caller's own work (the HTTP answer): the handler never runs inside it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      outcome = (await this.invoke(entry, null)) === null ? 'done' : 'failed';
    })();
    this.track(id, run);
    await run;
    return outcome;
  }

  /** Starts firing ticks (and catching up the jobs that ask for it). Idempotent. */
  start(): void {
    if (this.state === 'started') return;
    this.state = 'started';
    if (this.handlerAbort.signal.aborted) this.handlerAbort = new AbortController();
    const now = this.deps.clock.now();
    for (const entry of this.entries.values()) {
      entry.next = entry.schedule.next(now);
      if (entry.catchUp) this.catchUp(entry, now);
    }
    this.loop = this.runLoop();
  }

  /**
   * Stops firing ticks and waits for the runs in progress on this node, up to `graceMs`; then
   * aborts their signal and returns (a run still going is not waited for: its claim stays
   * unfinished). Manual runs are refused from now on, until `start()`.
   */
  async stop(graceMs = this.graceMs): Promise<void> {
    this.state = 'stopped';
    this.wake();
    await this.loop;
    this.loop = null;
    if (this.running.size > 0) {
      const timer = new AbortController();
      const settled = Promise.allSettled([...this.running.values()]);
      await Promise.race([settled, this.deps.clock.sleep(graceMs, timer.signal).catch(() => {})]);
      timer.abort();
      if (this.running.size > 0) this.deps.logger.warn({ crons: [...this.running.keys()] }, 'cron jobs still running after the grace period');
    }
    this.handlerAbort.abort(new Error('the cron scheduler stopped'));
  }

  private async runLoop(): Promise<void> {
    while (this.state === 'started') {
      const now = this.deps.clock.now();
      let wakeAt = Infinity;
      for (const entry of this.entries.values()) {
        // A job running here is looked at again when its run ends (track() wakes the loop).
        if (this.running.has(entry.id) || entry.next === null) continue;
        if (entry.next > now) {
          wakeAt = Math.min(wakeAt, entry.next);
          continue;
        }
        try {
          this.fire(entry, now);
        } catch (err) {
          // The loop must outlive any one job; this one gives up its remaining ticks here.
          entry.next = null;
          this.deps.logger.error({ cron: entry.id, err: { message: messageOf(err) } }, 'cron job cannot be scheduled');
        }
      }
      await this.sleepUntil(wakeAt, now);
    }
  }

  /** Sleeps until `wakeAt` (at most MAX_SLEEP_MS), or until wake(); forever (no timer) when nothing is scheduled. */
  private async sleepUntil(wakeAt: number, now: number): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return;
    }
    const controller = new AbortController();
    this.wakeController = controller;
    try {
      if (wakeAt === Infinity) await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
      else await this.deps.clock.sleep(Math.min(wakeAt - now, MAX_SLEEP_MS), controller.signal);
    } catch {
      // Woken up early: the loop looks again.
    } finally {
      this.wakeController = null;
    }
  }

  private wake(): void {
    if (this.wakeController) this.wakeController.abort();
    else this.wakePending = true;
  }

  /** Starts trying the ticks of `entry` that are due (those too late are dropped). */
  private fire(entry: Entry, now: number): void {
    const floor = now - LATE_LIMIT_MS;
    let tick = entry.next;
    if (tick !== null && tick < floor) {
      // A stalled process, a suspended machine, or this node's own run of the job lasting long.
      this.deps.logger.info({ cron: entry.id, from: tickText(tick) }, 'cron ticks more than a minute late skipped on this node');
      tick = entry.schedule.next(floor - 1);
    }
    const due: number[] = [];
    while (tick !== null && tick <= now && due.length < MAX_DUE_AT_ONCE) {
      due.push(tick);
      tick = entry.schedule.next(tick);
    }
    entry.next = tick;
    if (due.length > 0) this.track(entry.id, this.runTicks(entry, due));
  }

  /** At start (or when added while started): runs the latest missed tick, when the cluster missed it. */
  private catchUp(entry: Entry, now: number): void {
    if (this.running.has(entry.id)) return;
    const work = async () => {
      const latest = entry.schedule.previous(now);
      if (latest === null) return;
      let last: number | null;
      try {
        last = await this.runs.lastTick(entry.id);
      } catch (err) {
        this.deps.logger.error({ cron: entry.id, err: { message: messageOf(err) } }, 'cron catch-up: cannot read the last run');
        return;
      }
      // Never ran anywhere: nothing was missed (the job did not exist yet).
      if (last === null || last >= latest) return;
      this.deps.logger.info({ cron: entry.id, tick: tickText(latest) }, 'cron catch-up: running the latest missed tick');
      await this.runTicks(entry, [latest]);
    };
    this.track(entry.id, work());
  }

  /** Claims each tick in turn and runs the handler for those this node won. Never rejects. */
  private async runTicks(entry: Entry, ticks: number[]): Promise<void> {
    for (const tick of ticks) {
      if (this.state !== 'started') return;
      let claimed = false;
      try {
        claimed = await this.runs.claim(entry.id, tick, this.deps.clock.now());
      } catch (err) {
        this.deps.logger.error({ cron: entry.id, tick: tickText(tick), err: { message: messageOf(err) } }, 'cron tick could not be claimed');
        continue;
      }
      if (!claimed) continue;
      const error = await this.invoke(entry, tick);
      try {
        await this.runs.finish(entry.id, tick, this.deps.clock.now(), error ?? '');
      } catch (err) {
        this.deps.logger.error({ cron: entry.id, tick: tickText(tick), err: { message: messageOf(err) } }, 'cron run could not be recorded');
      }
    }
    await this.maybePrune();
  }

  /** Runs the handler; returns null when it succeeded, else its error message (logged). */
  private async invoke(entry: Entry, tick: number | null): Promise<string | null> {
    try {
      await entry.handler({ id: entry.id, tick, signal: this.handlerAbort.signal });
      return null;
    } catch (err) {
      const message = messageOf(err) || 'failed';
      this.deps.logger.error({ cron: entry.id, tick: tick === null ? 'manual' : tickText(tick), err: { message } }, 'cron job failed');
      return message;
    }
  }

  /** Occasionally (hourly per node, after a tick) removes old claims: the table stays bounded. */
  private async maybePrune(): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    try {
      await this.runs.prune(now - CLAIM_RETENTION_MS);
    } catch (err) {
      this.deps.logger.warn({ err: { message: messageOf(err) } }, 'cron claims could not be pruned');
    }
  }

  private track(id: string, work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((err: unknown) => this.deps.logger.error({ cron: id, err: { message: messageOf(err) } }, 'cron run failed'))
      .finally(() => {
        if (this.running.get(id) === tracked) this.running.delete(id);
        this.wake();
      });
    this.running.set(id, tracked);
  }
}
