/** The indexes of `_jobs`, the same SQL on SQLite and PostgreSQL (partial indexes on both). */

/** A job holding its de-duplication key: queued or running, with a key. */
export const PENDING_WITH_KEY = `"key" <> '' AND "state" IN ('queued', 'running')`;

export const JOB_INDEXES: readonly string[] = [
  // The claim order of queued jobs, and their earliest due time per name.
  `CREATE INDEX IF NOT EXISTS "_jobs_claim" ON "_jobs" ("name", "priority" DESC, "runAt", "id") WHERE "state" = 'queued'`,
  `CREATE INDEX IF NOT EXISTS "_jobs_due" ON "_jobs" ("name", "runAt") WHERE "state" = 'queued'`,
  `CREATE INDEX IF NOT EXISTS "_jobs_lease" ON "_jobs" ("lockedUntil") WHERE "state" = 'running'`,
  `CREATE UNIQUE INDEX IF NOT EXISTS "_jobs_key" ON "_jobs" ("key") WHERE ${PENDING_WITH_KEY}`,
  // Finished jobs only (pruning): a claim or a retry adds no entry here.
  `CREATE INDEX IF NOT EXISTS "_jobs_finished" ON "_jobs" ("state", "finished") WHERE "state" IN ('completed', 'failed', 'cancelled')`,
  // The API list's default order (-created).
  `CREATE INDEX IF NOT EXISTS "_jobs_created" ON "_jobs" ("created")`,
];
