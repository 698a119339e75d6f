/**
 * Queries compiled once with slots (core/compiled-query.ts): every place a slot's value goes is
 * filled at each run, the other parameters stay, and a slot the query lost is an error, not a
 * statement run with a placeholder object for a value.
 */
import { DummyDriver, Kysely, sql, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import { bindSlots, compileSlotted, Slot } from '../../src/core/compiled-query.js';
import type { Database } from '../../src/core/ports.js';

const kysely = new Kysely<any>({
  dialect: { createAdapter: () => new SqliteAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new SqliteIntrospector(db), createQueryCompiler: () => new SqliteQueryCompiler() },
});
const db = { kysely } as unknown as Database;

describe('compileSlotted', () => {
  it('fills each slot everywhere it is used and keeps the fixed parameters', () => {
    const [a, limit] = [new Slot('a'), new Slot('limit')];
    const query = compileSlotted(db, sql`SELECT * FROM t WHERE k = ${'fixed'} AND x >= ${a} AND (x, y) > (${a}, ${2}) LIMIT ${limit}`, [limit, a]);
    expect(query.text).toBe('SELECT * FROM t WHERE k = ? AND x >= ? AND (x, y) > (?, ?) LIMIT ?');
    expect(bindSlots(query, [20, 'v1'])).toEqual(['fixed', 'v1', 'v1', 2, 20]);
    expect(bindSlots(query, [5, 'v2'])).toEqual(['fixed', 'v2', 'v2', 2, 5]);
    // The template itself is not changed by a run.
    expect(query.params[1]).toBe(a);
  });

  it('refuses a query that does not use one of its slots', () => {
    expect(() => compileSlotted(db, sql`SELECT 1 LIMIT ${10}`, [new Slot('limit')])).toThrow(/no parameter for the slot "limit"/);
  });
});
