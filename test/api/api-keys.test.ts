/**
 * API keys (Basalt's addition): superusers create them (the key is shown once, stored hashed),
 * list, change and revoke them; a key acts past the collection rules within its scopes only,
 * through `Authorization: Bearer bsk_…` or `X-API-Key`, never reaches the admin API, the auth
 * endpoints or system collections, and sees (and filters) only what a signed-in user would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};
const keys: Record<string, { id: string; key: string }> = {};

const createKey = async (body: Record<string, unknown>) => {
  const res = await send(t, 'POST', '/api/keys', { auth: tok.su, body });
  expect(res.status, res.raw).toBe(200);
  return res.body;
};

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  const alice = await createAuthRecord(t, 'users', { email: 'alice@example.com', name: 'Alice' });
  tok.alice = alice.token;
  ids.alice = alice.id;
  // Rules locked to superusers: only a key (or a superuser) gets through.
  await createCollection(t, {
    name: 'orders',
    fields: [
      { name: 'total', type: 'number' },
      { name: 'buyer', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
      { name: 'note', type: 'text', hidden: true },
    ],
  });
  await createCollection(t, { name: 'secrets', fields: [{ name: 'value', type: 'text' }] });
  ids.order = String((await createRecord(t, 'orders', { total: 10, buyer: ids.alice, note: 'internal' })).values.id);
  await createRecord(t, 'secrets', { value: 'nope' });

  const reader = await createKey({ name: 'analytics', scopes: [{ collection: 'orders', actions: ['list', 'view'] }] });
  keys.reader = { id: reader.id, key: reader.key };
  const writer = await createKey({ name: 'importer', scopes: [{ collection: 'orders', actions: ['create', 'update', 'delete'] }, { collection: 'users', actions: ['view'] }] });
  keys.writer = { id: writer.id, key: writer.key };
  const all = await createKey({ name: 'ops', scopes: [{ collection: '*', actions: ['list'] }], expires: '2999-01-01 00:00:00.000Z' });
  keys.all = { id: all.id, key: all.key };
  const expired = await createKey({ name: 'old', scopes: [{ collection: 'orders', actions: ['list'] }], expires: '2001-01-01 00:00:00Z' });
  keys.expired = { id: expired.id, key: expired.key };
});

afterAll(async () => {
  await t?.close();
});

const bearer = (name: string) => () => `Bearer ${keys[name].key}`;

describe('management', () => {
  it('the key is shown once, with its prefix; never again', async () => {
    expect(keys.reader.key).toMatch(/^bsk_[A-Za-z0-9]{43}$/);
    const view = await send(t, 'GET', `/api/keys/${keys.reader.id}`, { auth: tok.su });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ id: keys.reader.id, name: 'analytics', keyPrefix: keys.reader.key.slice(0, 10), expires: '', lastUsed: '' });
    expect(view.body.scopes).toEqual([{ collection: t.app.registry.find('orders')!.id, collectionName: 'orders', actions: ['list', 'view'] }]);
    expect(view.raw).not.toContain(keys.reader.key);
    expect(view.body).not.toHaveProperty('keyHash');
    const list = await send(t, 'GET', '/api/keys', { auth: tok.su });
    expect(list.body.items.map((k: any) => k.name)).toEqual(['analytics', 'importer', 'ops', 'old']);
    expect(list.raw).not.toContain(keys.reader.key);
    // Only a hash is stored.
    const rows = await t.app.db.kysely.selectFrom('_apiKeys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(keys.reader.key);
  });

  const scenarios: Scenario[] = [
    { name: 'guests cannot list keys', method: 'GET', url: '/api/keys', status: 401 },
    { name: 'users cannot list keys', method: 'GET', url: '/api/keys', auth: () => tok.alice, status: 403 },
    { name: 'a key cannot manage keys', method: 'GET', url: '/api/keys', auth: bearer('all'), status: 403 },
    { name: 'name and scopes are required', method: 'POST', url: '/api/keys', auth: () => tok.su, body: {}, status: 400, expect: { data: { name: { code: 'validation_required' }, scopes: { code: 'validation_required' } } } },
    { name: 'unknown collection', method: 'POST', url: '/api/keys', auth: () => tok.su, body: { name: 'x', scopes: [{ collection: 'nope', actions: ['list'] }] }, status: 400, expect: { data: { scopes: { '0': { collection: { code: 'validation_missing_collection' } } } } } },
    { name: 'unknown action', method: 'POST', url: '/api/keys', auth: () => tok.su, body: { name: 'x', scopes: [{ collection: 'orders', actions: ['drop'] }] }, status: 400, expect: { data: { scopes: { '0': { actions: { code: 'validation_in_invalid' } } } } } },
    { name: 'bad expiry', method: 'POST', url: '/api/keys', auth: () => tok.su, body: { name: 'x', scopes: [{ collection: 'orders', actions: ['list'] }], expires: 'soon' }, status: 400, expect: { data: { expires: { code: 'validation_invalid_date' } } } },
    { name: 'system collections are out of reach', method: 'POST', url: '/api/keys', auth: () => tok.su, body: { name: 'x', scopes: [{ collection: '_superusers', actions: ['create'] }] }, status: 400, expect: { data: { scopes: { '0': { collection: { code: 'validation_system_collection' } } } } } },
    { name: 'unknown field', method: 'POST', url: '/api/keys', auth: () => tok.su, body: { name: 'x', scopes: [{ collection: 'orders', actions: ['list'] }], admin: true }, status: 400, expect: { data: { admin: { code: 'validation_unknown_field' } } } },
    { name: 'view an unknown key', method: 'GET', url: '/api/keys/nosuchkey000000', auth: () => tok.su, status: 404 },
  ];
  runScenarios(() => t, scenarios);

  it('PATCH changes name and scopes', async () => {
    const key = await createKey({ name: 'temp', scopes: [{ collection: 'orders', actions: ['list'] }] });
    const res = await send(t, 'PATCH', `/api/keys/${key.id}`, { auth: tok.su, body: { name: 'renamed', scopes: [{ collection: 'secrets', actions: ['list'] }] } });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({ name: 'renamed', scopes: [{ collectionName: 'secrets', actions: ['list'] }] });
    expect((await send(t, 'GET', '/api/collections/secrets/records', { auth: `Bearer ${key.key}` })).status).toBe(200);
    expect((await send(t, 'GET', '/api/collections/orders/records', { auth: `Bearer ${key.key}` })).status).toBe(403);
  });
});

describe('using a key', () => {
  const scenarios: Scenario[] = [
    { name: 'a guest cannot list orders (locked rule)', method: 'GET', url: '/api/collections/orders/records', status: 403 },
    { name: 'Bearer key lists orders past the rule, hidden fields still hidden', method: 'GET', url: '/api/collections/orders/records', auth: bearer('reader'), status: 200, expect: { totalItems: 1, items: [{ total: 10 }] }, absent: ['note'] },
    { name: 'keys cannot filter by hidden fields', method: 'GET', url: '/api/collections/orders/records?filter=' + encodeURIComponent('note = "internal"'), auth: bearer('reader'), status: 400 },
    { name: 'keys cannot filter through a relation out of scope', method: 'GET', url: '/api/collections/orders/records?filter=' + encodeURIComponent('buyer.email ~ "alice"'), auth: bearer('reader'), status: 400 },
    { name: 'keys cannot sort through a relation out of scope', method: 'GET', url: '/api/collections/orders/records?sort=buyer.email', auth: bearer('reader'), status: 400 },
    { name: 'a wildcard key does not reach superusers', method: 'GET', url: '/api/collections/_superusers/records', auth: bearer('all'), status: 403 },
    { name: 'a wildcard key does not reach auth bookkeeping', method: 'GET', url: '/api/collections/_otps/records', auth: bearer('all'), status: 403 },
    { name: 'X-API-Key works too', method: 'GET', url: '/api/collections/orders/records', headers: { 'x-api-key': '' }, status: 200, before: () => void 0 },
    { name: 'a view within scope', method: 'GET', url: () => `/api/collections/orders/records/${ids.order}`, auth: bearer('reader'), status: 200 },
    { name: 'another collection is out of scope: 403', method: 'GET', url: '/api/collections/secrets/records', auth: bearer('reader'), status: 403, expect: { message: 'The API key is not allowed to list records of secrets.' } },
    { name: 'an action out of scope: 403', method: 'POST', url: '/api/collections/orders/records', auth: bearer('reader'), body: { total: 1 }, status: 403 },
    { name: 'a write key creates (hidden fields are not its to set)', method: 'POST', url: '/api/collections/orders/records', auth: bearer('writer'), body: { total: 5, note: 'by key' }, status: 200, expect: { total: 5 }, absent: ['note'] },
    { name: 'a write key cannot list', method: 'GET', url: '/api/collections/orders/records', auth: bearer('writer'), status: 403 },
    { name: 'a wildcard key lists any collection', method: 'GET', url: '/api/collections/secrets/records', auth: bearer('all'), status: 200, expect: { totalItems: 1 } },
    { name: 'a wildcard list key cannot view', method: 'GET', url: () => `/api/collections/orders/records/${ids.order}`, auth: bearer('all'), status: 403 },
    { name: 'an expired key is a guest', method: 'GET', url: '/api/collections/orders/records', auth: bearer('expired'), status: 403, expect: { message: 'Only superusers can perform this action.' } },
    { name: 'an unknown key is a guest', method: 'GET', url: '/api/collections/orders/records', auth: 'Bearer bsk_thisisnotarealkeyatallthisisnotarealkey000', status: 403, expect: { message: 'Only superusers can perform this action.' } },
    { name: 'keys cannot use the admin API', method: 'GET', url: '/api/collections', auth: bearer('all'), status: 403 },
    { name: 'keys cannot read the settings', method: 'GET', url: '/api/settings', auth: bearer('all'), status: 403 },
    { name: 'keys cannot filter with @collection', method: 'GET', url: '/api/collections/orders/records?filter=' + encodeURIComponent('@collection.secrets.value = "nope"'), auth: bearer('reader'), status: 403 },
    { name: 'keys cannot use auth endpoints', method: 'POST', url: '/api/collections/users/auth-refresh', auth: bearer('reader'), status: 403 },
    { name: 'keys cannot sign in', method: 'POST', url: '/api/collections/users/auth-with-password', auth: bearer('all'), body: { identity: 'alice@example.com', password: 'password123' }, status: 403 },
    { name: 'keys cannot impersonate', method: 'POST', url: () => `/api/collections/users/impersonate/${ids.alice}`, auth: bearer('all'), body: {}, status: 403 },
  ];
  // X-API-Key: the header is filled in at run time.
  const viaHeader = scenarios.find((s) => s.name === 'X-API-Key works too')!;
  viaHeader.headers = undefined;
  viaHeader.before = () => void (viaHeader.headers = { 'x-api-key': keys.reader.key });
  runScenarios(() => t, scenarios);

  it('expand into a collection out of scope is left out; within scope it is shown', async () => {
    const reader = await send(t, 'GET', `/api/collections/orders/records/${ids.order}?expand=buyer`, { auth: `Bearer ${keys.reader.key}` });
    expect(reader.status).toBe(200);
    expect(reader.body.expand).toBeUndefined();
    const both = await createKey({ name: 'both', scopes: [{ collection: 'orders', actions: ['view'] }, { collection: 'users', actions: ['view'] }] });
    const res = await send(t, 'GET', `/api/collections/orders/records/${ids.order}?expand=buyer`, { auth: `Bearer ${both.key}` });
    expect(res.body.expand.buyer).toMatchObject({ id: ids.alice, name: 'Alice' });
    // A key sees what a signed-in user would: no hidden email.
    expect(res.body.expand.buyer).not.toHaveProperty('email');
  });

  it('lastUsed is recorded', async () => {
    await send(t, 'GET', '/api/collections/orders/records', { auth: `Bearer ${keys.reader.key}` });
    for (let i = 0; i < 50; i++) {
      const view = await send(t, 'GET', `/api/keys/${keys.reader.id}`, { auth: tok.su });
      if (view.body.lastUsed !== '') return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('lastUsed was never written');
  });

  it('a revoked key stops working at once', async () => {
    const key = await createKey({ name: 'revoked', scopes: [{ collection: 'orders', actions: ['list'] }] });
    expect((await send(t, 'GET', '/api/collections/orders/records', { auth: `Bearer ${key.key}` })).status).toBe(200);
    expect((await send(t, 'DELETE', `/api/keys/${key.id}`, { auth: tok.su })).status).toBe(204);
    expect((await send(t, 'GET', '/api/collections/orders/records', { auth: `Bearer ${key.key}` })).status).toBe(403);
    expect((await send(t, 'DELETE', `/api/keys/${key.id}`, { auth: tok.su })).status).toBe(404);
  });

  it('a key whose collection is renamed keeps its scope', async () => {
    const key = await createKey({ name: 'renames', scopes: [{ collection: 'secrets', actions: ['list'] }] });
    expect((await send(t, 'PATCH', '/api/collections/secrets', { auth: tok.su, body: { name: 'vault' } })).status).toBe(200);
    expect((await send(t, 'GET', '/api/collections/vault/records', { auth: `Bearer ${key.key}` })).status).toBe(200);
    expect((await send(t, 'GET', `/api/keys/${key.id}`, { auth: tok.su })).body.scopes[0].collectionName).toBe('vault');
  });
});
