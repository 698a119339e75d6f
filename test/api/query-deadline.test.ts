/**
 * The query deadline (Config.queryTimeoutMs): a read that runs past it answers a clean 503 in
 * the standard error shape, at about the deadline, while `/api/health` and a getOne keep
 * answering; the server keeps serving afterwards; on PostgreSQL more slow requests than pooled
 * connections all get the 503 too (none hangs, none is a 500). Over a real socket: `inject`
 * shares the event loop with the server, which is exactly what must not be stalled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { ENGINE } from '../harness/engines.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

const DEADLINE = 300;
const MESSAGE = `The query took longer than ${DEADLINE} ms and was cancelled. Simplify the filter, sort or expand, or add an index.`;
const ITEMS = 200;
/**
 * Allowed for a superuser (within its cost budget), and expensive: a cross join of two
 * @collection aliases over 200 rows, never equal (a text against a number), for each of 200 rows.
 */
const SLOW_FILTER = "@collection.items:a.title ?= @collection.items:b.n";

let t: TestApp;
let base: string;
let superuser: string;
let itemId: string;

async function get(path: string): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(base + path, { headers: { authorization: superuser } });
  const body = await res.json();
  return { status: res.status, body, ms: performance.now() - started };
}

const slowList = () => get(`/api/collections/items/records?perPage=1&filter=${encodeURIComponent(SLOW_FILTER)}`);

/** Polls health and a getOne until `done` settles; returns the slowest answer of each. */
async function probeWhile(done: Promise<unknown>): Promise<{ health: number; getOne: number; statuses: number[] }> {
  let finished = false;
  void done.finally(() => (finished = true));
  let health = 0;
  let getOne = 0;
  const statuses: number[] = [];
  while (!finished) {
    const [h, g] = await Promise.all([get('/api/health'), get(`/api/collections/items/records/${itemId}`)]);
    health = Math.max(health, h.ms);
    getOne = Math.max(getOne, g.ms);
    statuses.push(h.status, g.status);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { health, getOne, statuses };
}

beforeAll(async () => {
  t = await startTestApp({ config: { queryTimeoutMs: DEADLINE } });
  superuser = (await createSuperuser(t)).token;
  await createCollection(t, { name: 'items', type: 'base', fields: [{ name: 'title', type: 'text' }, { name: 'n', type: 'number' }] });
  for (let i = 0; i < ITEMS; i++) {
    const record = await createRecord(t, 'items', { title: `item ${i}`, n: i });
    itemId ??= String(record.values.id);
  }
  await t.server.listen({ host: '127.0.0.1', port: 0 });
  const address = t.server.server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('query deadline', () => {
  it('a slow read answers 503 at about the deadline; health and getOne keep answering meanwhile', async () => {
    const slow = Promise.all([slowList(), slowList()]);
    const probes = await probeWhile(slow);
    for (const res of await slow) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 503, message: MESSAGE, data: {} });
      // The deadline plus generous slack for a loaded machine: never the query's full run.
      expect(res.ms).toBeLessThan(DEADLINE + 1500);
    }
    expect(probes.statuses.every((s) => s === 200)).toBe(true);
    expect(probes.health).toBeLessThan(1000);
    expect(probes.getOne).toBeLessThan(1000);
  });

  it('the server keeps serving filtered reads afterwards', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await get(`/api/collections/items/records?perPage=5&filter=${encodeURIComponent('n >= 100')}`);
      expect(res.status).toBe(200);
      expect(res.body.totalItems).toBe(ITEMS - 100);
    }
  });

  it('more slow reads than connections or workers: every one answers 503, none hangs, none is a 500', async () => {
    // Five pooled connections in the harness (PostgreSQL), two workers (SQLite): the others wait,
    // and that wait counts against the same deadline.
    const n = t.engine === 'postgres' ? 7 : 3;
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: n }, slowList));
    for (const res of results) expect(res.body).toEqual({ status: 503, message: MESSAGE, data: {} });
    expect(performance.now() - started).toBeLessThan(DEADLINE * 2 + 2000);
    const after = await get(`/api/collections/items/records?perPage=1&filter=${encodeURIComponent('n < 10')}`);
    expect(after.status).toBe(200);
    expect(after.body.totalItems).toBe(10);
  });

  it('a collection change over existing rows is not cut at the deadline', async () => {
    const { body: current } = await get('/api/collections/items');
    const res = await fetch(`${base}/api/collections/items`, {
      method: 'PATCH',
      headers: { authorization: superuser, 'content-type': 'application/json' },
      body: JSON.stringify({ indexes: ['CREATE INDEX idx_items_title ON items (title)'], fields: [...current.fields, { name: 'extra', type: 'text' }] }),
    });
    expect(res.status, await res.text()).toBe(200);
  });

  it.runIf(ENGINE === 'postgres')('PostgreSQL: a schema-change transaction (lockSchema) lifts statement_timeout for itself only', async () => {
    const db = t.app.db;
    // Longer than the deadline, inside a schema change: allowed.
    await db.transaction(async (tx) => {
      await tx.lockSchema();
      await tx.query('SELECT pg_sleep(0.6)', []);
    });
    // The same outside one, and on the same pooled connections afterwards: cancelled (57014).
    for (const run of [() => db.query('SELECT pg_sleep(0.6)', []), () => db.transaction((tx) => tx.query('SELECT pg_sleep(0.6)', []))]) {
      const err = await run().then(() => null, (e: unknown) => e);
      expect(db.classifyError(err)).toEqual({ kind: 'timeout', ms: DEADLINE });
    }
  });
});
