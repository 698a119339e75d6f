/**
 * When raw log batches are expanded (core/logs/log-expansion.ts): against a stand-in for the
 * worker that keeps a count, as the worker's answers do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LogExpansion } from '../../src/core/logs/log-expansion.js';
import { silentLogger, type Logger } from '../../src/core/ports.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw backlog of whole batches of `batch` entries, expanded `limit` (rounded up to batches) a call. */
function fakeWorker(batch = 100) {
  const w = {
    raw: 0,
    calls: 0,
    fail: false,
    /** Entries another node holds: never expanded here. */
    lockedElsewhere: 0,
    expand: async (limit: number) => {
      w.calls++;
      await sleep(1);
      if (w.fail) throw new Error('disk I/O error');
      const free = w.raw - w.lockedElsewhere;
      w.raw -= Math.min(free, Math.ceil(limit / batch) * batch);
      return w.raw;
    },
    store: (expansion: LogExpansion, n: number) => {
      w.raw += n;
      expansion.added(n);
    },
  };
  return w;
}

/** Keeps the event loop busy for `ms` (a server without room). */
function busyFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe('LogExpansion', () => {
  const opened: LogExpansion[] = [];
  afterEach(async () => {
    for (const e of opened.splice(0)) await e.close();
  });
  const open = (expand: (limit: number) => Promise<number>, initialRaw = 0, options = {}, logger: Logger = silentLogger) => {
    const e = new LogExpansion(expand, logger, initialRaw, { tickMs: 20, sliceEntries: 100, ...options });
    opened.push(e);
    return e;
  };

  it('expands a slice a tick while the server has room, until nothing is raw', async () => {
    const w = fakeWorker();
    const e = open(w.expand);
    w.store(e, 1000);
    expect(e.backlog).toBe(1000);
    for (let i = 0; i < 100 && w.raw > 0; i++) await sleep(20);
    expect(w.raw).toBe(0);
    expect(e.backlog).toBe(0);
    // One slice a tick, not all at once.
    expect(w.calls).toBeGreaterThanOrEqual(10);
  });

  it('leaves the batches raw while the event loop is busy, then expands them', async () => {
    const w = fakeWorker();
    const e = open(w.expand, 0, { tickMs: 30 });
    w.store(e, 500);
    // Busy through several ticks: each finds no room.
    for (let i = 0; i < 5; i++) {
      busyFor(40);
      await new Promise((r) => setImmediate(r));
    }
    expect(w.calls).toBe(0);
    expect(w.raw).toBe(500);
    for (let i = 0; i < 100 && w.raw > 0; i++) await sleep(20);
    expect(w.raw).toBe(0);
  });

  it('expands without waiting for room past maxRaw, back down to it', async () => {
    const w = fakeWorker();
    const e = open(w.expand, 0, { tickMs: 30, maxRaw: 300 });
    w.store(e, 1000);
    busyFor(40);
    await sleep(5);
    // The tick found no room, but 1,000 > 300: slices until at most 300 are raw.
    for (let i = 0; i < 50 && w.raw > 300; i++) await sleep(10);
    expect(w.raw).toBeLessThanOrEqual(300);
  });

  it('settle expands everything stored before it, however busy the server', async () => {
    const w = fakeWorker();
    const e = open(w.expand, 0, { tickMs: 60_000 });
    w.store(e, 750);
    await e.settle();
    expect(w.raw).toBe(0);
    expect(e.backlog).toBe(0);
  });

  it('settle counts what an earlier run left raw (initialRaw)', async () => {
    const w = fakeWorker();
    w.raw = 400;
    const e = open(w.expand, 400, { tickMs: 60_000 });
    await e.settle();
    expect(w.raw).toBe(0);
  });

  it('settle waits for batches another node is expanding, and gives up at its timeout', async () => {
    const w = fakeWorker();
    const e = open(w.expand, 0, { tickMs: 60_000, settleTimeoutMs: 200 });
    w.store(e, 300);
    w.lockedElsewhere = 100;
    setTimeout(() => {
      // The other node commits: its batch is gone.
      w.raw -= 100;
      w.lockedElsewhere = 0;
    }, 100);
    await e.settle();
    expect(w.raw).toBe(0);

    w.store(e, 100);
    w.lockedElsewhere = 100;
    const started = performance.now();
    await e.settle();
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(w.raw).toBe(100);
  });

  it('a failing expansion is logged, does not loop, and settle returns', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (_obj, msg) => errors.push(msg ?? '') };
    const w = fakeWorker();
    const e = open(w.expand, 0, { tickMs: 30, maxRaw: 10 }, logger);
    w.fail = true;
    w.store(e, 1000);
    await e.settle();
    await sleep(100);
    // A tick or so every 30 ms, not a tight loop of retries.
    expect(w.calls).toBeLessThan(10);
    expect(errors[0]).toMatch(/cannot expand/);
  });

  it('close stops the ticks; nothing runs after it', async () => {
    const w = fakeWorker();
    const e = open(w.expand, 0, { tickMs: 20 });
    w.store(e, 1000);
    await e.close();
    const calls = w.calls;
    await sleep(100);
    expect(w.calls).toBe(calls);
    await e.settle();
    expect(w.calls).toBe(calls);
  });
});
