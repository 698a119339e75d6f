/**
 * A unit of work: one database transaction plus the callbacks to run once it has committed.
 * After-commit work (cache invalidation, realtime, webhooks) must never observe a rolled-back
 * write, so it is queued here instead of being called inline.
 */
import type { Database, Logger } from '../ports.js';

export interface Tx {
  readonly db: Database;
  /** Runs `fn` after the outermost transaction commits; dropped on rollback. */
  afterCommit(fn: () => void | Promise<void>): void;
}

/** Runs `fn` in a transaction (or inside `outer`, joining it), then the after-commit callbacks. */
export async function transact<T>(db: Database, fn: (tx: Tx) => Promise<T>, outer?: Tx, logger?: Logger): Promise<T> {
  if (outer) return fn(outer);
  const callbacks: (() => void | Promise<void>)[] = [];
  const result = await db.transaction((txDb) => fn({ db: txDb, afterCommit: (cb) => callbacks.push(cb) }));
  for (const cb of callbacks) {
    try {
      await cb();
    } catch (err) {
      // The write is committed: a failing consumer must not turn it into an error response.
      logger?.error({ err }, 'after-commit handler failed');
    }
  }
  return result;
}
