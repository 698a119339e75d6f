/**
 * Auth collection records through the records API (spec §1.2 "Auth collection extras", record
 * JSON, §3 system fields, §8.1 token invalidation): password rules, fields never exported,
 * e-mail visibility, owner vs manager vs superuser changes.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { CREATE_FAILED, NOT_FOUND, UPDATE_FAILED, countAsSuperuser, viewAsSuperuser } from './records-helpers.js';

let t: TestApp;
const app = () => t;
const tok: Record<string, string> = {};
const id: Record<string, string> = {};
const U = '/api/collections/users/records';
const M = '/api/collections/members/records';
const NEVER = ['password', 'tokenKey', 'passwordConfirm', 'oldPassword'];
const su = () => tok.su;
const user = (name: string) => () => tok[name];
const userUrl = (name: string) => () => `${U}/${id[name]}`;
const memberUrl = (name: string) => () => `${M}/${id[name]}`;

/** No key of NEVER anywhere in the body (records, list items, expanded records). */
function assertNoSecrets(body: unknown): void {
  const raw = JSON.stringify(body);
  for (const key of NEVER) expect(raw, `"${key}" leaked`).not.toContain(`"${key}"`);
}

async function login(collection: string, identity: string, password: string) {
  return send(t, 'POST', `/api/collections/${collection}/auth-with-password`, { body: { identity, password } });
}

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  for (const name of ['u1', 'u2']) {
    const r = await createAuthRecord(t, 'users', { email: `${name}@example.com`, name });
    tok[name] = r.token;
    id[name] = r.id;
  }
  await createCollection(t, {
    name: 'members',
    type: 'auth',
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: "id = @request.auth.id || @request.auth.role = 'admin'",
    manageRule: "@request.auth.role = 'admin'",
    fields: [{ name: 'role', type: 'select', values: ['admin', 'member'], maxSelect: 1 }],
  });
  for (const [name, extra] of [
    ['admin', { role: 'admin' }],
    ['m1', { role: 'member' }],
    ['m2', { role: 'member', emailVisibility: true }],
  ] as const) {
    const r = await createAuthRecord(t, 'members', { email: `${name}@example.com`, ...extra });
    tok[name] = r.token;
    id[name] = r.id;
  }
  await createCollection(t, {
    name: 'notes',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'owner', type: 'relation', collectionId: 'members', maxSelect: 1 },
      { name: 'user', type: 'relation', collectionId: 'users', maxSelect: 1 },
    ],
  });
  id.note = String((await createRecord(t, 'notes', { title: 'n', owner: id.m1, user: id.u1 })).values.id);
  await createCollection(t, { name: 'applicants', type: 'auth', createRule: 'verified = true' });
});

afterAll(async () => {
  await t?.close();
});

describe('password on create', () => {
  const creds = { email: 'new@example.com' };
  runScenarios(app, [
    {
      name: 'password missing',
      method: 'POST',
      url: U,
      body: creds,
      status: 400,
      expect: { message: CREATE_FAILED, data: { password: { code: 'validation_required' } } },
    },
    {
      name: 'passwordConfirm missing',
      method: 'POST',
      url: U,
      body: { ...creds, password: 'password123' },
      status: 400,
      expect: { data: { passwordConfirm: { code: 'validation_required' } } },
    },
    {
      name: 'passwordConfirm mismatch',
      method: 'POST',
      url: U,
      body: { ...creds, password: 'password123', passwordConfirm: 'password124' },
      status: 400,
      expect: { message: CREATE_FAILED, data: { passwordConfirm: { code: 'validation_values_mismatch' } } },
    },
    {
      name: 'password shorter than 8',
      method: 'POST',
      url: U,
      body: { ...creds, password: 'short', passwordConfirm: 'short' },
      status: 400,
      expect: { data: { password: { code: 'validation_min_text_constraint' } } },
      check: async () => expect(await countAsSuperuser(t, su(), 'users')).toBe(2),
    },
    {
      name: 'a duplicate email',
      method: 'POST',
      url: U,
      body: { email: 'u1@example.com', password: 'password123', passwordConfirm: 'password123' },
      status: 400,
      expect: { data: { email: { code: 'validation_not_unique' } } },
      check: async () => expect(await countAsSuperuser(t, su(), 'users')).toBe(2),
    },
    {
      name: 'a valid create never returns the password fields',
      method: 'POST',
      url: U,
      body: { ...creds, password: 'password123', passwordConfirm: 'password123', name: 'New' },
      status: 200,
      expect: { collectionName: 'users', name: 'New', verified: false, emailVisibility: false },
      absent: [...NEVER, 'email'],
      check: async (body) => {
        assertNoSecrets(body);
        const res = await login('users', 'new@example.com', 'password123');
        expect(res.status).toBe(200);
        expect(res.body.record.id).toBe(body.id);
        assertNoSecrets(res.body);
      },
      after: (body) => void (id.created = body.id),
    },
    {
      name: 'a guest cannot create a verified record',
      method: 'POST',
      url: U,
      body: { email: 'v@example.com', password: 'password123', passwordConfirm: 'password123', verified: true },
      status: 400,
      expect: { message: CREATE_FAILED, data: { verified: { code: 'validation_values_mismatch' } } },
      check: async () => expect(await countAsSuperuser(t, su(), 'users', "email = 'v@example.com'")).toBe(0),
    },
    {
      name: 'an explicit verified=false is accepted (clients echo it)',
      method: 'POST',
      url: U,
      body: { email: 'v@example.com', password: 'password123', passwordConfirm: 'password123', verified: false },
      status: 200,
      expect: { verified: false },
    },
    {
      name: 'a create rule cannot be satisfied by a self-declared verified',
      method: 'POST',
      url: '/api/collections/applicants/records',
      body: { email: 'ap@example.com', password: 'password123', passwordConfirm: 'password123', verified: true },
      status: 400,
      expect: { message: CREATE_FAILED },
      check: async () => expect(await countAsSuperuser(t, su(), 'applicants')).toBe(0),
    },
  ]);
});

describe('password and tokenKey never leave the server', () => {
  const scenarios: Scenario[] = [
    { name: 'superuser list', method: 'GET', url: `${U}?perPage=100`, auth: su, status: 200, absent: NEVER, check: (body) => expect(body.items.length).toBeGreaterThanOrEqual(3) },
    { name: 'superuser view', method: 'GET', url: userUrl('u1'), auth: su, status: 200, expect: { email: 'u1@example.com' }, absent: NEVER },
    { name: 'owner view', method: 'GET', url: userUrl('u1'), auth: user('u1'), status: 200, absent: NEVER },
    { name: 'superuser fields=*', method: 'GET', url: () => `${U}/${id.u1}?fields=*`, auth: su, status: 200, absent: NEVER },
    {
      name: 'superuser asking for them by name gets nothing',
      method: 'GET',
      url: () => `${U}/${id.u1}?fields=password,tokenKey`,
      auth: su,
      status: 200,
      check: (body) => expect(body).toEqual({}),
    },
    {
      name: 'superuser filter on tokenKey finds the record but does not show it',
      method: 'GET',
      url: `${U}?filter=${encodeURIComponent("tokenKey != ''")}`,
      auth: su,
      status: 200,
      absent: NEVER,
      check: (body) => expect(body.totalItems).toBeGreaterThanOrEqual(3),
    },
    {
      name: 'superuser expand of an auth relation',
      method: 'GET',
      url: () => `/api/collections/notes/records/${id.note}?expand=owner,user`,
      auth: su,
      status: 200,
      check: (body) => {
        expect(body.expand.owner.email).toBe('m1@example.com');
        expect(body.expand.user.email).toBe('u1@example.com');
        assertNoSecrets(body);
      },
    },
    {
      name: 'superuser update response',
      method: 'PATCH',
      url: userUrl('u2'),
      auth: su,
      body: { name: 'U2' },
      status: 200,
      expect: { name: 'U2' },
      check: assertNoSecrets,
    },
    { name: 'manager list', method: 'GET', url: M, auth: user('admin'), status: 200, check: assertNoSecrets },
  ];
  runScenarios(app, scenarios);
});

describe('email visibility', () => {
  const emails = (body: any) => Object.fromEntries(body.items.map((i: any) => [i.id, i.email]));
  runScenarios(app, [
    {
      name: 'guest list: only emailVisibility=true records show email',
      method: 'GET',
      url: M,
      status: 200,
      expect: { totalItems: 3 },
      check: (body) => expect(emails(body)).toEqual({ [id.admin]: undefined, [id.m1]: undefined, [id.m2]: 'm2@example.com' }),
    },
    {
      name: 'member list: own email and visible ones',
      method: 'GET',
      url: M,
      auth: user('m1'),
      status: 200,
      check: (body) => expect(emails(body)).toEqual({ [id.admin]: undefined, [id.m1]: 'm1@example.com', [id.m2]: 'm2@example.com' }),
    },
    {
      name: 'manager list: every email (manageRule satisfied)',
      method: 'GET',
      url: M,
      auth: user('admin'),
      status: 200,
      check: (body) => expect(emails(body)).toEqual({ [id.admin]: 'admin@example.com', [id.m1]: 'm1@example.com', [id.m2]: 'm2@example.com' }),
    },
    {
      name: 'superuser list: every email',
      method: 'GET',
      url: M,
      auth: su,
      status: 200,
      check: (body) => expect(emails(body)).toEqual({ [id.admin]: 'admin@example.com', [id.m1]: 'm1@example.com', [id.m2]: 'm2@example.com' }),
    },
    { name: 'guest view of a hidden email', method: 'GET', url: memberUrl('m1'), status: 200, absent: ['email'], check: (body) => expect(body).toMatchObject({ id: id.m1, emailVisibility: false }) },
    { name: 'another member views a hidden email', method: 'GET', url: memberUrl('admin'), auth: user('m1'), status: 200, absent: ['email'] },
    { name: 'owner views their hidden email', method: 'GET', url: memberUrl('m1'), auth: user('m1'), status: 200, expect: { email: 'm1@example.com', emailVisibility: false } },
    { name: 'manager views a hidden email', method: 'GET', url: memberUrl('m1'), auth: user('admin'), status: 200, expect: { email: 'm1@example.com' } },
    { name: 'a users token is no owner of a members record', method: 'GET', url: memberUrl('m1'), auth: user('u1'), status: 200, absent: ['email'] },
    { name: 'guest view of a visible email', method: 'GET', url: memberUrl('m2'), status: 200, expect: { email: 'm2@example.com', emailVisibility: true } },
    {
      name: 'guest expand of a hidden email',
      method: 'GET',
      url: () => `/api/collections/notes/records/${id.note}?expand=owner`,
      status: 200,
      check: (body) => {
        expect(body.expand.owner.id).toBe(id.m1);
        expect(body.expand.owner).not.toHaveProperty('email');
      },
    },
    {
      name: 'owner expand of their hidden email',
      method: 'GET',
      url: () => `/api/collections/notes/records/${id.note}?expand=owner`,
      auth: user('m1'),
      status: 200,
      check: (body) => expect(body.expand.owner.email).toBe('m1@example.com'),
    },
    {
      name: 'manager expand of a hidden email',
      method: 'GET',
      url: () => `/api/collections/notes/records/${id.note}?expand=owner`,
      auth: user('admin'),
      status: 200,
      check: (body) => expect(body.expand.owner.email).toBe('m1@example.com'),
    },
    {
      name: 'a guest filter on email matches visible emails only',
      method: 'GET',
      url: `${M}?filter=${encodeURIComponent("email = 'm2@example.com' || email = 'm1@example.com'")}`,
      status: 200,
      expect: { totalItems: 1, items: [{ email: 'm2@example.com' }] },
    },
    {
      name: 'a superuser filter on email matches every email',
      method: 'GET',
      url: `${M}?filter=${encodeURIComponent("email = 'm2@example.com' || email = 'm1@example.com'")}`,
      auth: su,
      status: 200,
      expect: { totalItems: 2 },
    },
    {
      name: 'the owner may make the email visible',
      method: 'PATCH',
      url: memberUrl('m1'),
      auth: user('m1'),
      body: { emailVisibility: true },
      status: 200,
      expect: { emailVisibility: true, email: 'm1@example.com' },
    },
    { name: 'now guests see it', method: 'GET', url: memberUrl('m1'), status: 200, expect: { email: 'm1@example.com' } },
    { name: 'and hide it again', method: 'PATCH', url: memberUrl('m1'), auth: user('m1'), body: { emailVisibility: false }, status: 200, expect: { emailVisibility: false } },
    { name: 'hidden again for guests', method: 'GET', url: memberUrl('m1'), status: 200, absent: ['email'] },
  ]);
});

describe('owner updates', () => {
  const change = { password: 'newpassword1', passwordConfirm: 'newpassword1' };
  runScenarios(app, [
    {
      name: 'a password change without oldPassword',
      method: 'PATCH',
      url: userUrl('u1'),
      auth: user('u1'),
      body: change,
      status: 400,
      // PocketBase: validation.Required first, then checkOldPassword.
      expect: { message: UPDATE_FAILED, data: { oldPassword: { code: 'validation_required' } } },
    },
    {
      name: 'a password change with a wrong oldPassword',
      method: 'PATCH',
      url: userUrl('u1'),
      auth: user('u1'),
      body: { ...change, oldPassword: 'wrongpassword' },
      status: 400,
      expect: { data: { oldPassword: { code: 'validation_invalid_old_password' } } },
    },
    {
      name: 'a password change with a mismatched confirmation',
      method: 'PATCH',
      url: userUrl('u1'),
      auth: user('u1'),
      body: { password: 'newpassword1', passwordConfirm: 'newpassword2', oldPassword: 'password123' },
      status: 400,
      expect: { data: { passwordConfirm: { code: 'validation_values_mismatch' } } },
      check: async () => expect((await login('users', 'u1@example.com', 'password123')).status).toBe(200),
    },
    {
      name: 'the old token still works before the change',
      method: 'GET',
      url: userUrl('u1'),
      auth: user('u1'),
      status: 200,
      expect: { email: 'u1@example.com' },
    },
    {
      name: 'a password change with the right oldPassword',
      method: 'PATCH',
      url: userUrl('u1'),
      auth: user('u1'),
      body: { ...change, oldPassword: 'password123' },
      status: 200,
      absent: NEVER,
      expect: { email: 'u1@example.com' },
    },
    { name: 'the old token now acts as a guest: view 404', method: 'GET', url: userUrl('u1'), auth: user('u1'), status: 404, expect: { message: NOT_FOUND } },
    { name: 'the old token now acts as a guest: list empty', method: 'GET', url: U, auth: user('u1'), status: 200, expect: { totalItems: 0, items: [] } },
    {
      name: 'the old token cannot update any more',
      method: 'PATCH',
      url: userUrl('u1'),
      auth: user('u1'),
      body: { name: 'stolen' },
      status: 404,
      check: async () => expect((await viewAsSuperuser(t, su(), 'users', id.u1)).name).toBe('u1'),
    },
    {
      name: 'the new password logs in, the old one does not',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: { identity: 'u1@example.com', password: 'newpassword1' },
      status: 200,
      check: async (body) => {
        expect((await login('users', 'u1@example.com', 'password123')).status).toBe(400);
        tok.u1 = body.token;
      },
    },
    { name: 'a new token works', method: 'GET', url: userUrl('u1'), auth: user('u1'), status: 200, expect: { email: 'u1@example.com' } },
    {
      name: 'the owner cannot change the email directly',
      method: 'PATCH',
      url: userUrl('u1'),
      auth: user('u1'),
      body: { email: 'u1-new@example.com' },
      status: 400,
      expect: { message: UPDATE_FAILED, data: { email: { code: 'validation_values_mismatch' } } },
      check: async (body) => {
        expect(Object.keys(body.data)).toEqual(['email']);
        expect((await viewAsSuperuser(t, su(), 'users', id.u1)).email).toBe('u1@example.com');
      },
    },
    {
      name: 'the owner cannot verify themselves',
      method: 'PATCH',
      url: userUrl('u2'),
      auth: user('u2'),
      body: { verified: true, name: 'verified?' },
      status: 400,
      expect: { message: UPDATE_FAILED, data: { verified: { code: 'validation_values_mismatch' } } },
      check: async () => expect(await viewAsSuperuser(t, su(), 'users', id.u2)).toMatchObject({ verified: false, name: 'U2' }),
    },
    { name: 'sending the unchanged verified is fine', method: 'PATCH', url: userUrl('u2'), auth: user('u2'), body: { verified: false, name: 'U2' }, status: 200, expect: { verified: false } },
    { name: 'sending the unchanged email is fine', method: 'PATCH', url: userUrl('u1'), auth: user('u1'), body: { email: 'u1@example.com', name: 'u1!' }, status: 200, expect: { name: 'u1!' } },
    { name: 'another user cannot update', method: 'PATCH', url: userUrl('u1'), auth: user('u2'), body: { name: 'x' }, status: 404 },
  ]);
});

describe('managers (manageRule)', () => {
  runScenarios(app, [
    { name: 'a member cannot update another member', method: 'PATCH', url: memberUrl('m1'), auth: user('m2'), body: { role: 'admin' }, status: 404 },
    {
      name: 'a manager changes a password without oldPassword',
      method: 'PATCH',
      url: memberUrl('m1'),
      auth: user('admin'),
      body: { password: 'managedpass1', passwordConfirm: 'managedpass1' },
      status: 200,
      absent: NEVER,
      check: async () => {
        expect((await login('members', 'm1@example.com', 'managedpass1')).status).toBe(200);
        expect((await login('members', 'm1@example.com', 'password123')).status).toBe(400);
      },
    },
    {
      name: "the member's old token is revoked",
      method: 'POST',
      url: '/api/collections/members/auth-refresh',
      auth: user('m1'),
      status: 401,
    },
    { name: 'a manager verifies a member', method: 'PATCH', url: memberUrl('m1'), auth: user('admin'), body: { verified: true }, status: 200, expect: { verified: true } },
    { name: 'a manager changes an email', method: 'PATCH', url: memberUrl('m1'), auth: user('admin'), body: { email: 'm1-new@example.com' }, status: 200, expect: { email: 'm1-new@example.com' } },
    {
      name: 'the stored values changed',
      method: 'GET',
      url: memberUrl('m1'),
      auth: su,
      status: 200,
      expect: { email: 'm1-new@example.com', verified: true },
    },
    {
      name: 'a manager password change still needs a matching confirmation',
      method: 'PATCH',
      url: memberUrl('m2'),
      auth: user('admin'),
      body: { password: 'managedpass1', passwordConfirm: 'managedpass2' },
      status: 400,
      expect: { data: { passwordConfirm: { code: 'validation_values_mismatch' } } },
    },
    {
      name: 'a non-manager member cannot verify themselves',
      method: 'PATCH',
      url: memberUrl('m2'),
      auth: user('m2'),
      body: { verified: true },
      status: 400,
      expect: { data: { verified: { code: 'validation_values_mismatch' } } },
      check: async () => expect((await viewAsSuperuser(t, su(), 'members', id.m2)).verified).toBe(false),
    },
  ]);
});

describe('superusers change anything', () => {
  runScenarios(app, [
    {
      name: 'email, verified and password at once, without oldPassword',
      method: 'PATCH',
      url: userUrl('u2'),
      auth: su,
      body: { email: 'u2-new@example.com', verified: true, emailVisibility: true, password: 'supersetpw1', passwordConfirm: 'supersetpw1' },
      status: 200,
      expect: { email: 'u2-new@example.com', verified: true, emailVisibility: true },
      absent: NEVER,
      check: async () => expect((await login('users', 'u2-new@example.com', 'supersetpw1')).status).toBe(200),
    },
    { name: "the user's old token is revoked", method: 'GET', url: userUrl('u2'), auth: user('u2'), status: 404 },
    {
      name: 'a superuser creates a verified record',
      method: 'POST',
      url: U,
      auth: su,
      body: { email: 'sv@example.com', password: 'password123', passwordConfirm: 'password123', verified: true },
      status: 200,
      expect: { email: 'sv@example.com', verified: true },
      absent: NEVER,
    },
    {
      name: 'a superuser create still needs the password confirmation',
      method: 'POST',
      url: U,
      auth: su,
      body: { email: 'sv2@example.com', password: 'password123' },
      status: 400,
      expect: { data: { passwordConfirm: { code: 'validation_required' } } },
    },
    {
      name: 'a superuser passes a create rule that others cannot',
      method: 'POST',
      url: '/api/collections/applicants/records',
      auth: su,
      body: { email: 'ap@example.com', password: 'password123', passwordConfirm: 'password123' },
      status: 200,
      check: async () => expect(await countAsSuperuser(t, su(), 'applicants')).toBe(1),
    },
  ]);
});
