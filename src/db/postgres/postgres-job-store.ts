/**
 * The job queue's SQL on PostgreSQL (core/jobs/job-store.ts), shared by every node of a cluster:
 * claims take `FOR UPDATE SKIP LOCKED` rows, so concurrent workers never claim the same job and
 * never wait on each other's rows. An enqueue sends `NOTIFY basalt_jobs` in its own statement
 * (delivered when its transaction commits, never for a rollback); each node LISTENs on one
 * dedicated connection (a pooled one would be handed to other queries) and reconnects when it drops.
 */
import { JOB_INDEXES, PENDING_WITH_KEY } from '../job-indexes.js';
import { addMissingJobColumns, JOB_TRACE_COLUMN_SQL } from '../job-columns.js';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import type { ClaimedJob, ClaimRequest, JobCount, JobOutcome, JobRow, JobStore, NewJob } from '../../core/jobs/job-store.js';
import type { Database } from '../../core/ports.js';

export const JOBS_CHANNEL = 'basalt_jobs';

const T = '"_jobs"';
const TEXT = `TEXT COLLATE "C" NOT NULL DEFAULT ''`;
const PENDING = PENDING_WITH_KEY;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${T} (
    "id" TEXT COLLATE "C" PRIMARY KEY,
    "name" TEXT COLLATE "C" NOT NULL,
    "payload" TEXT NOT NULL DEFAULT 'null',
    "state" TEXT COLLATE "C" NOT NULL DEFAULT 'queued',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "runAt" ${TEXT},
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 1,
    "lockedBy" ${TEXT},
    "lockedUntil" ${TEXT},
    "lastError" ${TEXT},
    "lastStack" ${TEXT},
    "key" ${TEXT},
    "created" ${TEXT},
    "updated" ${TEXT},
    "finished" ${TEXT},
    ${JOB_TRACE_COLUMN_SQL}
  )`,
  ...JOB_INDEXES,
];

const INSERT_COLUMNS = `("id", "name", "payload", "state", "priority", "runAt", "attempts", "maxAttempts", "key", "created", "updated", "trace") VALUES ($1, $2, $3, 'queued', $4, $5, 0, $6, $7, $8, $8, $10)`;
/** The NOTIFY rides on the insert: one round trip, and only when a row was inserted. */
const insertAndNotify = (conflict: string) =>
  `WITH "ins" AS (INSERT INTO ${T} ${INSERT_COLUMNS} ${conflict} RETURNING *) SELECT "ins".*, pg_notify('${JOBS_CHANNEL}', $9) AS "_notified" FROM "ins"`;
const INSERT = insertAndNotify('');
const INSERT_KEYED = insertAndNotify(`ON CONFLICT ("key") WHERE ${PENDING} DO NOTHING`);
const PENDING_BY_KEY = `SELECT * FROM ${T} WHERE "key" = $1 AND "state" IN ('queued', 'running')`;
/** Many keyless jobs in one statement (arrays of columns), with one NOTIFY per job name. */
const INSERT_MANY = `WITH "ins" AS (INSERT INTO ${T} ("id", "name", "payload", "state", "priority", "runAt", "attempts", "maxAttempts", "key", "created", "updated", "trace")
  SELECT u."id", u."name", u."payload", 'queued', u."priority", u."runAt", 0, u."maxAttempts", '', u."created", u."created", u."trace"
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $9::text[]) AS u("id", "name", "payload", "priority", "runAt", "maxAttempts", "created", "trace")
  RETURNING "name")
  SELECT pg_notify('${JOBS_CHANNEL}', 'w|' || $8 || '|' || "name") FROM (SELECT DISTINCT "name" FROM "ins") AS n`;
const CLAIM = `UPDATE ${T} AS j SET "state" = 'running', "attempts" = j."attempts" + 1, "lockedBy" = $1, "lockedUntil" = $2, "updated" = $3
  FROM (SELECT "id" FROM ${T} WHERE "name" = $4 AND "state" = 'queued' AND "runAt" <= $3 ORDER BY "priority" DESC, "runAt", "id" LIMIT $5 FOR UPDATE SKIP LOCKED) AS s
  WHERE j."id" = s."id" RETURNING j."id", j."name", j."payload", j."attempts", j."maxAttempts", j."trace"`;
const COMPLETE = `UPDATE ${T} AS j SET "state" = 'completed', "lockedBy" = '', "lockedUntil" = '', "updated" = $1, "finished" = $1
  FROM unnest($2::text[], $3::int[]) AS u("id", "attempts") WHERE j."id" = u."id" AND j."attempts" = u."attempts" AND j."state" = 'running'`;
const THIS_ATTEMPT = `"id" = $1 AND "attempts" = $2 AND "state" = 'running'`;
const RETRY_LATER = `UPDATE ${T} SET "state" = 'queued', "runAt" = $3, "lockedBy" = '', "lockedUntil" = '', "lastError" = $4, "lastStack" = $5, "updated" = $6 WHERE ${THIS_ATTEMPT}`;
const FAIL = `UPDATE ${T} SET "state" = 'failed', "lockedBy" = '', "lockedUntil" = '', "lastError" = $3, "lastStack" = $4, "updated" = $5, "finished" = $5 WHERE ${THIS_ATTEMPT}`;
const EXTEND = `UPDATE ${T} SET "lockedUntil" = $3, "updated" = $4 WHERE ${THIS_ATTEMPT} RETURNING "id"`;
const RELEASE = `UPDATE ${T} AS j SET "state" = 'queued', "attempts" = j."attempts" - 1, "runAt" = $1, "lockedBy" = '', "lockedUntil" = '', "updated" = $1
  FROM unnest($2::text[], $3::int[]) AS u("id", "attempts") WHERE j."id" = u."id" AND j."attempts" = u."attempts" AND j."state" = 'running'`;
const LEASE_LOST = `'lease expired: the worker stopped without finishing attempt ' || j."attempts"`;
const REAP = `UPDATE ${T} AS j SET
    "state" = CASE WHEN j."attempts" >= j."maxAttempts" THEN 'failed' ELSE 'queued' END,
    "finished" = CASE WHEN j."attempts" >= j."maxAttempts" THEN $1 ELSE '' END,
    "runAt" = CASE WHEN j."attempts" >= j."maxAttempts" THEN j."runAt" ELSE $1 END,
    "lockedBy" = '', "lockedUntil" = '', "lastError" = ${LEASE_LOST}, "lastStack" = '', "updated" = $1
  FROM (SELECT "id" FROM ${T} WHERE "state" = 'running' AND "lockedUntil" < $1 LIMIT $2 FOR UPDATE SKIP LOCKED) AS s
  WHERE j."id" = s."id"`;
const NEXT_DUE = `SELECT
    (SELECT MIN(q."runAt") FROM unnest($1::text[]) AS n("name"),
       LATERAL (SELECT "runAt" FROM ${T} WHERE "state" = 'queued' AND "name" = n."name" ORDER BY "runAt" LIMIT 1) AS q) AS "queued",
    (SELECT MIN("lockedUntil") FROM ${T} WHERE "state" = 'running' AND "name" = ANY($1::text[])) AS "lease"`;
const PRUNE = `DELETE FROM ${T} WHERE "id" IN (SELECT "id" FROM ${T} WHERE "state" = $1 AND "finished" < $2 LIMIT $3)`;
const GET = `SELECT * FROM ${T} WHERE "id" = $1`;
const CANCEL = `UPDATE ${T} SET "state" = 'cancelled', "lockedBy" = '', "lockedUntil" = '', "updated" = $1, "finished" = $1 WHERE "id" = $2 AND "state" IN ('queued', 'running') RETURNING *`;
const RETRY = `UPDATE ${T} SET "state" = 'queued', "attempts" = 0, "runAt" = $1, "lockedBy" = '', "lockedUntil" = '', "updated" = $1, "finished" = '' WHERE "id" = $2 AND "state" IN ('failed', 'cancelled') RETURNING *`;
const COUNTS = `SELECT "name", "state", COUNT(*) AS "count" FROM ${T} GROUP BY "name", "state"`;

const RECONNECT_MS = 1000;

export class PostgresJobStore implements JobStore {
  /** `db`: the root database (its pool) for the queue's own statements; `url`: for the LISTEN connection. */
  constructor(
    private readonly db: () => Database,
    private readonly url: string,
  ) {}

  async ensureSchema(db: Database): Promise<void> {
    for (const statement of SCHEMA) await db.query(statement, []);
    await addMissingJobColumns(db);
  }

  async insertMany(db: Database, jobs: readonly NewJob[], origin: string): Promise<void> {
    if (jobs.length === 0) return;
    const col = <K extends keyof NewJob>(k: K) => jobs.map((j) => j[k]);
    await db.query(INSERT_MANY, [col('id'), col('name'), col('payload'), col('priority'), col('runAt'), col('maxAttempts'), col('created'), origin, col('trace')]);
  }

  async insert(db: Database, job: NewJob, origin: string): Promise<{ job: JobRow; created: boolean }> {
    const params = [job.id, job.name, job.payload, job.priority, job.runAt, job.maxAttempts, job.key, job.created, `w|${origin}|${job.name}`, job.trace];
    const strip = (row: JobRow & { _notified?: unknown }): JobRow => {
      delete row._notified;
      return row;
    };
    if (job.key === '') return { job: strip((await db.query<JobRow>(INSERT, params))[0]), created: true };
    for (let i = 0; i < 3; i++) {
      const inserted = await db.query<JobRow>(INSERT_KEYED, params);
      if (inserted.length > 0) return { job: strip(inserted[0]), created: true };
      const existing = await db.query<JobRow>(PENDING_BY_KEY, [job.key]);
      if (existing.length > 0) return { job: existing[0], created: false };
    }
    throw new Error(`cannot enqueue job "${job.name}": its key "${job.key}" keeps changing hands`);
  }

  async claim(requests: readonly ClaimRequest[], worker: string, now: string): Promise<ClaimedJob[]> {
    const batches = await Promise.all(requests.map((r) => this.db().query<ClaimedJob>(CLAIM, [worker, r.lockedUntil, now, r.name, r.limit])));
    return batches.flat();
  }

  async finish(outcomes: readonly JobOutcome[], now: string): Promise<void> {
    const done = outcomes.filter((o) => o.kind === 'completed');
    const writes: Promise<unknown>[] = [];
    if (done.length > 0) writes.push(this.db().query(COMPLETE, [now, done.map((o) => o.id), done.map((o) => o.attempt)]));
    for (const o of outcomes) {
      if (o.kind === 'retry') writes.push(this.db().query(RETRY_LATER, [o.id, o.attempt, o.runAt, o.error, o.stack, now]));
      else if (o.kind === 'failed') writes.push(this.db().query(FAIL, [o.id, o.attempt, o.error, o.stack, now]));
    }
    await Promise.all(writes);
  }

  async extendLease(id: string, attempt: number, lockedUntil: string, now: string): Promise<boolean> {
    return (await this.db().query(EXTEND, [id, attempt, lockedUntil, now])).length > 0;
  }

  async release(jobs: readonly { id: string; attempt: number }[], now: string): Promise<void> {
    await this.db().query(RELEASE, [now, jobs.map((j) => j.id), jobs.map((j) => j.attempt)]);
  }

  async reapExpired(now: string, limit: number): Promise<number> {
    const result = await this.db().kysely.executeQuery(CompiledQuery.raw(REAP, [now, limit]));
    return Number(result.numAffectedRows ?? 0);
  }

  async nextDue(names: readonly string[]): Promise<{ queued: string; lease: string }> {
    const [row] = await this.db().query<{ queued: string | null; lease: string | null }>(NEXT_DUE, [names]);
    return { queued: row?.queued ?? '', lease: row?.lease ?? '' };
  }

  async prune(state: string, before: string, limit: number): Promise<number> {
    const result = await this.db().kysely.executeQuery(CompiledQuery.raw(PRUNE, [state, before, limit]));
    return Number(result.numAffectedRows ?? 0);
  }

  async get(id: string): Promise<JobRow | null> {
    return (await this.db().query<JobRow>(GET, [id]))[0] ?? null;
  }

  async cancel(id: string, now: string): Promise<JobRow | null> {
    return (await this.db().query<JobRow>(CANCEL, [now, id]))[0] ?? null;
  }

  async retry(id: string, now: string): Promise<JobRow | null> {
    return (await this.db().query<JobRow>(RETRY, [now, id]))[0] ?? null;
  }

  async counts(): Promise<JobCount[]> {
    return this.db().query<JobCount>(COUNTS, []);
  }

  async broadcast(message: string): Promise<void> {
    await this.db().query(`SELECT pg_notify('${JOBS_CHANNEL}', $1)`, [message]);
  }

  /**
   * LISTEN on a dedicated connection. When it drops, it reconnects every second and then
   * announces a wake-up for every job name (`w||*`): notifications sent meanwhile were lost.
   */
  async listen(onMessage: (message: string) => void): Promise<() => Promise<void>> {
    let client: pg.Client | null = null;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.url });
      c.on('notification', (n) => {
        if (n.channel === JOBS_CHANNEL && n.payload) onMessage(n.payload);
      });
      c.on('error', () => reconnect(c));
      c.on('end', () => reconnect(c));
      await c.connect();
      await c.query(`LISTEN ${JOBS_CHANNEL}`);
      if (stopped) {
        await c.end().catch(() => {});
        return;
      }
      client = c;
    };
    const retry = () => {
      timer = setTimeout(() => {
        timer = null;
        if (stopped) return;
        connect().then(
          () => onMessage('w||*'),
          () => retry(),
        );
      }, RECONNECT_MS);
    };
    const reconnect = (c: pg.Client) => {
      if (stopped || client !== c || timer) return;
      client = null;
      c.end().catch(() => {});
      retry();
    };
    // Not reachable now: poll meanwhile, and keep trying.
    await connect().catch(() => retry());
    return async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    };
  }
}
