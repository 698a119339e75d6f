/**
 * Regressions of the security review: each case once leaked data or could be abused by a guest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let su = '';
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  await createCollection(t, {
    name: 'people',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'members', type: 'relation', collectionId: 'users', maxSelect: 10 },
      { name: 'secretRel', type: 'relation', collectionId: 'users', maxSelect: 1, hidden: true },
      { name: 'pin', type: 'password' },
      { name: 'data', type: 'json' },
    ],
  });
  await t.app.collections.update('users', { listRule: '', viewRule: '' });
  ids.victim = (await createAuthRecord(t, 'users', { email: 'mallory@zzz.example', emailVisibility: false })).id;
  ids.other = (await createAuthRecord(t, 'users', { email: 'aaa@example.com', emailVisibility: false })).id;
  ids.me = (await createAuthRecord(t, 'users', { email: 'zzzz@example.com', emailVisibility: true })).id;
  ids.team = String((await createRecord(t, 'people', { name: 'team', members: [ids.victim, ids.me], secretRel: ids.victim, pin: '1234' })).values.id);
});
afterAll(async () => {
  await t?.close();
});

describe('security regressions', () => {
  it('hidden e-mails cannot be probed through "match all" relation comparisons', async () => {
    for (const probe of ['mallorx', 'mallorz', 'a', '~']) {
      const res = await send(t, 'GET', `/api/collections/people/records?filter=${encodeURIComponent(`members.email >= "${probe}"`)}`);
      expect(res.status).toBe(200);
      // The victim's hidden e-mail reads as NULL: "every member's e-mail ≥ x" never holds.
      expect(res.body.totalItems).toBe(0);
    }
  });

  it('sorting users by e-mail does not order them by hidden e-mails', async () => {
    const up = await send(t, 'GET', '/api/collections/users/records?sort=email');
    const down = await send(t, 'GET', '/api/collections/users/records?sort=-email');
    const hidden = (body: { items: { id: string }[] }) => body.items.map((r) => r.id).filter((id) => id !== ids.me);
    // Both hidden e-mails sort as NULL: their relative order is the tie-breaker's (the row id, in
    // the sort's direction), the order they were created in — not their e-mails' (aaa@ < mallory@).
    expect(hidden(up.body)).toEqual([ids.victim, ids.other]);
    expect(hidden(down.body)).toEqual([ids.other, ids.victim]);
    expect(up.body.items.some((r: Record<string, unknown>) => r.email === 'mallory@zzz.example')).toBe(false);
  });

  it('hidden relations are not expanded for non-superusers', async () => {
    const guest = await send(t, 'GET', `/api/collections/people/records/${ids.team}?expand=secretRel`);
    expect(guest.body.expand?.secretRel).toBeUndefined();
    const back = await send(t, 'GET', `/api/collections/users/records/${ids.victim}?expand=people_via_secretRel`);
    expect(back.body.expand?.people_via_secretRel).toBeUndefined();
    const asSu = await send(t, 'GET', `/api/collections/people/records/${ids.team}?expand=secretRel`, { auth: su });
    expect(asSu.body.expand.secretRel.id).toBe(ids.victim);
  });

  it('password fields never leave the server and cannot be filtered by non-superusers', async () => {
    const guest = await send(t, 'GET', `/api/collections/people/records/${ids.team}`);
    expect(guest.body).not.toHaveProperty('pin');
    const asSu = await send(t, 'GET', `/api/collections/people/records/${ids.team}`, { auth: su });
    expect(asSu.body).not.toHaveProperty('pin');
    expect(asSu.raw).not.toContain('$2b$');
    const probe = await send(t, 'GET', `/api/collections/people/records?filter=${encodeURIComponent('pin ~ "$2b$%"')}`);
    expect(probe.status).toBe(400);
  });

  it('huge lists are refused quickly instead of being de-duplicated forever', async () => {
    const tags = Array.from({ length: 50_000 }, (_, i) => `id${i}`);
    const res = await send(t, 'POST', '/api/collections/people/records', { auth: su, body: { name: 'x', members: tags } });
    expect(res.status).toBe(400);
    expect(res.body.data.members.code).toBe('validation_invalid_value');
  });

  it('NUL characters are 400/404, never 500', async () => {
    const json = await send(t, 'POST', '/api/collections/people/records', { auth: su, body: { name: 'x', data: { s: 'a\u0000b' } } });
    expect(json.status).toBe(400);
    const rel = await send(t, 'POST', '/api/collections/people/records', { auth: su, body: { name: 'x', members: ['a\u0000b'] } });
    expect(rel.status).toBe(400);
    expect((await send(t, 'GET', '/api/collections/people/records/a%00b', { auth: su })).status).toBe(404);
    expect((await send(t, 'DELETE', '/api/collections/people/records/a%00b', { auth: su })).status).toBe(404);
  });

  it('prototype names are not literals in filters', async () => {
    for (const filter of ['constructor = name', 'name > __proto__', 'toString = 1']) {
      expect((await send(t, 'GET', `/api/collections/people/records?filter=${encodeURIComponent(filter)}`, { auth: su })).status).toBe(400);
    }
  });

  it('a malformed URL is a 400 in the standard shape', async () => {
    const res = await send(t, 'GET', '/api/collections/people/records/%ED%A0%80');
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  });
});

describe('filter fan-out', () => {
  it('a guest filter through many multi-valued relations is a 400, not a minutes-long scan', async () => {
    await createCollection(t, { name: 'nodes', listRule: '', fields: [{ name: 'title', type: 'text' }] });
    const nodes = await t.app.collections.find('nodes');
    await t.app.collections.update('nodes', { fields: [...nodes.fields, { name: 'rel', type: 'relation', collectionId: nodes.id, maxSelect: 50 }] });
    const filter = '(rel.rel.rel.rel.rel.title ?= "x" || title = "y")';
    const guest = await send(t, 'GET', `/api/collections/nodes/records?filter=${encodeURIComponent(filter)}`);
    expect(guest.status).toBe(400);
    expect(guest.body.data.filter.message).toMatch(/multi-valued/);
    const shallow = await send(t, 'GET', `/api/collections/nodes/records?filter=${encodeURIComponent('rel.rel.title ?= "x"')}`);
    expect(shallow.status).toBe(200);
    // Superusers have a higher bound (see client-budget.ts), never none: query-cost.test.ts.
    expect((await send(t, 'GET', `/api/collections/nodes/records?filter=${encodeURIComponent(filter)}`, { auth: su })).status).toBe(200);
  });
});

describe('@request.auth fields never fail open', () => {
  it('renaming an auth field rewrites the rules that read it through @request.auth', async () => {
    const users = await t.app.collections.find('users');
    await t.app.collections.update('users', { fields: [...users.fields, { name: 'banned', type: 'bool' }] });
    await createCollection(t, { name: 'posts2', createRule: '@request.auth.id != "" && @request.auth.banned != true', fields: [{ name: 'title', type: 'text' }] });
    const withBanned = await t.app.collections.find('users');
    const banned = withBanned.fields.find((f) => f.name === 'banned')!;
    await t.app.collections.update('users', { fields: withBanned.fields.map((f) => (f.id === banned.id ? { ...f, name: 'isBanned' } : f)) });
    expect((await t.app.collections.find('posts2')).createRule).toBe('@request.auth.id != "" && @request.auth.isBanned != true');
    const { token } = await createAuthRecord(t, 'users', { email: 'banned@example.com', isBanned: true });
    expect((await send(t, 'POST', '/api/collections/posts2/records', { auth: token, body: { title: 'x' } })).status).toBe(400);
  });

  it('dropping an auth field that a rule reads is refused', async () => {
    const users = await t.app.collections.find('users');
    const res = await send(t, 'PATCH', '/api/collections/users', { auth: su, body: { fields: users.fields.filter((f) => f.name !== 'isBanned') } });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.data)).toContain('posts2.createRule');
    expect((await t.app.collections.find('users')).fields.some((f) => f.name === 'isBanned')).toBe(true);
  });

  it('a rule naming an @request.auth field that no auth collection has is refused', async () => {
    const res = await send(t, 'POST', '/api/collections', { auth: su, body: { name: 'typo', listRule: '@request.auth.bannned != true', fields: [] } });
    expect(res.status).toBe(400);
    expect(res.body.data.listRule.code).toBe('validation_invalid_rule');
  });
});
