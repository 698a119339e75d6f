/**
 * Password auth, auth-refresh, auth-methods (spec §1.3) and how tokens are read on every request
 * (spec §1.1, §8.1): raw or `Bearer` tokens, invalid tokens meaning "guest", tokenKey rotation.
 */
import { systemClock } from '../../src/core/clock.js';
import { SignJWT } from 'jose';
import { signRecordToken } from '../../src/core/auth/tokens.js';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;

/** Tokens and ids seeded in beforeAll, read lazily by the scenarios. */
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};

const AUTH_FAILED = 'Failed to authenticate.';
const NO_AUTH_CONTEXT = 'Missing or invalid auth collection context.';
const AUTH_RULE_FAILED = "The request doesn't satisfy the collection requirements to authenticate.";
const PASSWORD_AUTH_DISABLED = 'The collection is not configured to allow password authentication.';

function decodeJwt(token: string): { header: any; payload: any } {
  const parts = token.split('.');
  expect(parts, 'a JWT has three dot-separated parts').toHaveLength(3);
  const part = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: part(parts[0]), payload: part(parts[1]) };
}

/** Asserts a PocketBase auth token for `recordId` of `collectionId`. */
function expectAuthToken(token: unknown, recordId: string, collectionId: string, refreshable = true): void {
  expect(typeof token).toBe('string');
  const { header, payload } = decodeJwt(token as string);
  expect(header.alg).toBe('HS256');
  expect(payload).toMatchObject({ id: recordId, type: 'auth', collectionId, refreshable });
  const now = Math.floor(Date.now() / 1000);
  // Default auth token duration: 432000 s (5 days).
  expect(payload.exp).toBeGreaterThan(now + 432000 - 120);
  expect(payload.exp).toBeLessThanOrEqual(now + 432000 + 5);
}

/** An auth response: {token, record} where the record is exported for its owner (email visible, no secrets). */
function expectAuthResponse(body: any, recordId: string, collectionId: string, email: string): void {
  expect(Object.keys(body).sort()).toEqual(['record', 'token']);
  expectAuthToken(body.token, recordId, collectionId);
  expect(body.record).toMatchObject({ id: recordId, collectionId, email });
  expect(body.record).not.toHaveProperty('password');
  expect(body.record).not.toHaveProperty('tokenKey');
}

/** How many posts the given auth sees; posts' listRule is `@request.auth.id != ''`. */
async function visiblePosts(auth?: string): Promise<number> {
  const res = await send(t, 'GET', '/api/collections/posts/records', { auth });
  expect(res.status, res.raw).toBe(200);
  return res.body.totalItems;
}

const password = (identity: string, pass: string, extra: Record<string, unknown> = {}) => ({ identity, password: pass, ...extra });

beforeAll(async () => {
  t = await startTestApp();
  const su = await createSuperuser(t, 'root@example.com', 'rootpassword1');
  tok.superuser = su.token;
  ids.superuser = su.id;

  const alice = await createAuthRecord(t, 'users', { email: 'Alice@Example.com', password: 'alicepassword', name: 'Alice' });
  tok.alice = alice.token;
  ids.alice = alice.id;
  const rot = await createAuthRecord(t, 'users', { email: 'rot@example.com', password: 'rotpassword1' });
  tok.rot = rot.token;
  ids.rot = rot.id;
  const doomed = await createAuthRecord(t, 'users', { email: 'doomed@example.com' });
  tok.doomed = doomed.token;
  ids.doomed = doomed.id;
  tok.aliceExpired = await t.app.auth.issueToken(alice.record, true, -60);
  tok.aliceNonRefreshable = await t.app.auth.issueToken(alice.record, false, 3600);
  // A valid token of another type (file tokens have their own secret) is not an auth token.
  tok.aliceFileToken = await signRecordToken(systemClock, alice.record, 'file');

  // An auth collection with a NOCASE email index and a second identity field.
  await createCollection(t, {
    name: 'members',
    type: 'auth',
    fields: [{ name: 'username', type: 'text' }],
    indexes: [
      "CREATE UNIQUE INDEX idx_members_email_nocase ON members (email COLLATE NOCASE) WHERE email != ''",
      'CREATE UNIQUE INDEX idx_members_username ON members (username)',
    ],
    passwordAuth: { enabled: true, identityFields: ['email', 'username'] },
  });
  const carol = await createAuthRecord(t, 'members', { email: 'Carol@Example.com', username: 'carol_u', password: 'carolpassword' });
  tok.carol = carol.token;
  ids.carol = carol.id;
  ids.members = t.app.registry.find('members')!.id;

  // Password auth disabled.
  await createCollection(t, { name: 'nopass', type: 'auth', passwordAuth: { enabled: false } });
  await createAuthRecord(t, 'nopass', { email: 'np@example.com', password: 'nppassword1' });

  // authRule: only verified records may authenticate.
  await createCollection(t, { name: 'strict', type: 'auth', authRule: 'verified = true' });
  const unverified = await createAuthRecord(t, 'strict', { email: 'unverified@example.com', password: 'strictpass1' });
  tok.unverified = unverified.token;
  ids.unverified = unverified.id;
  const verified = await createAuthRecord(t, 'strict', { email: 'verified@example.com', password: 'strictpass1', verified: true });
  ids.verified = verified.id;
  ids.strict = t.app.registry.find('strict')!.id;

  // A base collection only authenticated requests can list.
  await createCollection(t, { name: 'posts', type: 'base', listRule: "@request.auth.id != ''", fields: [{ name: 'title', type: 'text' }] });
  await createRecord(t, 'posts', { title: 'one' });
  await createRecord(t, 'posts', { title: 'two' });

  // Forged tokens: right claims, wrong key; and an unsigned one.
  const claims = { id: alice.id, type: 'auth', collectionId: '_pb_users_auth_', refreshable: true };
  tok.forged = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(new TextEncoder().encode('this-is-not-the-signing-key-of-anything-at-all'));
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  tok.unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
  // Alice's valid token with the payload swapped for another user's id (signature no longer matches).
  const [h, , s] = alice.token.split('.');
  tok.tampered = `${h}.${b64({ ...claims, id: rot.id, exp: Math.floor(Date.now() / 1000) + 3600 })}.${s}`;
});
afterAll(async () => {
  await t?.close();
});

describe('GET /auth-methods', () => {
  runScenarios(() => t, [
    {
      name: 'users: full shape with legacy fields',
      method: 'GET',
      url: '/api/collections/users/auth-methods',
      status: 200,
      check: (body) => {
        expect(body.password).toEqual({ enabled: true, identityFields: ['email'] });
        expect(body.oauth2).toMatchObject({ enabled: false, providers: [] });
        expect(body.mfa).toEqual({ enabled: false, duration: 0 });
        expect(body.otp).toEqual({ enabled: false, duration: 0 });
        expect(body.authProviders).toEqual([]);
        expect(body.usernamePassword).toBe(false);
        expect(body.emailPassword).toBe(true);
      },
    },
    {
      name: 'the SDK query ?fields=mfa,otp,password,oauth2 keeps exactly those keys',
      method: 'GET',
      url: '/api/collections/users/auth-methods?fields=mfa,otp,password,oauth2',
      status: 200,
      check: (body) => {
        expect(Object.keys(body).sort()).toEqual(['mfa', 'oauth2', 'otp', 'password']);
        expect(body.password).toEqual({ enabled: true, identityFields: ['email'] });
      },
    },
    {
      name: 'two identity fields: username/email legacy flags both true',
      method: 'GET',
      url: '/api/collections/members/auth-methods',
      status: 200,
      expect: { password: { enabled: true, identityFields: ['email', 'username'] }, usernamePassword: true, emailPassword: true },
    },
    {
      name: 'by collection id',
      method: 'GET',
      url: () => `/api/collections/${ids.members}/auth-methods`,
      status: 200,
      expect: { password: { enabled: true, identityFields: ['email', 'username'] } },
    },
    {
      name: 'password auth disabled shows enabled:false',
      method: 'GET',
      url: '/api/collections/nopass/auth-methods',
      status: 200,
      expect: { password: { enabled: false }, emailPassword: false, usernamePassword: false },
    },
    {
      name: 'non-auth collection',
      method: 'GET',
      url: '/api/collections/posts/auth-methods',
      status: 404,
      expect: { message: NO_AUTH_CONTEXT, data: {} },
    },
    {
      name: 'missing collection',
      method: 'GET',
      url: '/api/collections/missing/auth-methods',
      status: 404,
      expect: { message: NO_AUTH_CONTEXT },
    },
  ]);
});

describe('POST /auth-with-password', () => {
  runScenarios(() => t, [
    {
      name: 'valid credentials: {token, record} with an HS256 auth JWT and the owner email',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: password('Alice@Example.com', 'alicepassword'),
      status: 200,
      check: (body) => {
        expectAuthResponse(body, ids.alice, '_pb_users_auth_', 'Alice@Example.com');
        expect(body.record).toMatchObject({ collectionName: 'users', name: 'Alice', emailVisibility: false, verified: false });
      },
      after: async (body) => {
        // The issued token authenticates: the users viewRule is `id = @request.auth.id`.
        const res = await send(t, 'GET', `/api/collections/users/records/${ids.alice}`, { auth: body.token });
        expect(res.status, res.raw).toBe(200);
        expect(res.body.email).toBe('Alice@Example.com');
      },
    },
    {
      name: 'by collection id',
      method: 'POST',
      url: '/api/collections/_pb_users_auth_/auth-with-password',
      body: password('Alice@Example.com', 'alicepassword'),
      status: 200,
      check: (body) => expectAuthToken(body.token, ids.alice, '_pb_users_auth_'),
    },
    {
      name: 'superusers authenticate through _superusers (id pbc_3142635823)',
      method: 'POST',
      url: '/api/collections/_superusers/auth-with-password',
      body: password('root@example.com', 'rootpassword1'),
      status: 200,
      check: (body) => {
        expectAuthResponse(body, ids.superuser, 'pbc_3142635823', 'root@example.com');
        expect(body.record.collectionName).toBe('_superusers');
      },
    },
    {
      name: 'form-urlencoded body',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `identity=${encodeURIComponent('Alice@Example.com')}&password=alicepassword`,
      status: 200,
      check: (body) => expectAuthToken(body.token, ids.alice, '_pb_users_auth_'),
    },
    {
      name: '?fields=token reduces the auth response',
      method: 'POST',
      url: '/api/collections/users/auth-with-password?fields=token',
      body: password('Alice@Example.com', 'alicepassword'),
      status: 200,
      check: (body) => {
        expect(Object.keys(body)).toEqual(['token']);
        expectAuthToken(body.token, ids.alice, '_pb_users_auth_');
      },
    },
    {
      name: '?fields=record.id reduces the auth response',
      method: 'POST',
      url: '/api/collections/users/auth-with-password?fields=record.id',
      body: password('Alice@Example.com', 'alicepassword'),
      status: 200,
      check: (body) => expect(body).toEqual({ record: { id: ids.alice } }),
    },
    {
      name: 'wrong password',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: password('Alice@Example.com', 'wrongpassword'),
      status: 400,
      expect: { message: AUTH_FAILED, data: {} },
    },
    {
      name: 'unknown identity',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: password('nobody@example.com', 'alicepassword'),
      status: 400,
      expect: { message: AUTH_FAILED, data: {} },
    },
    {
      name: 'another collection’s credentials',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: password('root@example.com', 'rootpassword1'),
      status: 400,
      expect: { message: AUTH_FAILED },
    },
    {
      name: 'missing identity and password',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: {},
      status: 400,
      expect: { message: AUTH_FAILED, data: { identity: { code: 'validation_required' }, password: { code: 'validation_required' } } },
    },
    {
      name: 'the plain email index is case-sensitive',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: password('alice@example.com', 'alicepassword'),
      status: 400,
      expect: { message: AUTH_FAILED },
    },
    {
      name: 'a NOCASE email index makes the lookup case-insensitive',
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      body: password('cAROL@example.COM', 'carolpassword'),
      status: 200,
      check: (body) => expectAuthResponse(body, ids.carol, ids.members, 'Carol@Example.com'),
    },
    {
      name: 'second identity field (username) without identityField',
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      body: password('carol_u', 'carolpassword'),
      status: 200,
      check: (body) => expectAuthToken(body.token, ids.carol, ids.members),
    },
    {
      name: 'the username index has no NOCASE: case matters',
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      body: password('CAROL_U', 'carolpassword'),
      status: 400,
      expect: { message: AUTH_FAILED },
    },
    {
      name: 'identityField=username with the username',
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      body: password('carol_u', 'carolpassword', { identityField: 'username' }),
      status: 200,
      check: (body) => expectAuthToken(body.token, ids.carol, ids.members),
    },
    {
      name: 'identityField=username with the email does not match',
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      body: password('Carol@Example.com', 'carolpassword', { identityField: 'username' }),
      status: 400,
      expect: { message: AUTH_FAILED },
    },
    {
      name: 'identityField=email with the username does not match',
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      body: password('carol_u', 'carolpassword', { identityField: 'email' }),
      status: 400,
      expect: { message: AUTH_FAILED },
    },
    {
      name: 'identityField that is not an identity field',
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      body: password('carol_u', 'carolpassword', { identityField: 'verified' }),
      status: 400,
      expect: { message: AUTH_FAILED },
      check: (body) => expect(Object.keys(body.data)).toEqual(['identityField']),
    },
    {
      name: 'password auth disabled',
      method: 'POST',
      url: '/api/collections/nopass/auth-with-password',
      body: password('np@example.com', 'nppassword1'),
      status: 403,
      expect: { message: PASSWORD_AUTH_DISABLED, data: {} },
    },
    {
      name: 'authRule not satisfied (unverified record)',
      method: 'POST',
      url: '/api/collections/strict/auth-with-password',
      body: password('unverified@example.com', 'strictpass1'),
      status: 403,
      expect: { message: AUTH_RULE_FAILED, data: {} },
    },
    {
      name: 'authRule satisfied (verified record)',
      method: 'POST',
      url: '/api/collections/strict/auth-with-password',
      body: password('verified@example.com', 'strictpass1'),
      status: 200,
      check: (body) => expectAuthToken(body.token, ids.verified, ids.strict),
    },
    {
      name: 'authRule is not checked before the password (wrong password → 400, not 403)',
      method: 'POST',
      url: '/api/collections/strict/auth-with-password',
      body: password('unverified@example.com', 'wrongpassword'),
      status: 400,
      expect: { message: AUTH_FAILED },
    },
    {
      name: 'non-auth collection',
      method: 'POST',
      url: '/api/collections/posts/auth-with-password',
      body: password('Alice@Example.com', 'alicepassword'),
      status: 404,
      expect: { message: NO_AUTH_CONTEXT, data: {} },
    },
    {
      name: 'missing collection',
      method: 'POST',
      url: '/api/collections/missing/auth-with-password',
      body: password('Alice@Example.com', 'alicepassword'),
      status: 404,
      expect: { message: NO_AUTH_CONTEXT },
    },
  ]);
});

describe('POST /auth-refresh', () => {
  const bearerVariants = ['Bearer ', 'bearer ', 'BEARER ', 'bEaReR '];
  runScenarios(() => t, [
    {
      name: 'without auth',
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      status: 401,
      expect: { data: {} },
    },
    {
      name: 'with a garbage token (guest)',
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: 'garbage',
      status: 401,
    },
    {
      name: 'with an expired token (guest)',
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: () => tok.aliceExpired,
      status: 401,
    },
    {
      name: 'with a superuser token on users',
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: () => tok.superuser,
      status: 403,
      expect: { data: {} },
    },
    {
      name: 'with a token of another auth collection (members) on users',
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: () => tok.carol,
      status: 403,
    },
    {
      name: 'raw token: a new token and the owner record',
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: () => tok.alice,
      status: 200,
      check: (body) => expectAuthResponse(body, ids.alice, '_pb_users_auth_', 'Alice@Example.com'),
      after: async (body) => {
        expect(await visiblePosts(body.token), 'the refreshed token authenticates').toBe(2);
      },
    },
    ...bearerVariants.map(
      (prefix): Scenario => ({
        name: `"${prefix.trim()} <token>" is accepted`,
        method: 'POST',
        url: '/api/collections/users/auth-refresh',
        auth: () => prefix + tok.alice,
        status: 200,
        check: (body) => expectAuthToken(body.token, ids.alice, '_pb_users_auth_'),
      }),
    ),
    {
      name: 'superuser refreshes on _superusers',
      method: 'POST',
      url: '/api/collections/_superusers/auth-refresh',
      auth: () => tok.superuser,
      status: 200,
      check: (body) => expectAuthResponse(body, ids.superuser, 'pbc_3142635823', 'root@example.com'),
    },
    {
      name: 'a non-refreshable (impersonate) token comes back unchanged',
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: () => tok.aliceNonRefreshable,
      status: 200,
      check: (body) => {
        expect(body.token).toBe(tok.aliceNonRefreshable);
        expect(decodeJwt(body.token).payload.refreshable).toBe(false);
        expect(body.record.id).toBe(ids.alice);
      },
    },
    {
      name: 'authRule no longer satisfied',
      method: 'POST',
      url: '/api/collections/strict/auth-refresh',
      auth: () => tok.unverified,
      status: 403,
      expect: { message: AUTH_RULE_FAILED },
    },
    {
      name: 'non-auth collection',
      method: 'POST',
      url: '/api/collections/posts/auth-refresh',
      auth: () => tok.alice,
      status: 404,
      expect: { message: NO_AUTH_CONTEXT },
    },
  ]);
});

describe('tokens on ordinary requests', () => {
  const guestLike = (name: string, auth: () => string): Scenario => ({
    name: `${name} → treated as a guest (0 items, not 401)`,
    method: 'GET',
    url: '/api/collections/posts/records',
    auth,
    status: 200,
    expect: { totalItems: 0, items: [] },
  });
  runScenarios(() => t, [
    {
      name: 'a valid raw token sees the posts',
      method: 'GET',
      url: '/api/collections/posts/records',
      auth: () => tok.alice,
      status: 200,
      expect: { totalItems: 2 },
    },
    {
      name: 'a valid Bearer token sees the posts',
      method: 'GET',
      url: '/api/collections/posts/records',
      auth: () => 'Bearer ' + tok.alice,
      status: 200,
      expect: { totalItems: 2 },
    },
    {
      name: 'no token',
      method: 'GET',
      url: '/api/collections/posts/records',
      status: 200,
      expect: { totalItems: 0, items: [] },
    },
    guestLike('a garbage token', () => 'garbage'),
    guestLike('"Bearer" with garbage', () => 'Bearer not.a.jwt'),
    guestLike('an expired token', () => tok.aliceExpired),
    guestLike('a token signed with another key', () => tok.forged),
    guestLike('an unsigned (alg none) token', () => tok.unsigned),
    guestLike('a token whose payload was tampered with', () => tok.tampered),
    guestLike('a valid file token (type "file", not "auth")', () => tok.aliceFileToken),
    {
      name: 'a deleted record’s token',
      method: 'DELETE',
      url: () => `/api/collections/users/records/${ids.doomed}`,
      auth: () => tok.superuser,
      status: 204,
      after: async () => {
        expect(await visiblePosts(tok.doomed)).toBe(0);
      },
    },
  ]);
});

describe('tokenKey rotation revokes old tokens', () => {
  runScenarios(() => t, [
    {
      name: 'the old token works before the change',
      method: 'GET',
      url: '/api/collections/posts/records',
      auth: () => tok.rot,
      status: 200,
      expect: { totalItems: 2 },
    },
    {
      name: 'superuser sets a new password',
      method: 'PATCH',
      url: () => `/api/collections/users/records/${ids.rot}`,
      auth: () => tok.superuser,
      body: { password: 'rotpassword2', passwordConfirm: 'rotpassword2' },
      status: 200,
      check: (body) => expect(body.id).toBe(ids.rot),
    },
    {
      name: 'the old token is now a guest token',
      method: 'GET',
      url: '/api/collections/posts/records',
      auth: () => tok.rot,
      status: 200,
      expect: { totalItems: 0 },
    },
    {
      name: 'the old token cannot refresh',
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: () => tok.rot,
      status: 401,
    },
    {
      name: 'the old password no longer authenticates',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: password('rot@example.com', 'rotpassword1'),
      status: 400,
      expect: { message: AUTH_FAILED },
    },
    {
      name: 'the new password does, and its token works',
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      body: password('rot@example.com', 'rotpassword2'),
      status: 200,
      check: (body) => expectAuthToken(body.token, ids.rot, '_pb_users_auth_'),
      after: async (body) => {
        expect(await visiblePosts(body.token)).toBe(2);
      },
    },
    {
      name: 'other users’ tokens are untouched',
      method: 'GET',
      url: '/api/collections/posts/records',
      auth: () => tok.alice,
      status: 200,
      expect: { totalItems: 2 },
    },
  ]);
});

describe('superuser vs record tokens on the admin API', () => {
  runScenarios(() => t, [
    {
      name: 'superuser token',
      method: 'GET',
      url: '/api/collections',
      auth: () => tok.superuser,
      status: 200,
      check: (body) => expect(body.items.length).toBeGreaterThan(0),
    },
    {
      name: 'superuser token with Bearer',
      method: 'GET',
      url: '/api/collections',
      auth: () => 'Bearer ' + tok.superuser,
      status: 200,
    },
    { name: 'users token', method: 'GET', url: '/api/collections', auth: () => tok.alice, status: 403, expect: { data: {} } },
    { name: 'another auth collection token', method: 'GET', url: '/api/collections', auth: () => tok.carol, status: 403 },
    { name: 'expired superuser-like token → guest → 401', method: 'GET', url: '/api/collections', auth: () => tok.aliceExpired, status: 401 },
    { name: 'no token', method: 'GET', url: '/api/collections', status: 401, expect: { data: {} } },
  ]);
});
