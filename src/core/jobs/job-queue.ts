/**
 * `app.jobs`: Basalt's durable job queue. Code defines job names with a handler
 * (`define`) and adds jobs (`enqueue`) — inside a transaction when it passes the `Tx`, so a job
 * and the write that caused it commit or roll back together (a transactional outbox). Rows live
 * in `_jobs` through the engine's JobStore; the JobRunner claims and runs them on every node that
 * defines their name. The operator API (view, cancel, retry, stats, list) is here too.
 *
 * NB: enqueue requires the job name to be defined on this node. Hook code runs on every node, so
 * a name defined by the app is defined everywhere; a typo fails at once instead of leaving rows
 * nobody will ever run.
 */
import type { Metrics } from '../metrics/metrics.js';
import { hostname } from 'node:os';
import type { JobsConfig } from '../config.js';
import { badRequest, notFound } from '../errors.js';
import type { Tx } from '../events/transaction.js';
import { newTimeOrderedId, randomString } from '../ids.js';
import type { Clock, Database, Logger } from '../ports.js';
import type { StoredTrace, Tracing } from '../tracing/tracing.js';
import { checkDefinition, checkEnqueueOptions, checkJobName, JobInputError, serializePayload, type JobDefinition } from './job-options.js';
import { jobToJson } from './job-json.js';
import { cancelMessage, JobRunner, timeText, wakeMessage } from './job-runner.js';
import { JOB_STATES, type JobState, type JobStore } from './job-store.js';
import type { EnqueueOptions, JobDefinitionOptions, JobHandler, JobJson } from './job-types.js';

export interface JobQueueDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  config: JobsConfig;
  /** Counts the attempts' outcomes. @default noMetrics */
  metrics?: Metrics;
  /**
   * When on, a job stores the span context it was enqueued under and its attempts run in spans
   * of that trace (README "Tracing"). @default null (off: the `trace` column stays NULL)
   */
  tracing?: Tracing | null;
}

/** A job for {@link JobQueue.enqueueSerialized}: its payload as JSON text, the span context it was written under. */
export interface SerializedJob {
  payload: string;
  trace: StoredTrace | null;
}

/** Counts of jobs by state, in total and per job name. */
export interface JobStats {
  total: Record<JobState, number>;
  names: Record<string, Record<JobState, number>>;
}

const ID_SHAPE = /^[a-z0-9]{1,64}$/;

const zeroCounts = (): Record<JobState, number> => Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;

export class JobQueue {
  /** This node, as `lockedBy` shows it: host, process and a random tag. */
  readonly workerId: string;
  private readonly store: JobStore;
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly runner: JobRunner;

  constructor(private readonly deps: JobQueueDeps) {
    this.store = deps.db.jobs;
    this.workerId = `${hostname()}:${process.pid}:${randomString(6)}`;
    this.runner = new JobRunner({ store: this.store, clock: deps.clock, logger: deps.logger, config: deps.config, workerId: this.workerId, metrics: deps.metrics, tracing: deps.tracing });
  }

  /**
   * Defines the job `name`: its handler and how it runs on this node. The first definition starts
   * this node's worker. Throws a JobInputError on a bad name, handler or option, or a name defined twice.
   */
  define<P = any>(name: string, handler: JobHandler<P>, options?: JobDefinitionOptions): void {
    const def = checkDefinition(name, handler, options);
    if (this.definitions.has(def.name)) throw new JobInputError(`job "${def.name}" is already defined`);
    this.definitions.set(def.name, def);
    // Concurrency 0: enqueued here, run by the nodes that define it with slots (an API-only node).
    if (def.concurrency > 0) this.runner.add(def);
  }

  /** Whether `name` is defined on this node. */
  isDefined(name: string): boolean {
    return this.definitions.has(name);
  }

  /**
   * Adds a job. With `tx` the row is written in that transaction and only runs once it commits;
   * without, it commits on its own. With a `key` held by a pending (queued or running) job, adds
   * nothing and returns that job. Throws a JobInputError — before writing anything — for a name
   * not defined on this node, a payload JSON cannot carry, or a bad option.
   */
  async enqueue(name: string, payload: unknown, options?: EnqueueOptions, tx?: Tx): Promise<JobJson> {
    checkJobName(name);
    const def = this.definitions.get(name);
    if (!def) {
      const known = [...this.definitions.keys()];
      throw new JobInputError(`unknown job "${name}": define it with app.jobs.define() on this node before enqueueing it (defined: ${known.length > 0 ? known.join(', ') : 'none'})`);
    }
    const now = this.deps.clock.now();
    const checked = checkEnqueueOptions(name, options, now);
    const payloadText = serializePayload(name, payload);
    const row = {
      id: newTimeOrderedId(now),
      name,
      payload: payloadText,
      priority: checked.priority,
      runAt: timeText(checked.runAt),
      maxAttempts: checked.maxAttempts ?? def.maxAttempts,
      key: checked.key,
      created: timeText(now),
      trace: this.deps.tracing?.storedTrace() ?? null,
    };
    const { job, created } = await this.store.insert(tx?.db ?? this.deps.db, row, this.workerId);
    if (created) {
      if (tx) tx.afterCommit(() => this.runner.signal(name));
      else this.runner.signal(name);
    }
    return jobToJson(job);
  }

  /**
   * Adds many jobs of one defined name, in `tx`, from payloads already serialized as JSON text
   * (an outbox relay moving stored rows: no parse and re-serialize), with default options, each
   * with the span context stored with it (not the relay's). The workers are woken once `tx` commits.
   */
  async enqueueSerialized(name: string, jobs: readonly SerializedJob[], tx: Tx): Promise<void> {
    checkJobName(name);
    const def = this.definitions.get(name);
    if (!def) throw new JobInputError(`unknown job "${name}": define it with app.jobs.define() on this node before enqueueing it`);
    if (jobs.length === 0) return;
    const nowMs = this.deps.clock.now();
    const now = timeText(nowMs);
    const rows = jobs.map(({ payload, trace }) => ({ id: newTimeOrderedId(nowMs), name, payload, priority: 0, runAt: now, maxAttempts: def.maxAttempts, key: '', created: now, trace }));
    await this.store.insertMany(tx.db, rows, this.workerId);
    tx.afterCommit(() => this.runner.signal(name));
  }

  /** The job `id`; 404 when there is none. */
  async view(id: string): Promise<JobJson> {
    const row = ID_SHAPE.test(id) ? await this.store.get(id) : null;
    if (!row) throw notFound();
    return jobToJson(row);
  }

  /** A queued job → cancelled; a running one too, and its handler's signal aborts (on whichever node runs it). */
  async cancel(id: string): Promise<JobJson> {
    await this.view(id);
    const row = await this.store.cancel(id, timeText(this.deps.clock.now()));
    if (!row) {
      const now = await this.view(id);
      throw badRequest(`Only queued or running jobs can be cancelled; this one is ${now.state}.`);
    }
    this.runner.cancelLocal(id);
    await this.store.broadcast(cancelMessage(id)).catch((err: unknown) => this.deps.logger.warn({ err, id }, 'jobs: cannot broadcast a cancel'));
    return jobToJson(row);
  }

  /** A failed or cancelled job → queued, due now, with its attempts reset. */
  async retry(id: string): Promise<JobJson> {
    await this.view(id);
    let row;
    try {
      row = await this.store.retry(id, timeText(this.deps.clock.now()));
    } catch (err) {
      if (this.deps.db.classifyError(err)?.kind === 'unique') throw badRequest('Another queued or running job has the same key; cancel it or wait for it to finish.');
      throw err;
    }
    if (!row) {
      const now = await this.view(id);
      throw badRequest(`Only failed or cancelled jobs can be retried; this one is ${now.state}.`);
    }
    this.runner.signal(row.name);
    await this.store.broadcast(wakeMessage(this.workerId, row.name)).catch(() => {});
    return jobToJson(row);
  }

  async stats(): Promise<JobStats> {
    const total = zeroCounts();
    const names: Record<string, Record<JobState, number>> = {};
    for (const { name, state, count } of await this.store.counts()) {
      const n = Number(count);
      if (!(state in total)) continue;
      total[state] += n;
      (names[name] ??= zeroCounts())[state] += n;
    }
    return { total, names };
  }

  /** Deletes finished jobs past their retention now (the worker also does it every few minutes). */
  prune(): Promise<number> {
    return this.runner.prune();
  }

  /** Stops claiming, lets running jobs finish within the grace period, releases the rest. */
  close(): Promise<void> {
    return this.runner.close();
  }
}
