/** transact(): after-commit and rollback callbacks, and joining an outer transaction. */
import { describe, expect, it } from 'vitest';
import { transact } from '../../src/core/events/transaction.js';
import type { Database } from '../../src/core/ports.js';

/** A database whose transaction runs `fn` and then fails the commit when told to. */
function fakeDb(commitFails = false): Database {
  const db = {
    async transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
      const result = await fn(db as unknown as Database);
      if (commitFails) throw new Error('commit failed');
      return result;
    },
  };
  return db as unknown as Database;
}

describe('transact', () => {
  it('runs after-commit callbacks on commit, never the rollback ones', async () => {
    const log: string[] = [];
    await transact(fakeDb(), async (tx) => {
      tx.afterCommit(() => void log.push('commit'));
      tx.onRollback(() => void log.push('rollback'));
    });
    expect(log).toEqual(['commit']);
  });

  it('runs rollback callbacks when the work throws, and rethrows', async () => {
    const log: string[] = [];
    await expect(
      transact(fakeDb(), async (tx) => {
        tx.afterCommit(() => void log.push('commit'));
        tx.onRollback(() => void log.push('rollback'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(log).toEqual(['rollback']);
  });

  it('runs rollback callbacks when the commit itself fails', async () => {
    const log: string[] = [];
    await expect(transact(fakeDb(true), async (tx) => tx.onRollback(() => void log.push('rollback')))).rejects.toThrow('commit failed');
    expect(log).toEqual(['rollback']);
  });

  it('a write joining an outer transaction registers on it: a later failure of the outer one rolls it back', async () => {
    const log: string[] = [];
    await expect(
      transact(fakeDb(), async (outer) => {
        await transact(fakeDb(), async (tx) => tx.onRollback(() => void log.push('inner rollback')), outer);
        expect(log).toEqual([]);
        throw new Error('later request failed');
      }),
    ).rejects.toThrow('later request failed');
    expect(log).toEqual(['inner rollback']);
  });

  it('a failing rollback callback does not hide the error nor stop the others', async () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (obj: object) => void errors.push(obj) };
    await expect(
      transact(
        fakeDb(),
        async (tx) => {
          tx.onRollback(() => {
            throw new Error('cleanup failed');
          });
          tx.onRollback(() => void log.push('second'));
          throw new Error('boom');
        },
        undefined,
        logger,
      ),
    ).rejects.toThrow('boom');
    expect(log).toEqual(['second']);
    expect(errors).toHaveLength(1);
  });
});
