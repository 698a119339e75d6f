/** The public shapes of the job queue: handlers, definition and enqueue options, the job as the API shows it. */
import type { JobRow } from './job-store.js';

/** What a handler receives for one attempt. */
export interface JobContext<P = unknown> {
  id: string;
  name: string;
  /** The payload as enqueued (JSON round-tripped). */
  payload: P;
  /** 1 for the first attempt. */
  attempt: number;
  /**
   * Aborted when the attempt times out, when the job is cancelled, and at shutdown once the grace
   * period is over. Pass it to fetch() and friends; a handler that ignores it keeps its slot.
   */
  signal: AbortSignal;
  /**
   * Gives the attempt `ms` more milliseconds from now: moves both its timeout and its lease.
   * Rejects (and aborts `signal`) when the job is no longer this attempt's (cancelled, or retaken
   * after an expired lease).
   */
  extendLease(ms: number): Promise<void>;
}

export type JobHandler<P = any> = (job: JobContext<P>) => Promise<unknown>;

/** `{ baseMs, maxMs }`: attempt n waits a random time in [d/2, d] with d = min(maxMs, baseMs·2^(n-1)); or a function of the attempt that failed. */
export type Backoff = { baseMs?: number; maxMs?: number } | ((attempt: number) => number);

export interface JobDefinitionOptions {
  /** Attempts of this job name running at once on this node; 0: this node enqueues it but leaves running it to other nodes. @default 1 */
  concurrency?: number;
  /** Attempts before the job is kept as failed (dead letter). @default 3 */
  maxAttempts?: number;
  /** Delay before a retry. @default { baseMs: 1000, maxMs: 3_600_000 } */
  backoff?: Backoff;
  /**
   * An attempt's time limit in ms: past it the signal aborts and the attempt counts as failed.
   * The lease is the timeout plus a margin (a tenth of it, between 1 s and 30 s): a job whose node
   * died is taken again after that. @default 300_000 (5 minutes)
   */
  timeout?: number;
}

export interface EnqueueOptions {
  /** Not before this time (a Date, or ms since the epoch). Exclusive with `delay`. */
  runAt?: Date | number;
  /** Not before `delay` ms from now. @default 0 */
  delay?: number;
  /** Higher runs first among due jobs of the same name (an integer). @default 0 */
  priority?: number;
  /** De-duplication: while a job with this key is queued or running, enqueue returns it instead of adding one. */
  key?: string;
  /** Overrides the definition's maxAttempts for this job. */
  maxAttempts?: number;
}

/** A job as the API and `enqueue` return it: its row, with the payload parsed (the span context stays internal). */
export type JobJson = Omit<JobRow, 'payload' | 'trace'> & { payload: unknown };
