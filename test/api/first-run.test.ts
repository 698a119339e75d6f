/**
 * The first-run link (core/auth/first-run.ts): its token creates the first superuser and nothing
 * else, only while none exists, once, and not after 30 minutes; `basalt serve` prints it only
 * while no superuser exists. On every engine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { firstRunBaseUrl, firstRunNotice } from '../../src/cli/first-run-link.js';
import { INSTALLER_TOKEN_SECONDS } from '../../src/core/auth/first-run.js';
import { MESSAGES } from '../../src/core/errors.js';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { ManualClock } from '../harness/manual-clock.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const FIRST = { email: 'first@example.com', password: 'first-password-1', passwordConfirm: 'first-password-1' };

async function fresh(clock?: ManualClock): Promise<TestApp> {
  t = await startTestApp(clock ? { deps: { clock } } : {});
  return t;
}

/** The standard error shape, with its status and message. */
function expectError(res: { status: number; body: any }, status: number, message?: string) {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ status, data: expect.any(Object) });
  if (message) expect(res.body.message).toBe(message);
}

describe('first run', () => {
  it('creates the first superuser once, who can then sign in', async () => {
    const app = await fresh();
    expect(await app.app.firstRun.needed()).toBe(true);
    const token = await app.app.firstRun.issueToken();
    const created = await send(app, 'POST', '/api/collections/_superusers/records', { auth: token, body: FIRST });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ collectionName: '_superusers', verified: true });
    expect(await app.app.firstRun.needed()).toBe(false);

    const signIn = await send(app, 'POST', '/api/collections/_superusers/auth-with-password', { body: { identity: FIRST.email, password: FIRST.password } });
    expect(signIn.status).toBe(200);
    expect(signIn.body.record.email).toBe(FIRST.email);

    // Spent: the same link cannot make a second superuser.
    const again = await send(app, 'POST', '/api/collections/_superusers/records', { auth: token, body: { ...FIRST, email: 'second@example.com' } });
    expectError(again, 403, MESSAGES.firstRunSpent);
    const count = await send(app, 'GET', '/api/collections/_superusers/records', { auth: signIn.body.token });
    expect(count.body.totalItems).toBe(1);
  });

  it('does nothing once a superuser exists (made another way)', async () => {
    const app = await fresh();
    const token = await app.app.firstRun.issueToken();
    await createSuperuser(app);
    expect(await app.app.firstRun.needed()).toBe(false);
    expectError(await send(app, 'POST', '/api/collections/_superusers/records', { auth: token, body: FIRST }), 403, MESSAGES.firstRunSpent);
  });

  it('authorises nothing but creating a superuser', async () => {
    const app = await fresh();
    const token = await app.app.firstRun.issueToken();
    await createCollection(app, { name: 'locked', type: 'base', fields: [{ name: 'title', type: 'text' }] });
    const refusals: [string, string, unknown?][] = [
      ['GET', '/api/collections'],
      ['POST', '/api/collections', { name: 'x', type: 'base' }],
      ['GET', '/api/settings'],
      ['GET', '/api/collections/_superusers/records'],
      ['POST', '/api/collections/locked/records', { title: 'no' }],
      ['GET', '/api/collections/locked/records'],
      ['POST', '/api/collections/_superusers/auth-refresh'],
      ['GET', '/api/logs'],
      ['GET', '/api/backups'],
    ];
    for (const [method, url, body] of refusals) {
      const res = await send(app, method as 'GET', url, { auth: token, body });
      // As a guest: refused (401, 403) or, for the list of a superusers-only collection, 403.
      expect([401, 403], `${method} ${url}`).toContain(res.status);
      expect(res.body).toMatchObject({ status: res.status, message: expect.any(String) });
    }
    // Nothing was written, and the link still works for its one purpose.
    expect((await send(app, 'POST', '/api/collections/_superusers/records', { auth: token, body: FIRST })).status).toBe(200);
  });

  it('cannot set what only superusers may (it is no superuser)', async () => {
    const app = await fresh();
    const token = await app.app.firstRun.issueToken();
    const res = await send(app, 'POST', '/api/collections/_superusers/records', { auth: token, body: { ...FIRST, tokenKey: 'chosen-by-the-client-000000000000000000000000' } });
    // tokenKey is a system field: ignored or refused, never stored as sent.
    if (res.status === 200) {
      const su = (await app.app.auth.findByEmail(app.app.registry.find('_superusers')!, FIRST.email))!;
      expect(su.values.tokenKey).not.toBe('chosen-by-the-client-000000000000000000000000');
    } else expectError(res, 400);
  });

  it('expires after 30 minutes', async () => {
    const clock = new ManualClock();
    const app = await fresh(clock);
    const token = await app.app.firstRun.issueToken();
    expect(await app.app.firstRun.accepts(token)).toBe(true);
    clock.advance((INSTALLER_TOKEN_SECONDS + 1) * 1000);
    expect(await app.app.firstRun.accepts(token)).toBe(false);
    expectError(await send(app, 'POST', '/api/collections/_superusers/records', { auth: token, body: FIRST }), 403, MESSAGES.superusersOnly);
    expect(await app.app.firstRun.needed()).toBe(true);
  });

  it('refuses a forged or a foreign token, and an auth token is not an installer token', async () => {
    const app = await fresh();
    const forged = await new SignJWT({ type: 'installer', collectionId: 'pbc_3142635823' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('not-the-secret'));
    expect(await app.app.firstRun.accepts(forged)).toBe(false);
    expectError(await send(app, 'POST', '/api/collections/_superusers/records', { auth: forged, body: FIRST }), 403, MESSAGES.superusersOnly);
    // Another database's link does not work here.
    const other = await startTestApp();
    try {
      const foreign = await other.app.firstRun.issueToken();
      expect(await app.app.firstRun.accepts(foreign)).toBe(false);
    } finally {
      await other.close();
    }
    await createCollection(app, { name: 'users', type: 'auth', fields: [], createRule: '' }).catch(() => undefined);
    const user = await send(app, 'POST', '/api/collections/users/records', { body: { email: 'u@example.com', password: 'user-password-1', passwordConfirm: 'user-password-1' } });
    expect(user.status).toBe(200);
    const userToken = (await send(app, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'u@example.com', password: 'user-password-1' } })).body.token;
    expect(await app.app.firstRun.accepts(userToken)).toBe(false);
    expectError(await send(app, 'POST', '/api/collections/_superusers/records', { auth: userToken, body: FIRST }), 403, MESSAGES.superusersOnly);
  });

  it('of concurrent uses of the link, exactly one creates a superuser', async () => {
    const app = await fresh();
    const token = await app.app.firstRun.issueToken();
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => send(app, 'POST', '/api/collections/_superusers/records', { auth: token, body: { ...FIRST, email: `first${i}@example.com` } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 403, 403, 403]);
    for (const r of results.filter((x) => x.status === 403)) expectError(r, 403, MESSAGES.firstRunSpent);
  });
});

describe('the link basalt serve prints', () => {
  it('is printed while no superuser exists, and not once one does', async () => {
    const app = await fresh();
    const withDashboard = { ...app.app, config: { ...app.app.config, dashboardDir: '/somewhere' } } as typeof app.app;
    const notice = await firstRunNotice(withDashboard, 'http://127.0.0.1:8090');
    const link = /http:\/\/127\.0\.0\.1:8090\/_\/#\/pbinstal\/(\S+)/.exec(notice ?? '');
    expect(link, notice ?? '').not.toBeNull();
    expect(await app.app.firstRun.accepts(link![1])).toBe(true);
    expect(notice).toContain('superuser upsert');

    // Without a dashboard there is no page to open: the CLI command instead.
    const plain = await firstRunNotice(app.app, 'http://127.0.0.1:8090');
    expect(plain).toContain('superuser upsert');
    expect(plain).not.toContain('pbinstal');

    await createSuperuser(app);
    expect(await firstRunNotice(withDashboard, 'http://127.0.0.1:8090')).toBeNull();
  });

  it('points at --app-url when set, else at the listening address a browser can open', async () => {
    const app = await fresh();
    const withConfig = (c: Partial<TestApp['config']>) => ({ ...app.app, config: { ...app.app.config, ...c } }) as typeof app.app;
    expect(firstRunBaseUrl(withConfig({ http: { host: '0.0.0.0', port: 8090 }, appUrl: 'http://0.0.0.0:8090' }), 'http://0.0.0.0:8090')).toBe('http://127.0.0.1:8090');
    expect(firstRunBaseUrl(withConfig({ http: { host: '::', port: 8090 }, appUrl: 'http://[::]:8090' }), 'http://[::]:8090')).toBe('http://[::1]:8090');
    expect(firstRunBaseUrl(withConfig({ http: { host: '127.0.0.1', port: 8090 }, appUrl: 'https://example.com/basalt/' }), 'http://127.0.0.1:8090')).toBe('https://example.com/basalt');
  });
});
