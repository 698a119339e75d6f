/**
 * OAuth2 / OpenID Connect end to end against a real OpenID Connect provider on loopback
 * (`oidc-provider`): discovery, the authorization code flow with PKCE, sign-up on the first
 * login, the same record on the next, linking by the signed-in account and by verified email,
 * and refusals: a used code, a wrong verifier, a nonce or issuer that does not match, an
 * unknown redirect state. Runs on every engine.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OAuth2RedirectMessage } from '../../src/core/auth/oauth2/oauth2-redirects.js';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startOidcServer, type OidcServer } from '../harness/oidc-server.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

const REDIRECT = 'http://127.0.0.1:5999/oauth2/callback';

let t: TestApp;
let idp: OidcServer;
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};

async function configure(oauth2: Record<string, unknown>) {
  const res = await send(t, 'PATCH', '/api/collections/users', { auth: tok.su, body: { oauth2 } });
  expect(res.status, res.raw).toBe(200);
  return res.body;
}

async function methods() {
  const res = await send(t, 'GET', '/api/collections/users/auth-methods');
  expect(res.status, res.raw).toBe(200);
  return res.body.oauth2.providers as any[];
}

/** One whole sign-in as `sub`: auth-methods → the provider's login → auth-with-oauth2. */
async function signInWith(sub: string, opts: { provider?: string; auth?: string; createData?: Record<string, unknown>; verifier?: (v: string) => string } = {}) {
  const provider = (await methods()).find((p) => p.name === (opts.provider ?? 'oidc'));
  idp.loginAs(sub);
  const params = await idp.authorize(provider.authURL, REDIRECT);
  const code = params.get('code');
  expect(code, `no code: ${params.toString()}`).toBeTruthy();
  const verifier = opts.verifier ? opts.verifier(provider.codeVerifier) : provider.codeVerifier;
  const body = { provider: provider.name, code, codeVerifier: verifier, redirectURL: REDIRECT, createData: opts.createData };
  const res = await send(t, 'POST', '/api/collections/users/auth-with-oauth2', { body, auth: opts.auth });
  return { res, code: code!, provider, state: params.get('state') };
}

beforeAll(async () => {
  idp = await startOidcServer([REDIRECT]);
  idp.accounts.set('alice-sub', { sub: 'alice-sub', email: 'alice@example.com', email_verified: true, name: 'Alice Liddell', preferred_username: 'alice' });
  idp.accounts.set('bob-sub', { sub: 'bob-sub', email: 'bob.elsewhere@example.com', email_verified: true, name: 'Bob' });
  idp.accounts.set('carol-sub', { sub: 'carol-sub', email: 'carol@example.com', email_verified: true, name: 'Carol' });
  idp.accounts.set('mallory-sub', { sub: 'mallory-sub', email: 'victim@example.com', email_verified: false, name: 'Mallory' });
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  const bob = await createAuthRecord(t, 'users', { email: 'bob@example.com', password: 'bob-password1' });
  tok.bob = bob.token;
  ids.bob = bob.id;
  const carol = await createAuthRecord(t, 'users', { email: 'carol@example.com', password: 'carol-password1' });
  ids.carol = carol.id;
  const victim = await createAuthRecord(t, 'users', { email: 'victim@example.com', password: 'victim-password1', verified: true });
  ids.victim = victim.id;
  await configure({
    enabled: true,
    providers: [{ name: 'oidc', clientId: idp.clientId, clientSecret: idp.clientSecret, displayName: 'Test IdP', extra: { discoveryURL: idp.issuer } }],
    mappedFields: { id: '', name: 'name', username: '', avatarURL: '' },
  });
});

afterAll(async () => {
  await t?.close();
  await idp?.close();
});

describe('configuration', () => {
  it('the client secret is never returned, and a save without it keeps it', async () => {
    const view = await send(t, 'GET', '/api/collections/users', { auth: tok.su });
    expect(view.raw).not.toContain(idp.clientSecret);
    expect(view.body.oauth2.providers[0]).toMatchObject({ name: 'oidc', clientId: idp.clientId });
    expect(view.body.oauth2.providers[0]).not.toHaveProperty('clientSecret');
    // Saving what was read (no secret) keeps the stored secret: the flow still works below.
    await configure(view.body.oauth2);
  });

  const bad: Scenario[] = [
    { name: 'an unknown provider name', method: 'PATCH', url: '/api/collections/users', auth: () => tok.su, body: { oauth2: { enabled: true, providers: [{ name: 'myspace', clientId: 'x', clientSecret: 'y' }] } }, status: 400, expect: { data: { oauth2: { providers: { '0': { name: { code: 'validation_invalid_provider' } } } } } } },
    { name: 'a provider without credentials', method: 'PATCH', url: '/api/collections/users', auth: () => tok.su, body: { oauth2: { enabled: true, providers: [{ name: 'github' }] } }, status: 400, expect: { data: { oauth2: { providers: { '0': { clientId: { code: 'validation_required' }, clientSecret: { code: 'validation_required' } } } } } } },
    { name: 'a generic OIDC provider without issuer or discovery', method: 'PATCH', url: '/api/collections/users', auth: () => tok.su, body: { oauth2: { enabled: true, providers: [{ name: 'oidc2', clientId: 'x', clientSecret: 'y', authURL: 'https://idp.example.com/auth', tokenURL: 'https://idp.example.com/token' }] } }, status: 400, expect: { data: { oauth2: { providers: { '0': { extra: { code: 'validation_oidc_issuer_required' } } } } } } },
    { name: 'a plain-http endpoint off loopback', method: 'PATCH', url: '/api/collections/users', auth: () => tok.su, body: { oauth2: { enabled: true, providers: [{ name: 'github', clientId: 'x', clientSecret: 'y', tokenURL: 'http://github.example.com/token' }] } }, status: 400, expect: { data: { oauth2: { providers: { '0': { tokenURL: { code: 'validation_invalid_url' } } } } } } },
    { name: 'the same provider twice', method: 'PATCH', url: '/api/collections/users', auth: () => tok.su, body: { oauth2: { enabled: true, providers: [{ name: 'github', clientId: 'x', clientSecret: 'y' }, { name: 'github', clientId: 'x', clientSecret: 'y' }] } }, status: 400, expect: { data: { oauth2: { providers: { '1': { name: { code: 'validation_duplicated_provider' } } } } } } },
    { name: 'the provider list (superusers)', method: 'GET', url: '/api/collections/meta/oauth2-providers', auth: () => tok.su, status: 200, check: (b) => expect(b.map((p: any) => p.name)).toEqual(expect.arrayContaining(['github', 'google', 'microsoft', 'apple', 'gitlab', 'discord', 'facebook', 'oidc'])) },
    { name: 'the provider list needs a superuser', method: 'GET', url: '/api/collections/meta/oauth2-providers', auth: () => tok.bob, status: 403 },
  ];
  runScenarios(() => t, bad);
});

describe('auth-methods', () => {
  it('lists the provider with a state, a PKCE pair and an authURL on the discovered endpoint', async () => {
    const [p] = await methods();
    expect(p).toMatchObject({ name: 'oidc', displayName: 'Test IdP', codeChallengeMethod: 'S256' });
    expect(p.state).toMatch(/^[A-Za-z0-9]{30}$/);
    expect(p.codeVerifier).toHaveLength(43);
    expect(p.codeChallenge).toBe(createHash('sha256').update(p.codeVerifier).digest('base64url'));
    expect(p.authURL.startsWith(`${idp.issuer}/auth?`)).toBe(true);
    expect(p.authURL.endsWith('&redirect_uri=')).toBe(true);
    const url = new URL(p.authURL);
    expect(url.searchParams.get('client_id')).toBe(idp.clientId);
    expect(url.searchParams.get('scope')).toBe('openid email profile');
    expect(url.searchParams.get('state')).toBe(p.state);
    expect(url.searchParams.get('nonce')).toBeTruthy();
    expect(p.logo).toMatch(/^<svg/);
    // Two calls: two different flows.
    const [q] = await methods();
    expect(q.state).not.toBe(p.state);
    expect(q.codeVerifier).not.toBe(p.codeVerifier);
  });
});

describe('sign-in', () => {
  it('the first login signs up a verified record with the mapped fields and links it', async () => {
    const { res } = await signInWith('alice-sub', { createData: { emailVisibility: true } });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.record).toMatchObject({ email: 'alice@example.com', verified: true, name: 'Alice Liddell', emailVisibility: true });
    expect(res.body.meta).toMatchObject({ id: 'alice-sub', name: 'Alice Liddell', username: 'alice', email: 'alice@example.com', isNew: true });
    expect(res.body.meta.rawUser.sub).toBe('alice-sub');
    expect(typeof res.body.meta.accessToken).toBe('string');
    ids.alice = res.body.record.id;
    tok.alice = res.body.token;
    // The owner sees the link (the SDK's listExternalAuths).
    const links = await send(t, 'GET', `/api/collections/_externalAuths/records?filter=${encodeURIComponent(`recordRef = "${ids.alice}"`)}`, { auth: tok.alice });
    expect(links.body.items).toMatchObject([{ provider: 'oidc', providerId: 'alice-sub', recordRef: ids.alice }]);
  });

  it('the next login is the same record', async () => {
    const { res } = await signInWith('alice-sub');
    expect(res.status, res.raw).toBe(200);
    expect(res.body.record.id).toBe(ids.alice);
    expect(res.body.meta.isNew).toBe(false);
  });

  it('signed in, a login links the provider account to the current record', async () => {
    const { res } = await signInWith('bob-sub', { auth: tok.bob });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.record.id).toBe(ids.bob);
    // Afterwards the provider account alone leads to bob.
    const again = await signInWith('bob-sub');
    expect(again.res.body.record.id).toBe(ids.bob);
    expect(again.res.body.record.email).toBe('bob@example.com');
  });

  it('a verified provider email signs in the unverified account that has it, and retires its password', async () => {
    const { res } = await signInWith('carol-sub');
    expect(res.status, res.raw).toBe(200);
    expect(res.body.record).toMatchObject({ id: ids.carol, verified: true });
    const old = await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'carol@example.com', password: 'carol-password1' } });
    expect(old.status).toBe(400);
  });

  it('an unverified provider email never reaches an existing account', async () => {
    const { res } = await signInWith('mallory-sub');
    // No email to sign up with (the address is not proven): the create fails on the required email.
    expect(res.status).toBe(400);
    expect(res.body.data.email.code).toBe('validation_required');
    const victim = await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'victim@example.com', password: 'victim-password1' } });
    expect(victim.status).toBe(200);
  });

  it('the create rule applies to OAuth2 sign-ups', async () => {
    expect((await send(t, 'PATCH', '/api/collections/users', { auth: tok.su, body: { createRule: null } })).status).toBe(200);
    idp.accounts.set('zed-sub', { sub: 'zed-sub', email: 'zed@example.com', email_verified: true });
    const { res } = await signInWith('zed-sub');
    expect(res.status).toBe(403);
    expect((await send(t, 'PATCH', '/api/collections/users', { auth: tok.su, body: { createRule: '' } })).status).toBe(200);
  });
});

describe('refusals', () => {
  it('a code works once', async () => {
    const { res, code, provider } = await signInWith('alice-sub');
    expect(res.status).toBe(200);
    const again = await send(t, 'POST', '/api/collections/users/auth-with-oauth2', { body: { provider: 'oidc', code, codeVerifier: provider.codeVerifier, redirectURL: REDIRECT } });
    expect(again.status).toBe(400);
    expect(again.body.message).toBe('Failed to fetch OAuth2 token.');
  });

  it('a wrong PKCE verifier is refused', async () => {
    const { res } = await signInWith('alice-sub', { verifier: (v) => v.slice(0, -1) + (v.endsWith('a') ? 'b' : 'a') });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Failed to fetch OAuth2 token.');
  });

  it('an id_token whose nonce belongs to another flow is refused', async () => {
    const [first, second] = [(await methods())[0], (await methods())[0]];
    // The first flow's PKCE challenge with the second flow's nonce.
    const url = new URL(first.authURL);
    url.searchParams.set('nonce', new URL(second.authURL).searchParams.get('nonce')!);
    url.searchParams.delete('redirect_uri');
    idp.loginAs('alice-sub');
    const params = await idp.authorize(url.toString() + '&redirect_uri=', REDIRECT);
    expect(params.get('code')).toBeTruthy();
    const res = await send(t, 'POST', '/api/collections/users/auth-with-oauth2', { body: { provider: 'oidc', code: params.get('code'), codeVerifier: first.codeVerifier, redirectURL: REDIRECT } });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Failed to fetch OAuth2 token.');
  });

  it('an id_token from an unexpected issuer is refused', async () => {
    const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    await configure({
      enabled: true,
      providers: [
        { name: 'oidc', clientId: idp.clientId, clientSecret: idp.clientSecret, extra: { discoveryURL: idp.issuer } },
        { name: 'oidc2', clientId: idp.clientId, clientSecret: idp.clientSecret, authURL: discovery.authorization_endpoint, tokenURL: discovery.token_endpoint, extra: { issuers: ['https://someone-else.example.com'], jwksURL: discovery.jwks_uri } },
      ],
    });
    const { res } = await signInWith('alice-sub', { provider: 'oidc2' });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Failed to fetch OAuth2 token.');
    // The same provider with the right issuer works.
    await configure({
      enabled: true,
      providers: [
        { name: 'oidc', clientId: idp.clientId, extra: { discoveryURL: idp.issuer } },
        { name: 'oidc2', clientId: idp.clientId, clientSecret: idp.clientSecret, authURL: discovery.authorization_endpoint, tokenURL: discovery.token_endpoint, userInfoURL: discovery.userinfo_endpoint, extra: { issuers: [idp.issuer], jwksURL: discovery.jwks_uri } },
      ],
    });
    const ok = await signInWith('alice-sub', { provider: 'oidc2' });
    expect(ok.res.status, ok.res.raw).toBe(200);
    expect(ok.res.body.record.id).toBe(ids.alice);
  });

  const bad: Scenario[] = [
    { name: 'an unconfigured provider', method: 'POST', url: '/api/collections/users/auth-with-oauth2', body: { provider: 'github', code: 'x', redirectURL: REDIRECT }, status: 400, expect: { data: { provider: { code: 'validation_invalid_provider' } } } },
    { name: 'no code, no redirect URL', method: 'POST', url: '/api/collections/users/auth-with-oauth2', body: { provider: 'oidc' }, status: 400, expect: { data: { code: { code: 'validation_required' }, redirectURL: { code: 'validation_required' } } } },
    { name: 'a code the provider never issued', method: 'POST', url: '/api/collections/users/auth-with-oauth2', body: { provider: 'oidc', code: 'forged', codeVerifier: 'x'.repeat(43), redirectURL: REDIRECT }, status: 400, expect: { message: 'Failed to fetch OAuth2 token.' } },
    { name: 'not an auth collection', method: 'POST', url: '/api/collections/nope/auth-with-oauth2', body: {}, status: 404 },
  ];
  runScenarios(() => t, bad);

  it('with OAuth2 off: 403, and no providers in auth-methods', async () => {
    await configure({ enabled: false });
    expect(await methods()).toEqual([]);
    const res = await send(t, 'POST', '/api/collections/users/auth-with-oauth2', { body: { provider: 'oidc', code: 'x', redirectURL: REDIRECT } });
    expect(res.status).toBe(403);
    await configure({ enabled: true });
  });
});

describe('the redirect endpoint', () => {
  it('an unknown state is refused: nothing delivered, the browser lands on the failure page', async () => {
    const res = await send(t, 'GET', '/api/oauth2-redirect?state=nobody&code=abc');
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe('/_/#/auth/oauth2-redirect-failure');
  });

  it('a waiting client gets {state, code}; GET answers 307, a form POST 303', async () => {
    const delivered: [string, OAuth2RedirectMessage][] = [];
    // The realtime service's place: a client "c1" is waiting on @oauth2.
    t.app.oauth2Redirects.setTarget({ deliver: (id, m) => (id === 'c1' ? (delivered.push([id, m]), true) : false) });
    try {
      const get = await send(t, 'GET', '/api/oauth2-redirect?state=c1&code=the-code');
      expect(get.status).toBe(307);
      expect(get.headers.location).toBe('/_/#/auth/oauth2-redirect-success');
      const post = await send(t, 'POST', '/api/oauth2-redirect', { body: 'state=c1&code=posted&error=', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(post.status).toBe(303);
      const other = await send(t, 'GET', '/api/oauth2-redirect?state=c2&code=x');
      expect(other.headers.location).toBe('/_/#/auth/oauth2-redirect-failure');
      expect(delivered).toEqual([
        ['c1', { state: 'c1', code: 'the-code' }],
        ['c1', { state: 'c1', code: 'posted' }],
      ]);
    } finally {
      t.app.oauth2Redirects.setTarget(null);
    }
  });

  it('the page it lands on is the dashboard (its oauth2-redirect pages); without a dashboard, /_/ still says the sign-in finished', async () => {
    // This app runs without a dashboard (as --no-dashboard): the browser-journey suite covers the pages themselves.
    const res = await send(t, 'GET', '/_/');
    expect(res.status).toBe(404);
    expect(res.raw).toContain('If an OAuth2 sign-in opened this window, it has finished');
  });
});
