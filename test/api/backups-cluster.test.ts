/**
 * A restore on one of two nodes sharing PostgreSQL and Redis: the other node's catalogue and
 * settings follow (the same invalidation messages as a schema or settings change). Needs
 * PostgreSQL and Redis (BASALT_TEST_DB=postgres, BASALT_TEST_REDIS_URL; CI sets both).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecord, createSuperuser } from '../harness/fixtures.js';
import { ENGINE, REDIS_URL } from '../harness/engines.js';
import { send } from '../harness/scenario.js';
import type { TestApp } from '../harness/test-app.js';
import { eventually, startTwoNodes, type TwoNodes } from '../harness/two-nodes.js';

let a: TestApp;
let b: TestApp;
let su = '';
let nodes: TwoNodes | undefined;

describe.skipIf(ENGINE !== 'postgres' || REDIS_URL === '')('restore on one of two nodes', () => {
  beforeAll(async () => {
    nodes = await startTwoNodes();
    ({ a, b } = nodes);
    su = (await createSuperuser(a)).token;
  });

  afterAll(async () => {
    await nodes?.close();
  });

  it('the other node reloads its collections and settings', async () => {
    await createRecord(a, 'users', { email: 'kept@example.com', password: 'kept-password-1', passwordConfirm: 'kept-password-1' });
    expect((await send(a, 'POST', '/api/backups', { auth: su, body: { name: 'before.zip' } })).status).toBe(204);

    const created = await send(a, 'POST', '/api/collections', { auth: su, body: { name: 'later', fields: [{ name: 'title', type: 'text' }] } });
    expect(created.status, created.raw).toBe(200);
    expect((await send(a, 'PATCH', '/api/settings', { auth: su, body: { meta: { appName: 'Changed later' } } })).status).toBe(200);
    await eventually(async () => (await send(b, 'GET', '/api/collections/later', { auth: su })).status === 200);
    await eventually(async () => b.app.settings.get().meta.appName === 'Changed later');

    const restored = await send(a, 'POST', '/api/backups/before.zip/restore', { auth: su });
    expect(restored.status, restored.raw).toBe(204);

    await eventually(async () => (await send(b, 'GET', '/api/collections/later', { auth: su })).status === 404);
    await eventually(async () => b.app.settings.get().meta.appName !== 'Changed later');
    const users = await send(b, 'GET', '/api/collections/users/records', { auth: su });
    expect(users.body.items.map((u: { email: string }) => u.email)).toEqual(['kept@example.com']);
  }, 60_000);
});
