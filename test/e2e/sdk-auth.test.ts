/**
 * End-to-end: the official PocketBase JS SDK driving every auth flow it supports against Basalt
 * over a real socket, with a real SMTP server and a real OpenID Connect provider on loopback:
 * OTP, password reset, verification, email change, MFA, impersonation, OAuth2 by code,
 * external auths, settings and the test email.
 */
import type { AddressInfo } from 'node:net';
import PocketBase, { ClientResponseError } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { startOidcServer, type OidcServer } from '../harness/oidc-server.js';
import { startSmtpSink, tokenInMail, type ReceivedMail, type SmtpSink } from '../harness/smtp-sink.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

const REDIRECT = 'http://127.0.0.1:5998/callback';

let t: TestApp;
let sink: SmtpSink;
let idp: OidcServer;
let baseURL = '';

function client(): PocketBase {
  const pb = new PocketBase(baseURL);
  pb.autoCancellation(false);
  return pb;
}

async function asSuperuser(): Promise<PocketBase> {
  const pb = client();
  await pb.collection('_superusers').authWithPassword('admin@example.com', 'admin-password1');
  return pb;
}

async function rejection(promise: Promise<unknown>): Promise<ClientResponseError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ClientResponseError);
    return err as ClientResponseError;
  }
  throw new Error('expected the SDK call to fail');
}

/** The next mail to `address` sent after `action` runs. */
async function mailAfter(address: string, action: () => Promise<unknown>): Promise<ReceivedMail> {
  const before = sink.mails.length;
  await action();
  return sink.waitFor((m: ReceivedMail) => m.to.includes(address) && sink.mails.indexOf(m) >= before);
}

beforeAll(async () => {
  sink = await startSmtpSink();
  idp = await startOidcServer([REDIRECT]);
  idp.accounts.set('sdk-sub', { sub: 'sdk-sub', email: 'oauth@example.com', email_verified: true, name: 'OAuth User' });
  t = await startTestApp({ config: { appName: 'Acme' } });
  await t.server.listen({ host: '127.0.0.1', port: 0 });
  const address = t.server.addresses().find((a): a is AddressInfo => typeof a === 'object' && a.family === 'IPv4')!;
  baseURL = `http://127.0.0.1:${address.port}`;
  await createSuperuser(t, 'admin@example.com', 'admin-password1');
  for (const name of ['otp', 'reset', 'verify', 'change', 'mfa']) await createAuthRecord(t, 'users', { email: `${name}@example.com`, password: `${name}-password1` });
});

afterAll(async () => {
  await t?.close();
  await sink?.close();
  await idp?.close();
});

describe('settings through the SDK', () => {
  it('settings.update / getAll / testEmail', async () => {
    const pb = await asSuperuser();
    const updated = await pb.settings.update({ smtp: { enabled: true, host: '127.0.0.1', port: sink.port, password: 'never-shown' }, meta: { senderAddress: 'noreply@acme.test' } });
    expect(updated.smtp.enabled).toBe(true);
    const all = await pb.settings.getAll();
    expect(all.smtp.port).toBe(sink.port);
    expect(JSON.stringify(all)).not.toContain('never-shown');
    const mail = await mailAfter('ops@acme.test', () => pb.settings.testEmail('users', 'ops@acme.test', 'verification'));
    expect(mail.subject).toBe('Verify your Acme email');
    const err = await rejection(client().settings.getAll());
    expect(err.status).toBe(401);
  });

  it('collections.update turns on OTP and MFA', async () => {
    const pb = await asSuperuser();
    await pb.collections.update('users', { otp: { enabled: true, duration: 300, length: 6 } });
    const methods = await client().collection('users').listAuthMethods();
    expect(methods.otp).toEqual({ enabled: true, duration: 300 });
  });
});

describe('mailbox flows through the SDK', () => {
  it('requestOTP → authWithOTP', async () => {
    const pb = client();
    let otpId = '';
    const mail = await mailAfter('otp@example.com', async () => {
      otpId = (await pb.collection('users').requestOTP('otp@example.com')).otpId;
    });
    const code = /<strong>(\d+)<\/strong>/.exec(mail.html)![1];
    const auth = await pb.collection('users').authWithOTP(otpId, code);
    expect(auth.record.email).toBe('otp@example.com');
    expect(pb.authStore.isValid).toBe(true);
    expect(pb.authStore.record?.id).toBe(auth.record.id);
  });

  it('requestPasswordReset → confirmPasswordReset → authWithPassword', async () => {
    const pb = client();
    const mail = await mailAfter('reset@example.com', () => pb.collection('users').requestPasswordReset('reset@example.com'));
    expect(await pb.collection('users').confirmPasswordReset(tokenInMail(mail), 'brand-new-pass1', 'brand-new-pass1')).toBe(true);
    await pb.collection('users').authWithPassword('reset@example.com', 'brand-new-pass1');
    expect(pb.authStore.isValid).toBe(true);
    expect((await rejection(pb.collection('users').confirmPasswordReset(tokenInMail(mail), 'other-pass-123', 'other-pass-123'))).status).toBe(400);
    // Unknown addresses answer the same.
    expect(await client().collection('users').requestPasswordReset('nobody@example.com')).toBe(true);
  });

  it('requestVerification → confirmVerification', async () => {
    const pb = client();
    const mail = await mailAfter('verify@example.com', () => pb.collection('users').requestVerification('verify@example.com'));
    expect(await pb.collection('users').confirmVerification(tokenInMail(mail))).toBe(true);
    await pb.collection('users').authWithPassword('verify@example.com', 'verify-password1');
    expect(pb.authStore.record?.verified).toBe(true);
  });

  it('requestEmailChange → confirmEmailChange', async () => {
    const pb = client();
    await pb.collection('users').authWithPassword('change@example.com', 'change-password1');
    const mail = await mailAfter('changed@example.com', () => pb.collection('users').requestEmailChange('changed@example.com'));
    expect(await client().collection('users').confirmEmailChange(tokenInMail(mail), 'change-password1')).toBe(true);
    const again = client();
    await again.collection('users').authWithPassword('changed@example.com', 'change-password1');
    expect(again.authStore.record?.email).toBe('changed@example.com');
  });
});

describe('MFA and impersonation through the SDK', () => {
  it('authWithPassword answers 401 {mfaId}; authWithOTP with the mfaId completes', async () => {
    const su = await asSuperuser();
    await su.collections.update('users', { mfa: { enabled: true, duration: 600, rule: "email = 'mfa@example.com'" } });
    const pb = client();
    const err = await rejection(pb.collection('users').authWithPassword('mfa@example.com', 'mfa-password1'));
    expect(err.status).toBe(401);
    const mfaId = err.response.mfaId;
    expect(typeof mfaId).toBe('string');
    let otpId = '';
    const mail = await mailAfter('mfa@example.com', async () => {
      otpId = (await pb.collection('users').requestOTP('mfa@example.com')).otpId;
    });
    const code = /<strong>(\d+)<\/strong>/.exec(mail.html)![1];
    const auth = await pb.collection('users').authWithOTP(otpId, code, { mfaId });
    expect(auth.record.email).toBe('mfa@example.com');
    await su.collections.update('users', { mfa: { enabled: false, duration: 600, rule: '' } });
  });

  it('impersonate gives a client signed in as the record, non-refreshable', async () => {
    const su = await asSuperuser();
    const user = await su.collection('users').getFirstListItem('email = "otp@example.com"');
    const as = await su.collection('users').impersonate(user.id, 60);
    expect(as.authStore.record?.id).toBe(user.id);
    const payload = JSON.parse(Buffer.from(as.authStore.token.split('.')[1], 'base64url').toString());
    expect(payload.refreshable).toBe(false);
    const refreshed = await as.collection('users').authRefresh();
    expect(refreshed.token).toBe(as.authStore.token);
    expect((await rejection(client().collection('users').impersonate(user.id, 60))).status).toBe(401);
  });
});

describe('OAuth2 through the SDK', () => {
  it('authWithOAuth2Code signs up, listExternalAuths shows the link, unlinkExternalAuth removes it', async () => {
    const su = await asSuperuser();
    await su.collections.update('users', { oauth2: { enabled: true, providers: [{ name: 'oidc', clientId: idp.clientId, clientSecret: idp.clientSecret, extra: { discoveryURL: idp.issuer } }] } });
    const pb = client();
    const methods = await pb.collection('users').listAuthMethods();
    const provider = methods.oauth2.providers.find((p) => p.name === 'oidc')!;
    idp.loginAs('sdk-sub');
    const params = await idp.authorize(provider.authURL, REDIRECT);
    expect(params.get('state')).toBe(provider.state);
    const auth = await pb.collection('users').authWithOAuth2Code('oidc', params.get('code')!, provider.codeVerifier, REDIRECT, { name: 'From SDK' });
    expect(auth.meta?.isNew).toBe(true);
    expect(auth.record).toMatchObject({ email: 'oauth@example.com', verified: true, name: 'From SDK' });
    expect(pb.authStore.isValid).toBe(true);

    const links = await pb.collection('users').listExternalAuths(auth.record.id);
    expect(links.map((l) => l.provider)).toEqual(['oidc']);
    expect(await pb.collection('users').unlinkExternalAuth(auth.record.id, 'oidc')).toBe(true);
    expect(await pb.collection('users').listExternalAuths(auth.record.id)).toEqual([]);
  });
});
