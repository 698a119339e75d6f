/**
 * The job queue's SQL on SQLite (core/jobs/job-store.ts). One node: the claim is an
 * `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` under the single writer's lock, so a job
 * cannot be claimed twice. Claims and outcome batches run their prepared statements directly on
 * the writer connection inside one `BEGIN IMMEDIATE` (one commit for a whole batch); enqueue goes
 * through the Database port so that it joins the caller's transaction.
 */
import { JOB_INDEXES, PENDING_WITH_KEY } from '../job-indexes.js';
import { addMissingJobColumns, JOB_TRACE_COLUMN_SQL } from '../job-columns.js';
import type { ClaimedJob, ClaimRequest, JobCount, JobOutcome, JobRow, JobStore, NewJob } from '../../core/jobs/job-store.js';
import type { Database } from '../../core/ports.js';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDriver } from './sqlite-driver.js';

const T = '"_jobs"';
const PENDING = PENDING_WITH_KEY;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${T} (
    "id" TEXT PRIMARY KEY NOT NULL,
    "name" TEXT NOT NULL,
    "payload" TEXT NOT NULL DEFAULT 'null',
    "state" TEXT NOT NULL DEFAULT 'queued',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "runAt" TEXT NOT NULL DEFAULT '',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 1,
    "lockedBy" TEXT NOT NULL DEFAULT '',
    "lockedUntil" TEXT NOT NULL DEFAULT '',
    "lastError" TEXT NOT NULL DEFAULT '',
    "lastStack" TEXT NOT NULL DEFAULT '',
    "key" TEXT NOT NULL DEFAULT '',
    "created" TEXT NOT NULL DEFAULT '',
    "updated" TEXT NOT NULL DEFAULT '',
    "finished" TEXT NOT NULL DEFAULT '',
    ${JOB_TRACE_COLUMN_SQL}
  )`,
  ...JOB_INDEXES,
];

const INSERT_COLUMNS = `("id", "name", "payload", "state", "priority", "runAt", "attempts", "maxAttempts", "key", "created", "updated", "trace") VALUES (?, ?, ?, 'queued', ?, ?, 0, ?, ?, ?, ?, ?)`;
const INSERT = `INSERT INTO ${T} ${INSERT_COLUMNS} RETURNING *`;
const INSERT_PLAIN = `INSERT INTO ${T} ${INSERT_COLUMNS}`;
const INSERT_KEYED = `INSERT INTO ${T} ${INSERT_COLUMNS} ON CONFLICT ("key") WHERE ${PENDING} DO NOTHING RETURNING *`;
const PENDING_BY_KEY = `SELECT * FROM ${T} WHERE "key" = ? AND "state" IN ('queued', 'running')`;
const CLAIM = `UPDATE ${T} SET "state" = 'running', "attempts" = "attempts" + 1, "lockedBy" = ?, "lockedUntil" = ?, "updated" = ?
  WHERE "id" IN (SELECT "id" FROM ${T} WHERE "name" = ? AND "state" = 'queued' AND "runAt" <= ? ORDER BY "priority" DESC, "runAt", "id" LIMIT ?)
  RETURNING "id", "name", "payload", "attempts", "maxAttempts", "trace"`;
const THIS_ATTEMPT = `"id" = ? AND "attempts" = ? AND "state" = 'running'`;
const COMPLETE = `UPDATE ${T} SET "state" = 'completed', "lockedBy" = '', "lockedUntil" = '', "updated" = ?, "finished" = ? WHERE ${THIS_ATTEMPT}`;
const RETRY_LATER = `UPDATE ${T} SET "state" = 'queued', "runAt" = ?, "lockedBy" = '', "lockedUntil" = '', "lastError" = ?, "lastStack" = ?, "updated" = ? WHERE ${THIS_ATTEMPT}`;
const FAIL = `UPDATE ${T} SET "state" = 'failed', "lockedBy" = '', "lockedUntil" = '', "lastError" = ?, "lastStack" = ?, "updated" = ?, "finished" = ? WHERE ${THIS_ATTEMPT}`;
const EXTEND = `UPDATE ${T} SET "lockedUntil" = ?, "updated" = ? WHERE ${THIS_ATTEMPT}`;
const RELEASE = `UPDATE ${T} SET "state" = 'queued', "attempts" = "attempts" - 1, "runAt" = ?, "lockedBy" = '', "lockedUntil" = '', "updated" = ? WHERE ${THIS_ATTEMPT}`;
const EXPIRED = `SELECT "id" FROM ${T} WHERE "state" = 'running' AND "lockedUntil" < ? LIMIT ?`;
const LEASE_LOST = `'lease expired: the worker stopped without finishing attempt ' || "attempts"`;
const REAP_FAIL = `UPDATE ${T} SET "state" = 'failed', "lockedBy" = '', "lockedUntil" = '', "lastError" = ${LEASE_LOST}, "lastStack" = '', "updated" = ?, "finished" = ?
  WHERE "id" IN (${EXPIRED}) AND "attempts" >= "maxAttempts"`;
const REAP_REQUEUE = `UPDATE ${T} SET "state" = 'queued', "runAt" = ?, "lockedBy" = '', "lockedUntil" = '', "lastError" = ${LEASE_LOST}, "lastStack" = '', "updated" = ?
  WHERE "id" IN (${EXPIRED})`;
const NEXT_QUEUED = `SELECT MIN("runAt") AS "at" FROM ${T} WHERE "state" = 'queued' AND "name" = ?`;
const NEXT_LEASE = `SELECT MIN("lockedUntil") AS "at" FROM ${T} WHERE "state" = 'running' AND "name" = ?`;
const PRUNE = `DELETE FROM ${T} WHERE "id" IN (SELECT "id" FROM ${T} WHERE "state" = ? AND "finished" < ? LIMIT ?)`;
const GET = `SELECT * FROM ${T} WHERE "id" = ?`;
const CANCEL = `UPDATE ${T} SET "state" = 'cancelled', "lockedBy" = '', "lockedUntil" = '', "updated" = ?, "finished" = ? WHERE "id" = ? AND "state" IN ('queued', 'running') RETURNING *`;
const RETRY = `UPDATE ${T} SET "state" = 'queued', "attempts" = 0, "runAt" = ?, "lockedBy" = '', "lockedUntil" = '', "updated" = ?, "finished" = '' WHERE "id" = ? AND "state" IN ('failed', 'cancelled') RETURNING *`;
const COUNTS = `SELECT "name", "state", COUNT(*) AS "count" FROM ${T} GROUP BY "name", "state"`;

export class SqliteJobStore implements JobStore {
  constructor(private readonly driver: SqliteDriver) {}

  async ensureSchema(db: Database): Promise<void> {
    for (const statement of SCHEMA) await db.query(statement, []);
    await addMissingJobColumns(db);
  }

  async insertMany(db: Database, jobs: readonly NewJob[]): Promise<void> {
    // One prepared statement run per row: on SQLite a statement costs microseconds, the commit is what counts.
    for (const job of jobs) await db.query(INSERT_PLAIN, [job.id, job.name, job.payload, job.priority, job.runAt, job.maxAttempts, '', job.created, job.created, job.trace]);
  }

  async insert(db: Database, job: NewJob): Promise<{ job: JobRow; created: boolean }> {
    const params = [job.id, job.name, job.payload, job.priority, job.runAt, job.maxAttempts, job.key, job.created, job.created, job.trace];
    if (job.key === '') return { job: (await db.query<JobRow>(INSERT, params))[0], created: true };
    // A pending job with the key may finish between the two statements: then insert again.
    for (let i = 0; i < 3; i++) {
      const inserted = await db.query<JobRow>(INSERT_KEYED, params);
      if (inserted.length > 0) return { job: inserted[0], created: true };
      const existing = await db.query<JobRow>(PENDING_BY_KEY, [job.key]);
      if (existing.length > 0) return { job: existing[0], created: false };
    }
    throw new Error(`cannot enqueue job "${job.name}": its key "${job.key}" keeps changing hands`);
  }

  /**
   * A read of committed rows: the reader connection (the writer may be in the middle of another
   * request's transaction, whose rows must not show), or the writer for an in-memory database.
   */
  private read(sql: string): BetterSqlite3.Statement {
    return (this.driver.readerStatements ?? this.driver.writerStatements).get(sql);
  }

  /** Runs `fn` on the writer in one write transaction (holding the writer's lock). */
  private async write<R>(fn: (get: (sql: string) => BetterSqlite3.Statement) => R): Promise<R> {
    const driver = this.driver;
    const release = await driver.writeLock.lock();
    try {
      driver.writerStatements.get('BEGIN IMMEDIATE').run();
      try {
        const result = fn((sql) => driver.writerStatements.get(sql));
        driver.writerStatements.get('COMMIT').run();
        return result;
      } catch (err) {
        if (driver.writer.inTransaction) driver.writerStatements.get('ROLLBACK').run();
        throw err;
      }
    } finally {
      release();
    }
  }

  claim(requests: readonly ClaimRequest[], worker: string, now: string): Promise<ClaimedJob[]> {
    return this.write((get) => {
      const claimed: ClaimedJob[] = [];
      const stmt = get(CLAIM);
      for (const r of requests) claimed.push(...(stmt.all(worker, r.lockedUntil, now, r.name, now, r.limit) as ClaimedJob[]));
      return claimed;
    });
  }

  async finish(outcomes: readonly JobOutcome[], now: string): Promise<void> {
    await this.write((get) => {
      for (const o of outcomes) {
        if (o.kind === 'completed') get(COMPLETE).run(now, now, o.id, o.attempt);
        else if (o.kind === 'retry') get(RETRY_LATER).run(o.runAt, o.error, o.stack, now, o.id, o.attempt);
        else get(FAIL).run(o.error, o.stack, now, now, o.id, o.attempt);
      }
    });
  }

  extendLease(id: string, attempt: number, lockedUntil: string, now: string): Promise<boolean> {
    return this.write((get) => get(EXTEND).run(lockedUntil, now, id, attempt).changes > 0);
  }

  async release(jobs: readonly { id: string; attempt: number }[], now: string): Promise<void> {
    await this.write((get) => {
      for (const j of jobs) get(RELEASE).run(now, now, j.id, j.attempt);
    });
  }

  reapExpired(now: string, limit: number): Promise<number> {
    // A read first: the common answer is "none", which needs no write transaction.
    const expired = this.read(EXPIRED).all(now, 1);
    if (expired.length === 0) return Promise.resolve(0);
    return this.write((get) => get(REAP_FAIL).run(now, now, now, limit).changes + get(REAP_REQUEUE).run(now, now, now, limit).changes);
  }

  async nextDue(names: readonly string[]): Promise<{ queued: string; lease: string }> {
    let queued = '';
    let lease = '';
    for (const name of names) {
      const q = (this.read(NEXT_QUEUED).get(name) as { at: string | null }).at ?? '';
      const l = (this.read(NEXT_LEASE).get(name) as { at: string | null }).at ?? '';
      if (q !== '' && (queued === '' || q < queued)) queued = q;
      if (l !== '' && (lease === '' || l < lease)) lease = l;
    }
    return { queued, lease };
  }

  prune(state: string, before: string, limit: number): Promise<number> {
    return this.write((get) => get(PRUNE).run(state, before, limit).changes);
  }

  async get(id: string): Promise<JobRow | null> {
    return (this.read(GET).get(id) as JobRow | undefined) ?? null;
  }

  cancel(id: string, now: string): Promise<JobRow | null> {
    return this.write((get) => (get(CANCEL).get(now, now, id) as JobRow | undefined) ?? null);
  }

  retry(id: string, now: string): Promise<JobRow | null> {
    return this.write((get) => (get(RETRY).get(now, now, id) as JobRow | undefined) ?? null);
  }

  async counts(): Promise<JobCount[]> {
    return this.read(COUNTS).all() as JobCount[];
  }

  async listen(): Promise<() => Promise<void>> {
    return async () => {};
  }

  async broadcast(): Promise<void> {}
}
