import type BetterSqlite3 from 'better-sqlite3';

/**
 * One row found through the primary key or a UNIQUE constraint, with nothing else to scan or
 * join: `SEARCH t USING INDEX sqlite_autoindex_t_1 (id=?)` is the whole plan. Such a read costs
 * microseconds whatever the filter of the rule, so it stays on the main thread, where a
 * hand-off to a worker would cost more than the read (getOne, the hottest request).
 */
const POINT_PLAN = /^SEARCH \S+(?: AS \S+)? USING (?:INTEGER PRIMARY KEY|PRIMARY KEY|(?:COVERING )?INDEX sqlite_autoindex_\S+) \(\w+=\?\)$/;

const verdicts = new WeakMap<BetterSqlite3.Statement, boolean>();

/**
 * Whether `stmt` (prepared on `db` from `sql`) is such a point read; the plan is asked once per
 * cached statement, with the first call's parameters (SQLite's plan does not depend on them here).
 */
export function isPointRead(db: BetterSqlite3.Database, stmt: BetterSqlite3.Statement, sql: string, params: readonly unknown[]): boolean {
  let verdict = verdicts.get(stmt);
  if (verdict === undefined) {
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as unknown[]) as { detail: string }[];
      verdict = plan.length === 1 && POINT_PLAN.test(plan[0].detail);
    } catch {
      verdict = false;
    }
    verdicts.set(stmt, verdict);
  }
  return verdict;
}
