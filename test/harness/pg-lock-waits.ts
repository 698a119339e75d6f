/**
 * For the PostgreSQL tests that build a lock cycle on purpose (a deadlock's victim): waits until
 * some session of the test's database waits for a lock, i.e. the statement under test is blocked
 * on the hand-made transaction, so the test's next statement closes the cycle.
 *
 * @param watcher a connection of its own, outside any transaction (pg_stat_activity is read once
 *   per transaction).
 */
import type pg from 'pg';

export async function untilSomeoneWaitsForALock(watcher: pg.Client, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await watcher.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error(`${what} never waited for a lock within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
