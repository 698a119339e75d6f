/**
 * `/api/crons` (PocketBase's shapes, superusers only): the list, running a job now, hostile
 * inputs (unknown or very long ids, other principals) answered 4xx in the standard error shape,
 * and the built-in cleanups deleting expired OTPs and MFA sessions while keeping fresh ones.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemCaller } from '../../src/core/records/caller.js';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const tok: Record<string, string> = {};
let calls = 0;

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  tok.user = (await createAuthRecord(t, 'users', { email: 'alice@example.com' })).token;
  const key = await send(t, 'POST', '/api/keys', { auth: tok.su, body: { name: 'ops', scopes: [{ collection: '*', actions: ['list'] }] } });
  expect(key.status, key.raw).toBe(200);
  tok.key = `Bearer ${key.body.key}`;
  t.app.crons.add('zeta', '*/5 * * * *', () => {});
  t.app.crons.add('alpha', '0 9 * * 1-5', () => {
    calls++;
  });
});

afterAll(async () => {
  await t?.close();
});

describe('GET /api/crons', () => {
  runScenarios(
    () => t,
    [
      { name: 'guest', method: 'GET', url: '/api/crons', status: 401 },
      { name: 'regular user', method: 'GET', url: '/api/crons', auth: () => tok.user, status: 403 },
      { name: 'API key', method: 'GET', url: '/api/crons', auth: () => tok.key, status: 403 },
      {
        name: 'superuser: the application jobs by id, then the built-in ones by id',
        method: 'GET',
        url: '/api/crons',
        auth: () => tok.su,
        status: 200,
        check: (body) =>
          expect(body).toEqual([
            { id: 'alpha', expression: '0 9 * * 1-5' },
            { id: 'zeta', expression: '*/5 * * * *' },
            { id: '__basaltIdempotencyCleanup__', expression: '15 * * * *' },
            { id: '__basaltWebhookDeliveriesCleanup__', expression: '45 * * * *' },
            { id: '__basaltWebhookEventsCleanup__', expression: '30 * * * *' },
            { id: '__pbDBOptimize__', expression: '0 0 * * *' },
            { id: '__pbLogsCleanup__', expression: '0 */6 * * *' },
            { id: '__pbMFACleanup__', expression: '0 * * * *' },
            { id: '__pbOTPCleanup__', expression: '0 * * * *' },
          ]),
      },
    ] satisfies Scenario[],
  );
});

describe('POST /api/crons/{id}', () => {
  const missing = { status: 404, message: 'Missing or invalid cron job.', data: {} };
  runScenarios(
    () => t,
    [
      { name: 'guest', method: 'POST', url: '/api/crons/alpha', status: 401 },
      { name: 'regular user', method: 'POST', url: '/api/crons/alpha', auth: () => tok.user, status: 403 },
      { name: 'API key', method: 'POST', url: '/api/crons/alpha', auth: () => tok.key, status: 403 },
      { name: 'guest, unknown job: auth first', method: 'POST', url: '/api/crons/nope', status: 401 },
      { name: 'unknown job', method: 'POST', url: '/api/crons/nope', auth: () => tok.su, status: 404, expect: missing },
      // Past Fastify's longest path parameter (100, the longest job id): refused before routing.
      { name: 'a very long id', method: 'POST', url: `/api/crons/${'x'.repeat(5000)}`, auth: () => tok.su, status: 400 },
      { name: 'an id just past the longest', method: 'POST', url: `/api/crons/${'x'.repeat(101)}`, auth: () => tok.su, status: 400 },
      { name: 'the longest id, unknown', method: 'POST', url: `/api/crons/${'x'.repeat(100)}`, auth: () => tok.su, status: 404, expect: missing },
      { name: 'encoded slashes and dots', method: 'POST', url: '/api/crons/..%2F..%2Fetc', auth: () => tok.su, status: 404 },
      { name: 'a malformed escape', method: 'POST', url: '/api/crons/%E0%A4%A', auth: () => tok.su, status: 400 },
      { name: 'GET on one job is not a route', method: 'GET', url: '/api/crons/alpha', auth: () => tok.su, status: 404 },
      { name: 'a body is ignored', method: 'POST', url: '/api/crons/nope', auth: () => tok.su, body: { id: 'alpha' }, status: 404 },
    ] satisfies Scenario[],
  );

  it('nothing ran for the refused requests', () => {
    expect(calls).toBe(0);
  });

  it('a superuser runs a job now: 204 at once, the handler runs once in the background', async () => {
    const res = await send(t, 'POST', '/api/crons/alpha', { auth: tok.su });
    expect(res.status).toBe(204);
    expect(res.raw).toBe('');
    await vi.waitFor(() => expect(calls).toBe(1), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
  });

  it('a job that fails is still a 204 (it runs after the answer) and the server stays healthy', async () => {
    let failed = 0;
    t.app.crons.add('broken', '@daily', () => {
      failed++;
      throw new Error('broken job');
    });
    const res = await send(t, 'POST', '/api/crons/broken', { auth: tok.su });
    expect(res.status).toBe(204);
    await vi.waitFor(() => expect(failed).toBe(1), { timeout: 10_000 });
    expect((await send(t, 'GET', '/api/crons', { auth: tok.su })).status).toBe(200);
    t.app.crons.remove('broken');
  });

  it('a second run-now while the first still runs on this node runs nothing more', async () => {
    let running = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.app.crons.add('long', '@daily', async () => {
      running++;
      await gate;
    });
    expect((await send(t, 'POST', '/api/crons/long', { auth: tok.su })).status).toBe(204);
    await vi.waitFor(() => expect(running).toBe(1), { timeout: 10_000 });
    expect((await send(t, 'POST', '/api/crons/long', { auth: tok.su })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 50));
    expect(running).toBe(1);
    release();
    t.app.crons.remove('long');
  });
});

describe('built-in cleanups', () => {
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace('T', ' ');

  async function systemRecord(name: '_otps' | '_mfas', data: Record<string, unknown>, created: string): Promise<string> {
    const collection = t.app.registry.find(name)!;
    const record = await t.app.records.writer.create(collection, { data }, systemCaller());
    const id = String(record.values.id);
    await t.app.db.kysely.updateTable(collection.table).set({ created }).where('id', '=', id).execute();
    return id;
  }

  const exists = async (name: string, id: string) => (await t.app.db.kysely.selectFrom(t.app.registry.find(name)!.table).select('id').where('id', '=', id).execute()).length === 1;

  it('__pbOTPCleanup__ deletes the OTPs older than their collection’s duration and keeps the fresh ones', async () => {
    const users = t.app.registry.find('users')!;
    const superusers = t.app.registry.find('_superusers')!;
    const duration = users.data.otp?.duration || 180;
    const ref = { collectionRef: users.id, recordRef: 'abc123def456ghi', password: '12345678' };
    const expired = await systemRecord('_otps', ref, minutesAgo(duration / 60 + 1));
    const fresh = await systemRecord('_otps', ref, minutesAgo(1));
    // Another auth collection, its own duration (the default 180 s): 2 minutes is still fresh there.
    const otherFresh = await systemRecord('_otps', { ...ref, collectionRef: superusers.id }, minutesAgo(2));
    const otherExpired = await systemRecord('_otps', { ...ref, collectionRef: superusers.id }, minutesAgo(4));

    expect((await send(t, 'POST', '/api/crons/__pbOTPCleanup__', { auth: tok.su })).status).toBe(204);
    await vi.waitFor(async () => expect(await exists('_otps', expired)).toBe(false), { timeout: 10_000 });
    await vi.waitFor(async () => expect(await exists('_otps', otherExpired)).toBe(false), { timeout: 10_000 });
    expect(await exists('_otps', fresh)).toBe(true);
    expect(await exists('_otps', otherFresh)).toBe(true);
  });

  it('__pbMFACleanup__ deletes the MFA sessions older than the MFA duration and keeps the fresh ones', async () => {
    const users = t.app.registry.find('users')!;
    const duration = users.data.mfa?.duration || 600;
    const ref = { collectionRef: users.id, recordRef: 'abc123def456ghi', method: 'password' };
    const expired = await systemRecord('_mfas', ref, minutesAgo(duration / 60 + 1));
    const fresh = await systemRecord('_mfas', ref, minutesAgo(1));
    expect((await send(t, 'POST', '/api/crons/__pbMFACleanup__', { auth: tok.su })).status).toBe(204);
    await vi.waitFor(async () => expect(await exists('_mfas', expired)).toBe(false), { timeout: 10_000 });
    expect(await exists('_mfas', fresh)).toBe(true);
  });

  it('the cleanup deletes in bounded batches until nothing expired is left', async () => {
    const users = t.app.registry.find('users')!;
    const table = t.app.registry.find('_otps')!.table;
    const old = minutesAgo(60);
    const rows = Array.from({ length: 1203 }, (_, i) => ({ id: `bulk${String(i).padStart(11, '0')}`, collectionRef: users.id, recordRef: 'r', password: 'x', sentTo: '', created: old, updated: old }));
    for (let i = 0; i < rows.length; i += 300) await t.app.db.kysely.insertInto(table).values(rows.slice(i, i + 300)).execute();
    expect(await t.app.crons.runNow('__pbOTPCleanup__')).toBe('done');
    const left = await t.app.db.kysely.selectFrom(table).select('id').where('id', 'like', 'bulk%').execute();
    expect(left).toHaveLength(0);
  });

  it('__pbDBOptimize__ runs on this engine', async () => {
    expect(await t.app.crons.runNow('__pbDBOptimize__')).toBe('done');
  });
});
