/**
 * `/api/logs` (PocketBase's logs API, superusers only): requests stored with their data (a URL
 * without secret values, the auth id only when allowed), filter and sort over `data.*`, `level`,
 * `-created`, `@rowid`, hourly stats, view and 404, truncation; hostile inputs answered 400/401/403;
 * the `logs` settings (round trip, validation, `maxDays: 0`, `minLevel`, `logIP`); the cleanup cron
 * (manual clock) and the write buffer (flush on close, bounded when the store stalls).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { ManualClock } from '../harness/manual-clock.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { LogWriter } from '../../src/core/logs/log-writer.js';
import { unpackLogBatch, type LogBatch } from '../../src/core/logs/log-batch.js';
import type { LogEntry, LogStore, NewLogEntry } from '../../src/core/logs/log-store.js';
import { silentLogger } from '../../src/core/ports.js';
import { systemCaller } from '../../src/core/records/caller.js';

let t: TestApp;
const tok: Record<string, string> = {};
let userId = '';
const SECRET = 's3cr3t-file-token-value';

async function logs(query = ''): Promise<{ totalItems: number; items: Record<string, any>[] }> {
  const res = await send(t, 'GET', `/api/logs${query}`, { auth: tok.su });
  expect(res.status, res.raw).toBe(200);
  return res.body;
}

/** Waits (polling) until the buffered entries are in the store. */
async function settled(): Promise<void> {
  await vi.waitFor(() => expect(t.app.logs.writer!.size).toBe(0), { timeout: 5000, interval: 20 });
  await t.app.logs.writer!.flush();
}

async function patchSettings(body: unknown) {
  return send(t, 'PATCH', '/api/settings', { auth: tok.su, body });
}

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  const user = await createAuthRecord(t, 'users', { email: 'alice@example.com' });
  tok.user = user.token;
  userId = user.id;
});

afterAll(async () => {
  await t?.close();
});

describe('stored request logs', () => {
  it('stores each request with PocketBase data keys, a URL without secret values, no auth id by default', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    await send(t, 'GET', `/api/health?token=${SECRET}&x=1`, { headers: { 'user-agent': 'vitest-agent', referer: 'http://localhost/page' } });
    await send(t, 'GET', '/api/collections/users/records', { auth: tok.user });
    await send(t, 'GET', '/api/collections/nope/records');
    await vi.waitFor(async () => expect((await logs()).totalItems).toBe(3), { timeout: 5000, interval: 50 });
    const { items } = await logs('?sort=@rowid');
    const [health, list, missing] = items;
    expect(health).toMatchObject({ level: 0, message: 'GET /api/health?token=&x=1' });
    expect(health.id).toMatch(/^[a-z0-9]{15}$/);
    expect(health.created).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(health.data).toMatchObject({ type: 'request', method: 'GET', url: '/api/health?token=&x=1', status: 200, auth: '', userAgent: 'vitest-agent', referer: 'http://localhost/page' });
    expect(typeof health.data.execTime).toBe('number');
    expect(typeof health.data.userIP).toBe('string');
    expect(typeof health.data.remoteIP).toBe('string');
    expect(JSON.stringify(items)).not.toContain(SECRET);
    expect(list.data).toMatchObject({ status: 200, auth: 'users' });
    expect(list.data).not.toHaveProperty('authId');
    expect(missing).toMatchObject({ level: 8 });
    expect(missing.data).toMatchObject({ status: 404, error: "Missing collection context." });
  });

  it('stores the auth id only when logAuthId is on, and no IP when logIP is off', async () => {
    expect((await patchSettings({ logs: { logAuthId: true, logIP: false } })).status).toBe(200);
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    await send(t, 'GET', '/api/collections/users/records', { auth: tok.user });
    await settled();
    const { items } = await logs();
    expect(items).toHaveLength(1);
    expect(items[0].data).toMatchObject({ auth: 'users', authId: userId });
    expect(items[0].data).not.toHaveProperty('userIP');
    expect(items[0].data).not.toHaveProperty('remoteIP');
    expect((await patchSettings({ logs: { logAuthId: false, logIP: true } })).status).toBe(200);
  });

  it('filters on data.status, level and message; sorts by -created and @rowid', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    for (let i = 0; i < 3; i++) await send(t, 'GET', `/api/health?n=${i}`);
    await send(t, 'GET', '/api/collections/nope/records');
    await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'x@example.com', password: 'wrong-password' } });
    await settled();
    const failed = await logs(`?filter=${encodeURIComponent('data.status >= 400')}`);
    expect(failed.items.map((e) => e.data.status).sort()).toEqual([400, 404]);
    expect((await logs(`?filter=${encodeURIComponent('level = 8')}`)).totalItems).toBe(2);
    expect((await logs(`?filter=${encodeURIComponent('level = 0 && data.method = "GET"')}`)).totalItems).toBe(3);
    expect((await logs(`?filter=${encodeURIComponent('message ~ "n=1"')}`)).totalItems).toBe(1);
    const byRowid = (await logs('?sort=@rowid')).items.map((e) => e.data.url);
    expect(byRowid).toEqual(['/api/health?n=0', '/api/health?n=1', '/api/health?n=2', '/api/collections/nope/records', '/api/collections/users/auth-with-password']);
    expect((await logs('?sort=-@rowid')).items.map((e) => e.data.url)).toEqual([...byRowid].reverse());
    const created = (await logs('?sort=-created')).items.map((e) => e.created as string);
    expect(created).toEqual([...created].sort().reverse());
    const byStatus = (await logs('?sort=-data.status,@rowid')).items.map((e) => e.data.status);
    expect(byStatus).toEqual([404, 400, 200, 200, 200]);
    const page = await send(t, 'GET', '/api/logs?perPage=2&page=2', { auth: tok.su });
    expect(page.body).toMatchObject({ page: 2, perPage: 2, totalItems: 5, totalPages: 3 });
    expect(page.body.items).toHaveLength(2);
  });

  it('counts entries per hour in stats, with a filter', async () => {
    const all = await logs();
    const stats = await send(t, 'GET', '/api/logs/stats', { auth: tok.su });
    expect(stats.status, stats.raw).toBe(200);
    expect(stats.body.length).toBeGreaterThan(0);
    for (const s of stats.body) expect(s.date).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:00:00\.000Z$/);
    expect(stats.body.reduce((n: number, s: { total: number }) => n + s.total, 0)).toBe(all.totalItems);
    const hour = (all.items[0].created as string).slice(0, 13);
    expect(stats.body.map((s: { date: string }) => s.date)).toContain(`${hour}:00:00.000Z`);
    const failed = await send(t, 'GET', `/api/logs/stats?filter=${encodeURIComponent('data.status >= 400')}`, { auth: tok.su });
    expect(failed.body.reduce((n: number, s: { total: number }) => n + s.total, 0)).toBe(2);
  });

  it('views one entry by id; a missing one is a 404', async () => {
    const [first] = (await logs()).items;
    const one = await send(t, 'GET', `/api/logs/${first.id}`, { auth: tok.su });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(first);
    const missing = await send(t, 'GET', '/api/logs/nothinghere1234', { auth: tok.su });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ status: 404, message: "The requested resource wasn't found.", data: {} });
  });

  it('keeps any text of the app logger intact (through the writer, on both engines) and views it by id', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    // Tabs, newlines, carriage returns and backslashes are what PostgreSQL's COPY text escapes.
    const message = 'héllo wörld 🌍 中文\ttab\nnewline\rreturn \\ back\\slash \\N "quoted"';
    const note = 'ü 🌍 \\t not a tab, \t a tab, \\\\ two';
    t.app.logger.warn({ note, nested: { n: 1 } }, message);
    await settled();
    const { items } = await logs(`?filter=${encodeURIComponent('level = 4')}`);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ level: 4, message, data: { note, nested: { n: 1 } } });
    const one = await send(t, 'GET', `/api/logs/${items[0].id}`, { auth: tok.su });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(items[0]);
    // Same time prefix, another entry's random part: not found.
    const other = items[0].id.slice(0, 9) + (items[0].id.endsWith('aaaaaa') ? 'bbbbbb' : 'aaaaaa');
    expect((await send(t, 'GET', `/api/logs/${other}`, { auth: tok.su })).status).toBe(404);
  });

  it('stores a request whose URL decodes to tabs, newlines and backslashes as it came', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    await send(t, 'GET', '/api/collections/nope%09tab%0Anl%5Cbs%22q/records?x=%5C%09', { headers: { 'user-agent': 'agent\\with\\backslashes\tand tab' } });
    await settled();
    const { items } = await logs();
    expect(items).toHaveLength(1);
    expect(items[0].message).toBe('GET /api/collections/nope\ttab\nnl\\bs"q/records?x=\\\t');
    expect(items[0].data).toMatchObject({ url: '/api/collections/nope%09tab%0Anl%5Cbs%22q/records?x=%5C%09', userAgent: 'agent\\with\\backslashes\tand tab', status: 404 });
  });

  it('does not store the successful calls of the logs API itself, but stores its failures', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    await logs();
    await send(t, 'GET', '/api/logs/stats', { auth: tok.su });
    await send(t, 'GET', '/api/logs', { auth: tok.user });
    await settled();
    const { items } = await logs();
    expect(items.map((e) => [e.data.url, e.data.status])).toEqual([['/api/logs', 403]]);
  });

  it('truncates with DELETE /api/logs (204), queued entries included', async () => {
    await send(t, 'GET', '/api/health');
    const res = await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    expect(res.status).toBe(204);
    await settled();
    expect((await logs()).totalItems).toBe(0);
  });

  it('tees what hooks and jobs log through the app logger (at or above minLevel)', async () => {
    t.app.logger.warn({ order: 42, err: new Error('boom') }, 'payment retried');
    t.app.logger.debug({ noisy: true }, 'below the minimum level');
    await settled();
    const { items } = await logs(`?filter=${encodeURIComponent('data.type != "request"')}`);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ level: 4, message: 'payment retried', data: { order: 42, err: 'boom' } });
  });
});

describe('logs settings', () => {
  it('are in GET /api/settings with PocketBase defaults and round-trip through PATCH', async () => {
    const got = await send(t, 'GET', '/api/settings', { auth: tok.su });
    expect(got.body.logs).toEqual({ maxDays: 5, minLevel: 0, logIP: true, logAuthId: false });
    const patched = await patchSettings({ logs: { maxDays: 7, minLevel: 4 } });
    expect(patched.status, patched.raw).toBe(200);
    expect(patched.body.logs).toEqual({ maxDays: 7, minLevel: 4, logIP: true, logAuthId: false });
    expect((await send(t, 'GET', '/api/settings', { auth: tok.su })).body.logs).toEqual({ maxDays: 7, minLevel: 4, logIP: true, logAuthId: false });
  });

  it('minLevel 4 stores failed requests only', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    await send(t, 'GET', '/api/health');
    await send(t, 'GET', '/api/collections/nope/records');
    await settled();
    expect((await logs()).items.map((e) => e.data.status)).toEqual([404]);
    expect((await patchSettings({ logs: { maxDays: 5, minLevel: 0 } })).status).toBe(200);
  });

  it('maxDays 0 stores nothing', async () => {
    expect((await patchSettings({ logs: { maxDays: 0 } })).status).toBe(200);
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    await send(t, 'GET', '/api/health');
    await send(t, 'GET', '/api/collections/nope/records');
    t.app.logger.error({}, 'not stored either');
    expect(t.app.logs.writer!.size).toBe(0);
    await settled();
    expect((await logs()).totalItems).toBe(0);
    expect((await patchSettings({ logs: { maxDays: 5 } })).status).toBe(200);
  });

  const bad: [string, unknown, string][] = [
    ['negative maxDays', { maxDays: -1 }, 'maxDays'],
    ['huge maxDays', { maxDays: 1e12 }, 'maxDays'],
    ['fractional maxDays', { maxDays: 1.5 }, 'maxDays'],
    ['maxDays as text', { maxDays: '5' }, 'maxDays'],
    ['minLevel as text', { minLevel: 'info' }, 'minLevel'],
    ['huge minLevel', { minLevel: 1e15 }, 'minLevel'],
    ['logIP as a number', { logIP: 1 }, 'logIP'],
    ['logAuthId as text', { logAuthId: 'yes' }, 'logAuthId'],
    ['unknown key', { maxday: 3 }, 'maxday'],
  ];
  for (const [name, logsPatch, key] of bad) {
    it(`refuses ${name} (400, data.logs.${key})`, async () => {
      const res = await patchSettings({ logs: logsPatch });
      expect(res.status, res.raw).toBe(400);
      expect(res.body).toMatchObject({ status: 400, data: { logs: { [key]: { code: expect.any(String) } } } });
    });
  }
  it('refuses a logs section that is not an object', async () => {
    const res = await patchSettings({ logs: [1] });
    expect(res.status).toBe(400);
    expect(res.body.data.logs.code).toBe('validation_invalid_type');
    expect((await send(t, 'GET', '/api/settings', { auth: tok.su })).body.logs).toEqual({ maxDays: 5, minLevel: 0, logIP: true, logAuthId: false });
  });
});

describe('who may read the logs, and hostile queries', () => {
  const refused: Scenario[] = [];
  for (const [method, url] of [
    ['GET', '/api/logs'],
    ['GET', '/api/logs/stats'],
    ['GET', '/api/logs/abcdefghijklmno'],
    ['DELETE', '/api/logs'],
  ] as const) {
    refused.push({ name: `guest ${method} ${url}`, method, url, status: 401 });
    refused.push({ name: `user ${method} ${url}`, method, url, auth: () => tok.user, status: 403 });
  }
  const huge = 'level = 1 || '.repeat(20_000) + 'level = 2';
  const hostile: Scenario[] = [
    { name: 'unknown field', method: 'GET', url: `/api/logs?filter=${encodeURIComponent('nope = 1')}`, auth: () => tok.su, status: 400 },
    { name: 'syntax error', method: 'GET', url: `/api/logs?filter=${encodeURIComponent('level >')}`, auth: () => tok.su, status: 400 },
    { name: 'unbalanced parentheses', method: 'GET', url: `/api/logs?filter=${encodeURIComponent('((level = 1')}`, auth: () => tok.su, status: 400 },
    { name: 'huge filter', method: 'GET', url: `/api/logs?filter=${encodeURIComponent(huge)}`, auth: () => tok.su, status: 400 },
    { name: 'unknown sort field', method: 'GET', url: '/api/logs?sort=-password', auth: () => tok.su, status: 400 },
    { name: 'relation walk on a log field', method: 'GET', url: `/api/logs?filter=${encodeURIComponent('message.id = 1')}`, auth: () => tok.su, status: 400 },
    { name: 'bad page number', method: 'GET', url: '/api/logs?page=abc', auth: () => tok.su, status: 400 },
    { name: 'stats: unknown field', method: 'GET', url: `/api/logs/stats?filter=${encodeURIComponent('secret = 1')}`, auth: () => tok.su, status: 400 },
    { name: 'stats: syntax error', method: 'GET', url: `/api/logs/stats?filter=${encodeURIComponent('level ~')}`, auth: () => tok.su, status: 400 },
    { name: 'stats: huge filter', method: 'GET', url: `/api/logs/stats?filter=${encodeURIComponent(huge)}`, auth: () => tok.su, status: 400 },
    { name: 'view: a very long id (past the router\'s limit)', method: 'GET', url: `/api/logs/${'a'.repeat(5000)}`, auth: () => tok.su, status: 400 },
    { name: 'view: the longest id, unknown', method: 'GET', url: `/api/logs/${'a'.repeat(100)}`, auth: () => tok.su, status: 404 },
    { name: 'view: an id with SQL in it', method: 'GET', url: `/api/logs/${encodeURIComponent("x' OR 1=1 --")}`, auth: () => tok.su, status: 404 },
  ];
  runScenarios(() => t, [...refused, ...hostile]);
});

describe('the cleanup cron and the write buffer', () => {
  let m: TestApp;
  let clock: ManualClock;
  let su = '';
  let superuser: Awaited<ReturnType<typeof createSuperuser>>['record'];
  beforeAll(async () => {
    clock = new ManualClock(Date.parse('2030-01-01T00:00:00.000Z'));
    m = await startTestApp({ deps: { clock } });
    const created = await createSuperuser(m);
    su = created.token;
    superuser = created.record;
  });
  afterAll(async () => {
    await m?.close();
  });

  it('__pbLogsCleanup__ is registered with PocketBase schedule and deletes entries older than maxDays', async () => {
    const crons = await send(m, 'GET', '/api/crons', { auth: su });
    expect(crons.body).toContainEqual({ id: '__pbLogsCleanup__', expression: '0 */6 * * *' });
    await send(m, 'GET', '/api/health?old=1');
    await m.app.logs.writer!.flush();
    await clock.advance(6 * 86_400_000);
    su = await m.app.auth.issueToken(superuser); // the first one expired with the 6 days
    await send(m, 'GET', '/api/health?new=1');
    await m.app.logs.writer!.flush();
    const before = await m.app.logs.list({ sort: '@rowid' }, systemCaller());
    expect(before.items.map((e) => e.data.url)).toEqual(['/api/crons', '/api/health?old=1', '/api/health?new=1']);
    expect((await send(m, 'POST', '/api/crons/__pbLogsCleanup__', { auth: su })).status).toBe(204);
    await vi.waitFor(
      async () => {
        const res = await send(m, 'GET', '/api/logs?sort=@rowid', { auth: su });
        expect(res.body.items.map((e: { data: { url: string } }) => e.data.url)).toEqual(['/api/health?new=1']);
      },
      { timeout: 5000, interval: 50 },
    );
  });

  it('flushes the queued entries when it closes', async () => {
    const n = await startTestApp();
    const spy: LogEntry[] = [];
    try {
      for (let i = 0; i < 5; i++) await send(n, 'GET', `/api/health?close=${i}`);
      expect(n.app.logs.writer!.size).toBeGreaterThan(0);
      const writer = n.app.logs.writer!;
      await writer.close();
      expect(writer.size).toBe(0);
      const stored = await n.app.logs.list({ sort: '@rowid' }, systemCaller());
      spy.push(...stored.items);
    } finally {
      await n.close();
    }
    expect(spy.map((e) => e.data.url)).toEqual([0, 1, 2, 3, 4].map((i) => `/api/health?close=${i}`));
  });

  it('stays bounded and never waits when the store stalls: the oldest entries are dropped and counted', async () => {
    let inserts = 0;
    const stalled: LogStore = {
      insertBatch: () => {
        inserts++;
        return new Promise(() => {});
      },
      list: async () => ({ page: 1, perPage: 30, totalItems: 0, totalPages: 0, items: [] }),
      view: async () => null,
      stats: async () => [],
      truncate: async () => {},
      deleteOlderThan: async () => 0,
      close: async () => {},
    };
    const writer = new LogWriter(stalled, silentLogger, { batchSize: 10, capacity: 100, flushIntervalMs: 10 });
    for (let i = 0; i < 1000; i++) writer.addEntry(Date.now(), 0, `m${i}`, '{}');
    expect(writer.size).toBeLessThanOrEqual(100);
    expect(writer.dropped).toBeGreaterThan(0);
    expect(writer.dropped + writer.size + 10).toBe(1000);
    expect(inserts).toBe(1);
  });

  it.runIf(process.env.BASALT_TEST_DB === 'postgres')('PostgreSQL: the writer reconnects when its connection is killed', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: tok.su });
    await send(t, 'GET', '/api/health?before=1');
    await settled();
    const admin = new pg.Client({ connectionString: t.config.databaseUrl });
    await admin.connect();
    try {
      const killed = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'basalt-logs' AND datname = current_database()");
      expect(killed.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    // The first batch may find the dead connection (dropped, counted); the ones after it are written.
    for (let i = 0; i < 5; i++) {
      await send(t, 'GET', `/api/health?after=${i}`);
      await settled();
    }
    const { items } = await logs(`?filter=${encodeURIComponent("data.url ~ 'after=4'")}`);
    expect(items).toHaveLength(1);
  });

  it('counts the entries of a failed flush as dropped and keeps going', async () => {
    const written: NewLogEntry[][] = [];
    let fail = true;
    const flaky = {
      insertBatch: async (batch: LogBatch) => {
        if (fail) {
          fail = false;
          throw new Error('disk full');
        }
        written.push(unpackLogBatch(batch));
      },
    } as unknown as LogStore;
    const writer = new LogWriter(flaky, silentLogger, { batchSize: 2, flushIntervalMs: 5 });
    for (let i = 0; i < 4; i++) writer.addEntry(Date.now(), 0, String(i), '{}');
    await writer.flush();
    expect(writer.dropped).toBe(2);
    expect(written.flat().map((e) => e.message)).toEqual(['2', '3']);
  });
});
