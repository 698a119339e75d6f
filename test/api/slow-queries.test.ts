/**
 * The slow-query log (core/records/slow-queries.ts): a list whose statement passes
 * `slowQueryMs` is in the logs, for superusers, with the collection, the client's filter and
 * sort, the statement (placeholders only: no value of the filter is in it), its duration, the
 * plan, and an index to create for each filtered or sorted column no index starts with.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { suggestedIndexes } from '../../src/core/records/slow-queries.js';

let t: TestApp;
let su = '';
const q = encodeURIComponent;

async function slowEntries(): Promise<Record<string, any>[]> {
  await vi.waitFor(() => expect(t.app.logs.writer!.size).toBe(0), { timeout: 5000, interval: 20 });
  await t.app.logs.writer!.flush();
  const res = await send(t, 'GET', `/api/logs?perPage=100&filter=${q("data.type = 'slowQuery'")}`, { auth: su });
  expect(res.status, res.raw).toBe(200);
  return res.body.items;
}

beforeAll(async () => {
  // 1 ms: every count over the 40,000 rows below is slower than that.
  t = await startTestApp({ config: { slowQueryMs: 1 } });
  su = (await createSuperuser(t)).token;
  await createCollection(t, {
    name: 'events',
    type: 'base',
    listRule: '',
    fields: [
      { name: 'kind', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'secretish', type: 'text' },
    ],
    indexes: ['CREATE INDEX idx_events_n ON events (n)'],
  });
  await t.app.db.transaction(async (tx) => {
    for (let from = 0; from < 40000; from += 500) {
      await tx.kysely.insertInto('events').values(Array.from({ length: 500 }, (_, k) => ({ id: `e${String(from + k).padStart(14, '0')}`, kind: `k${(from + k) % 50}`, n: from + k, secretish: 'x' }))).execute();
    }
  });
});

afterAll(async () => {
  await t?.close();
});

describe('slow-query log', () => {
  it('a slow list is logged with its statement, duration, plan and the index it lacks', async () => {
    const filter = "kind ~ 'needle-value-42' || secretish = 'hunter2'";
    const res = await send(t, 'GET', `/api/collections/events/records?filter=${q(filter)}&sort=-n`, { auth: su });
    expect(res.status).toBe(200);
    const entries = await slowEntries();
    const entry = entries.find((e) => e.data.filter === filter);
    expect(entry, JSON.stringify(entries.map((e) => e.data.filter))).toBeDefined();
    expect(entry!.level).toBeGreaterThanOrEqual(4);
    expect(entry!.data).toMatchObject({ collection: 'events', sort: '-n', timedOut: false });
    expect(entry!.data.durationMs).toBeGreaterThanOrEqual(1);
    expect(entry!.data.sql).toContain('"events"');
    // The statement carries placeholders, never the filter's values.
    expect(entry!.data.sql).not.toContain('hunter2');
    expect(entry!.data.plan.length).toBeGreaterThan(0);
    expect(entry!.data.suggestedIndexes).toEqual(expect.arrayContaining(['CREATE INDEX idx_events_kind ON events (kind)', 'CREATE INDEX idx_events_secretish ON events (secretish)']));
    // `n` has an index already.
    expect(entry!.data.suggestedIndexes.join(' ')).not.toContain('(n)');
  });

  it('a slow deep page is logged with the statement it ran, from its anchor or not', async () => {
    // Page 40 of 50 (offset 1,950) leaves anchors; the same page again starts from one.
    const filter = "kind != 'k3-deep'";
    const url = `/api/collections/events/records?filter=${q(filter)}&sort=-n&perPage=50&page=40&skipTotal=1`;
    const first = await send(t, 'GET', url, { auth: su });
    const again = await send(t, 'GET', url, { auth: su });
    expect(again.body.items).toEqual(first.body.items);
    expect(first.body.items[0].n).toBe(40000 - 1 - 1950);
    // The plain page (OFFSET 1,950 through the filter) passes 1 ms; from the anchor it may not.
    const entries = (await slowEntries()).filter((e) => e.data.filter === filter);
    expect(entries.length).toBeGreaterThanOrEqual(1);
    // What is logged is the statement the page ran (its sort values and data versions read with
    // the rows; the anchor's condition when it started from one), placeholders only.
    for (const e of entries) {
      expect(e.data.sql).toMatch(/"__sk0".*LIMIT (\?|\$\d+) OFFSET (\?|\$\d+)$/s);
      expect(e.data.sql).not.toContain('k3-deep');
      expect(e.data.sort).toBe('-n');
    }
  });

  it('guests never read it; off at 0', async () => {
    expect((await send(t, 'GET', '/api/logs', { auth: '' })).status).toBe(401);
    const off = await startTestApp({ config: { slowQueryMs: 0 } });
    try {
      const token = (await createSuperuser(off)).token;
      await createCollection(off, { name: 'things', type: 'base', listRule: '', fields: [{ name: 'x', type: 'text' }] });
      await sql`SELECT 1`.execute(off.app.db.kysely);
      expect((await send(off, 'GET', '/api/collections/things/records?filter=x~%27a%27', { auth: token })).status).toBe(200);
      await vi.waitFor(() => expect(off.app.logs.writer!.size).toBe(0), { timeout: 5000, interval: 20 });
      await off.app.logs.writer!.flush();
      const res = await send(off, 'GET', `/api/logs?filter=${q("data.type = 'slowQuery'")}`, { auth: token });
      expect(res.body.totalItems).toBe(0);
    } finally {
      await off.close();
    }
  });

  it('suggests nothing for the id, relation columns Basalt indexes, or JSON', () => {
    const model = t.app.registry.find('events')!;
    expect(suggestedIndexes(model, 'SELECT * FROM "events" AS "__r" WHERE "__r"."id" = ? AND "__r"."n" > ?')).toEqual([]);
    expect(suggestedIndexes(model, 'SELECT * FROM "events" AS "__r" WHERE "__r"."kind" = ? ORDER BY "__r"."kind"')).toEqual(['CREATE INDEX idx_events_kind ON events (kind)']);
  });
});
