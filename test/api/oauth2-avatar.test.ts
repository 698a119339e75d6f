/**
 * OAuth2 sign-up with `mappedFields.avatarURL` naming a file field: the provider's picture is
 * downloaded (through the outgoing-request guard, capped at the field's maxSize) and stored as an
 * upload of the new record. A picture that cannot be had leaves the field empty, never the
 * sign-up failed. Against a real OpenID Connect provider on loopback; runs on every engine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startOidcServer, type OidcServer } from '../harness/oidc-server.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

const REDIRECT = 'http://127.0.0.1:5999/oauth2/callback';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

let t: TestApp;
let idp: OidcServer;
let pictures: Server;
let otherPortURL = '';
let su = '';

async function signUp(sub: string) {
  const res0 = await send(t, 'GET', '/api/collections/users/auth-methods');
  const provider = res0.body.oauth2.providers.find((p: any) => p.name === 'oidc');
  idp.loginAs(sub);
  const params = await idp.authorize(provider.authURL, REDIRECT);
  const body = { provider: 'oidc', code: params.get('code'), codeVerifier: provider.codeVerifier, redirectURL: REDIRECT };
  return send(t, 'POST', '/api/collections/users/auth-with-oauth2', { body });
}

beforeAll(async () => {
  idp = await startOidcServer([REDIRECT]);
  // The provider serves its pictures itself: the one host and port its configuration trusts.
  const serve = (status: number, headers: Record<string, string>, body: string | Buffer = '') => (_req: IncomingMessage, res: ServerResponse) => void res.writeHead(status, headers).end(body);
  idp.pages.set('/u/alice.png', serve(200, { 'content-type': 'image/png' }, PNG));
  idp.pages.set('/moved', serve(302, { location: '/u/alice.png' }));
  idp.pages.set('/u/huge.png', serve(200, { 'content-type': 'image/png' }, Buffer.concat([PNG, Buffer.alloc(300 << 10)])));
  idp.pages.set('/u/page.png', serve(200, { 'content-type': 'image/png' }, '<html><body>not a picture</body></html>'));
  // The same host (loopback, trusted for the provider's port) on another port: not trusted.
  pictures = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  await new Promise<void>((resolve) => pictures.listen(0, '127.0.0.1', () => resolve()));
  otherPortURL = `http://127.0.0.1:${(pictures.address() as AddressInfo).port}`;
  const account = (sub: string, picture: string) => idp.accounts.set(sub, { sub, email: `${sub}@example.com`, email_verified: true, name: sub, picture });
  account('alice', `${idp.issuer}/u/alice.png`);
  account('moved', `${idp.issuer}/moved`);
  account('huge', `${idp.issuer}/u/huge.png`);
  account('page', `${idp.issuer}/u/page.png`);
  account('missing', `${idp.issuer}/u/none.png`);
  account('elsewhere', `${otherPortURL}/u/alice.png`);
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  const users = await send(t, 'GET', '/api/collections/users', { auth: su });
  const fields = users.body.fields.map((f: any) => (f.name === 'avatar' ? { ...f, maxSize: 200 << 10, mimeTypes: ['image/png', 'image/jpeg'] } : f));
  const res = await send(t, 'PATCH', '/api/collections/users', {
    auth: su,
    body: {
      fields,
      oauth2: {
        enabled: true,
        providers: [{ name: 'oidc', clientId: idp.clientId, clientSecret: idp.clientSecret, extra: { discoveryURL: idp.issuer } }],
        mappedFields: { id: '', name: 'name', username: '', avatarURL: 'avatar' },
      },
    },
  });
  expect(res.status, res.raw).toBe(200);
});

afterAll(async () => {
  await t?.close();
  await idp?.close();
  await new Promise((resolve) => pictures?.close(resolve));
});

describe('OAuth2 avatar into a file field', () => {
  it('the picture is stored as the new record’s avatar', async () => {
    const res = await signUp('alice');
    expect(res.status, res.raw).toBe(200);
    const avatar = res.body.record.avatar as string;
    expect(avatar).toMatch(/^alice_[a-zA-Z0-9]{10}\.png$/);
    const key = `${t.app.registry.find('users')!.id}/${res.body.record.id}/${avatar}`;
    expect((await t.app.files.stat(key))?.size).toBe(PNG.length);
  });

  it('a redirect to the picture is followed', async () => {
    const res = await signUp('moved');
    expect(res.status, res.raw).toBe(200);
    expect(res.body.record.avatar).toMatch(/\.png$/);
  });

  for (const [sub, why] of [
    ['huge', 'over the field’s maxSize'],
    ['page', 'not a type the field accepts'],
    ['missing', 'not found'],
    ['elsewhere', 'on another port of the provider’s (trusted) host'],
  ]) {
    it(`a picture ${why} is left out, and the sign-up succeeds`, async () => {
      const before = await t.app.files.list('');
      const res = await signUp(sub);
      expect(res.status, res.raw).toBe(200);
      expect(res.body.record.avatar).toBe('');
      expect(await t.app.files.list('')).toEqual(before);
    });
  }
});
