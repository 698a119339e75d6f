/** The PostgreSQL read slots (db/postgres/read-slots.ts): slow reads leave connections free. */
import { describe, expect, it } from 'vitest';
import { ReadSlots, RESERVED_CONNECTIONS } from '../../src/db/postgres/read-slots.js';
import { QueryTimeoutError } from '../../src/db/query-timeout-error.js';

const held = () => {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { done, release };
};

describe('ReadSlots', () => {
  it(`lets pool size − ${RESERVED_CONNECTIONS} reads run at once; the next waits for a slot`, async () => {
    const slots = new ReadSlots(5, 5000);
    const running = [held(), held(), held()];
    let started = 0;
    const first = running.map((h) => slots.run(async () => (started++, h.done)));
    let fourthStarted = false;
    const fourth = slots.run(async () => void (fourthStarted = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toBe(3);
    expect(fourthStarted).toBe(false);
    running[0].release();
    await fourth;
    expect(fourthStarted).toBe(true);
    running.slice(1).forEach((h) => h.release());
    await Promise.all(first);
  });

  it('a read that waits past the deadline fails with a QueryTimeoutError and gives up its place', async () => {
    const slots = new ReadSlots(3, 50); // one slot
    const h = held();
    const busy = slots.run(() => h.done);
    await expect(slots.run(async () => 1)).rejects.toBeInstanceOf(QueryTimeoutError);
    h.release();
    await busy;
    await expect(slots.run(async () => 2)).resolves.toBe(2);
  });

  it('a failing read releases its slot', async () => {
    const slots = new ReadSlots(1, 50);
    await expect(slots.run(async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await expect(slots.run(async () => 3)).resolves.toBe(3);
  });
});
