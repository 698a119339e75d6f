/**
 * The JobStore port: the SQL the job queue needs, implemented once per engine in db/
 * (`sqlite-job-store.ts`, `postgres-job-store.ts`). Every time it receives is API-format text
 * (`2024-01-31 12:00:00.123Z`, see time.ts) computed from the queue's Clock, so a manual clock
 * drives due times and leases on both engines, and times sort as text.
 */
import type { Database } from '../ports.js';
import type { StoredTrace } from '../tracing/tracing.js';

export const JOBS_TABLE = '_jobs';
/**
 * The column a newer version added to `_jobs`: each engine's ensureSchema adds it to a table made
 * before it (nullable, no default: on both engines adding it rewrites no row).
 */
export const JOB_TRACE_COLUMN = 'trace';

/** queued → running → completed | failed (dead letter) | queued again (retry); cancelled by an operator. */
export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

/** One row of `_jobs`. Empty text means "none" for key, lockedBy, lockedUntil, lastError, lastStack, finished. */
export interface JobRow {
  id: string;
  name: string;
  /** JSON text. */
  payload: string;
  state: JobState;
  /** Higher runs first. */
  priority: number;
  /** Not before this time. */
  runAt: string;
  /** Attempts started so far (a claim counts one). */
  attempts: number;
  maxAttempts: number;
  /** The worker (node) running it. */
  lockedBy: string;
  /** Its lease: past this time another worker may take it again. */
  lockedUntil: string;
  lastError: string;
  lastStack: string;
  /** De-duplication key: at most one pending (queued or running) job per non-empty key. */
  key: string;
  created: string;
  updated: string;
  finished: string;
  /** The enqueuer's span context when tracing was on and a span active (README "Tracing"); null otherwise. */
  trace: StoredTrace | null;
}

/** What enqueue writes. */
export interface NewJob {
  id: string;
  name: string;
  payload: string;
  priority: number;
  runAt: string;
  maxAttempts: number;
  key: string;
  created: string;
  /** The active span's context at enqueue time; null when tracing is off or no span is active. */
  trace: StoredTrace | null;
}

/** A job a worker has just claimed (its `attempts` is the attempt now starting). */
export interface ClaimedJob {
  id: string;
  name: string;
  payload: string;
  attempts: number;
  maxAttempts: number;
  /** The span context it was enqueued under: the parent of its attempt's span. */
  trace: StoredTrace | null;
}

/** What a claim asks for, per job name: at most `limit` due jobs, leased until `lockedUntil`. */
export interface ClaimRequest {
  name: string;
  limit: number;
  lockedUntil: string;
}

/**
 * The end of one attempt. Every outcome applies only while the row is still this attempt's
 * (`state = 'running' AND attempts = attempt`): a job cancelled meanwhile, or retaken by another
 * worker after its lease expired, is left alone.
 */
export type JobOutcome =
  | { kind: 'completed'; id: string; attempt: number }
  | { kind: 'retry'; id: string; attempt: number; runAt: string; error: string; stack: string }
  | { kind: 'failed'; id: string; attempt: number; error: string; stack: string };

/** Counts by job name and state. */
export interface JobCount {
  name: string;
  state: JobState;
  count: number;
}

export interface JobStore {
  /** Creates `_jobs` and its indexes when missing, and adds the columns an earlier version lacked (inside the start-up transaction `db`). */
  ensureSchema(db: Database): Promise<void>;
  /**
   * Inserts `job` through `db` (a transaction's database: the job commits or rolls back with
   * it). With a key, when a pending job already holds it, inserts nothing and returns that job
   * (`created: false`). `origin` identifies the enqueuing node in the wake-up message (PostgreSQL
   * sends a NOTIFY in the same transaction, delivered at commit).
   */
  insert(db: Database, job: NewJob, origin: string): Promise<{ job: JobRow; created: boolean }>;
  /** Adds many jobs without de-duplication keys in as few statements as the engine allows (a relay's batch); nothing returned. */
  insertMany(db: Database, jobs: readonly NewJob[], origin: string): Promise<void>;
  /** Claims due queued jobs of each name (`FOR UPDATE SKIP LOCKED` on PostgreSQL), highest priority first. */
  claim(requests: readonly ClaimRequest[], worker: string, now: string): Promise<ClaimedJob[]>;
  /** Records the end of attempts, batched. */
  finish(outcomes: readonly JobOutcome[], now: string): Promise<void>;
  /** Moves the lease of a running attempt; false when the attempt is no longer running (cancelled, retaken). */
  extendLease(id: string, attempt: number, lockedUntil: string, now: string): Promise<boolean>;
  /** Shutdown: running attempts back to queued, due now, the attempt not counted. */
  release(jobs: readonly { id: string; attempt: number }[], now: string): Promise<void>;
  /**
   * Running jobs whose lease ended before `now` (their worker died): back to queued, or failed
   * when that was their last attempt. Returns how many rows changed.
   */
  reapExpired(now: string, limit: number): Promise<number>;
  /** The earliest runAt of a queued job and lockedUntil of a running one among `names` ('' for none). */
  nextDue(names: readonly string[]): Promise<{ queued: string; lease: string }>;
  /** Deletes at most `limit` jobs in `state` finished before `before`; returns how many. */
  prune(state: 'completed' | 'failed' | 'cancelled', before: string, limit: number): Promise<number>;
  get(id: string): Promise<JobRow | null>;
  /** A queued or running job → cancelled; null when there is no such job in those states. */
  cancel(id: string, now: string): Promise<JobRow | null>;
  /** A failed or cancelled job → queued (attempts reset, due now); null when there is none in those states. */
  retry(id: string, now: string): Promise<JobRow | null>;
  counts(): Promise<JobCount[]>;
  /**
   * Receives the wake-up and cancel messages of every node (PostgreSQL: LISTEN on a dedicated
   * connection, reconnecting; SQLite has one node: returns a no-op). Resolves once listening.
   */
  listen(onMessage: (message: string) => void): Promise<() => Promise<void>>;
  /** Sends a message to every node's listener (PostgreSQL NOTIFY; SQLite: nothing). */
  broadcast(message: string): Promise<void>;
}
