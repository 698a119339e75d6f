/**
 * The unit of work, Basalt's one transaction API: one database transaction plus the callbacks to
 * run just before it commits (still inside it: outbox rows, checks that span several writes),
 * once it has committed, or once it has rolled back. After-commit work (cache invalidation,
 * realtime, webhooks, deleting replaced files) must never observe a rolled-back write, so it is
 * queued here instead of being called inline. Rollback work undoes what lives outside the
 * database (files a write stored): the database undoes itself, storage does not.
 *
 * Nested calls join the outer unit: their callbacks run when the outermost one ends.
 * `Database.transaction` is the port's primitive underneath; core code uses `transact`.
 */
import type { Database, Logger } from '../ports.js';

export interface Tx {
  readonly db: Database;
  /**
   * Runs `fn` inside the transaction once its work is done, just before the commit, in the order
   * registered (a callback may register more). A callback that throws rolls the whole unit back.
   */
  beforeCommit(fn: () => void | Promise<void>): void;
  /** Runs `fn` after the outermost transaction commits; dropped on rollback. */
  afterCommit(fn: () => void | Promise<void>): void;
  /**
   * Runs `fn` after the outermost transaction rolls back (any error out of it, the commit's own
   * included); dropped on commit. A write sharing an outer transaction (a batch) registers here,
   * so a later failure of the batch still undoes what this write stored.
   */
  onRollback(fn: () => void | Promise<void>): void;
}

type Callback = () => void | Promise<void>;

/** Runs every callback; a failing one is logged, never thrown (the outcome is already decided). */
async function runAll(callbacks: Callback[], logger: Logger | undefined, what: string): Promise<void> {
  for (const cb of callbacks) {
    try {
      await cb();
    } catch (err) {
      logger?.error({ err }, what);
    }
  }
}

/** Runs `fn` in a transaction (or inside `outer`, joining it), then the after-commit or rollback callbacks. */
export async function transact<T>(db: Database, fn: (tx: Tx) => Promise<T>, outer?: Tx, logger?: Logger): Promise<T> {
  if (outer) return fn(outer);
  const beforeCommit: Callback[] = [];
  const committed: Callback[] = [];
  const rolledBack: Callback[] = [];
  let result: T;
  try {
    result = await db.transaction(async (txDb) => {
      const tx: Tx = {
        db: txDb,
        beforeCommit: (cb) => beforeCommit.push(cb),
        afterCommit: (cb) => committed.push(cb),
        onRollback: (cb) => rolledBack.push(cb),
      };
      const value = await fn(tx);
      // Indexed, not iterated: a callback may queue more.
      for (let i = 0; i < beforeCommit.length; i++) await beforeCommit[i]!();
      return value;
    });
  } catch (err) {
    await runAll(rolledBack, logger, 'rollback handler failed');
    throw err;
  }
  // The write is committed: a failing consumer must not turn it into an error response.
  await runAll(committed, logger, 'after-commit handler failed');
  return result;
}
