/**
 * The mailbox flows of spec §1.3 end to end against a real SMTP server on loopback: password
 * reset, verification, email change and one-time passwords. The mail arrives, its token or code
 * completes the flow, a used or expired token is refused, and unknown addresses get the same
 * answer as known ones (no account enumeration).
 */
import { systemClock } from '../../src/core/clock.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signRecordToken } from '../../src/core/auth/tokens.js';
import { createAuthRecord, createCollection, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startSmtpSink, tokenInMail, type ReceivedMail, type SmtpSink } from '../harness/smtp-sink.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let sink: SmtpSink;
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};

const to = (address: string) => (m: ReceivedMail) => m.to.includes(address);
const post = (path: string, body: unknown, auth?: string) => send(t, 'POST', `/api/collections/users/${path}`, { body, auth });
const signIn = (identity: string, password: string) => post('auth-with-password', { identity, password });

beforeAll(async () => {
  // trustProxy: the OTP tests speak from several client addresses through X-Forwarded-For.
  t = await startTestApp({ config: { appName: 'Acme', appUrl: 'https://acme.test', trustProxy: true } });
  sink = await startSmtpSink();
  tok.su = (await createSuperuser(t)).token;
  const res = await send(t, 'PATCH', '/api/settings', {
    auth: tok.su,
    body: { smtp: { enabled: true, host: '127.0.0.1', port: sink.port }, meta: { senderAddress: 'noreply@acme.test' } },
  });
  expect(res.status, res.raw).toBe(200);
  for (const name of ['reset', 'verify', 'change', 'otp', 'taken']) {
    const u = await createAuthRecord(t, 'users', { email: `${name}@example.com`, password: `${name}-password1` });
    tok[name] = u.token;
    ids[name] = u.id;
  }
  await createCollection(t, { name: 'members', type: 'auth', fields: [] });
  const member = await createAuthRecord(t, 'members', { email: 'member@example.com' });
  ids.member = member.id;
  tok.memberVerification = await signRecordToken(systemClock, member.record, 'verification', { email: 'member@example.com' });
});

afterAll(async () => {
  await t?.close();
  await sink?.close();
});

describe('password reset', () => {
  it('an unknown address: 204, and no mail', async () => {
    const res = await post('request-password-reset', { email: 'nobody@example.com' });
    expect(res.status).toBe(204);
    expect(res.raw).toBe('');
    await sink.expectNone(to('nobody@example.com'));
  });

  it('the mailed token sets a new password once; old sessions and the token stop working', async () => {
    const res = await post('request-password-reset', { email: 'RESET@example.com' });
    expect(res.status).toBe(204);
    const mail = await sink.waitFor(to('reset@example.com'));
    expect(mail.subject).toBe('Reset your Acme password');
    const token = tokenInMail(mail);

    const mismatch = await post('confirm-password-reset', { token, password: 'new-password-1', passwordConfirm: 'other-password' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.data.passwordConfirm.code).toBe('validation_values_mismatch');
    const short = await post('confirm-password-reset', { token, password: 'short', passwordConfirm: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.data.password.code).toBe('validation_length_out_of_range');

    const ok = await post('confirm-password-reset', { token, password: 'new-password-1', passwordConfirm: 'new-password-1' });
    expect(ok.status, ok.raw).toBe(204);
    expect((await signIn('reset@example.com', 'reset-password1')).status).toBe(400);
    expect((await signIn('reset@example.com', 'new-password-1')).status).toBe(200);
    // The old auth token now means "guest".
    expect((await send(t, 'POST', '/api/collections/users/auth-refresh', { auth: tok.reset })).status).toBe(401);

    const again = await post('confirm-password-reset', { token, password: 'another-pass-2', passwordConfirm: 'another-pass-2' });
    expect(again.status).toBe(400);
    expect(again.body.data.token.code).toBe('validation_invalid_token');
  });

  it('a second request within two minutes sends nothing more', async () => {
    expect((await post('request-password-reset', { email: 'taken@example.com' })).status).toBe(204);
    await sink.waitFor(to('taken@example.com'));
    const before = sink.mails.filter(to('taken@example.com')).length;
    expect((await post('request-password-reset', { email: 'taken@example.com' })).status).toBe(204);
    await sink.expectNone((m) => to('taken@example.com')(m) && sink.mails.filter(to('taken@example.com')).indexOf(m) >= before);
  });

  it('a reset link mailed to an address the record no longer has is refused', async () => {
    const users = t.app.registry.find('users')!;
    const user = (await t.app.auth.findByEmail(users, 'otp@example.com'))!;
    const stale = await signRecordToken(systemClock, user, 'passwordReset', { email: 'previous@example.com' });
    const res = await post('confirm-password-reset', { token: stale, password: 'new-password-1', passwordConfirm: 'new-password-1' });
    expect(res.status).toBe(400);
    expect(res.body.data.token.code).toBe('validation_token_email_mismatch');
  });

  it('an expired token is refused', async () => {
    const record = t.app.registry.find('users')!;
    const user = (await t.app.auth.findByEmail(record, 'otp@example.com'))!;
    const expired = await signRecordToken(systemClock, user, 'passwordReset', { email: 'otp@example.com' }, -10);
    const res = await post('confirm-password-reset', { token: expired, password: 'new-password-1', passwordConfirm: 'new-password-1' });
    expect(res.status).toBe(400);
    expect(res.body.data.token.code).toBe('validation_invalid_token');
  });

  const bad: Scenario[] = [
    { name: 'request without email', method: 'POST', url: '/api/collections/users/request-password-reset', body: {}, status: 400, expect: { data: { email: { code: 'validation_required' } } } },
    { name: 'request with a malformed email', method: 'POST', url: '/api/collections/users/request-password-reset', body: { email: 'nope' }, status: 400, expect: { data: { email: { code: 'validation_is_email' } } } },
    { name: 'confirm with nothing', method: 'POST', url: '/api/collections/users/confirm-password-reset', body: {}, status: 400, expect: { data: { token: { code: 'validation_required' }, password: { code: 'validation_required' }, passwordConfirm: { code: 'validation_required' } } } },
    { name: 'confirm with garbage', method: 'POST', url: '/api/collections/users/confirm-password-reset', body: { token: 'garbage', password: 'new-password-1', passwordConfirm: 'new-password-1' }, status: 400, expect: { data: { token: { code: 'validation_invalid_token' } } } },
    { name: 'an auth token is not a reset token', method: 'POST', url: '/api/collections/users/confirm-password-reset', body: () => ({ token: tok.change, password: 'new-password-1', passwordConfirm: 'new-password-1' }), status: 400, expect: { data: { token: { code: 'validation_invalid_token' } } } },
    { name: 'not an auth collection', method: 'POST', url: '/api/collections/nope/request-password-reset', body: { email: 'a@b.co' }, status: 404, expect: { message: 'Missing or invalid auth collection context.' } },
  ];
  runScenarios(() => t, bad);
});

describe('verification', () => {
  it('the mailed token verifies the record; a repeat is harmless', async () => {
    expect((await post('request-verification', { email: 'verify@example.com' })).status).toBe(204);
    const mail = await sink.waitFor(to('verify@example.com'));
    expect(mail.subject).toBe('Verify your Acme email');
    const token = tokenInMail(mail);
    expect((await post('confirm-verification', { token })).status).toBe(204);
    const me = await send(t, 'GET', `/api/collections/users/records/${ids.verify}`, { auth: tok.verify });
    expect(me.body.verified).toBe(true);
    expect((await post('confirm-verification', { token })).status).toBe(204);
  });

  it('a verified record gets no more verification mail', async () => {
    const before = sink.mails.length;
    expect((await post('request-verification', { email: 'verify@example.com' })).status).toBe(204);
    await sink.expectNone((m) => to('verify@example.com')(m) && sink.mails.indexOf(m) >= before);
  });

  it('a token of another collection is refused', async () => {
    const res = await post('confirm-verification', { token: tok.memberVerification });
    expect(res.status).toBe(400);
    expect(res.body.data.token.code).toBe('validation_token_collection_mismatch');
  });

  it('an expired token is refused', async () => {
    const users = t.app.registry.find('users')!;
    const user = (await t.app.auth.findByEmail(users, 'taken@example.com'))!;
    const expired = await signRecordToken(systemClock, user, 'verification', { email: 'taken@example.com' }, -10);
    const res = await post('confirm-verification', { token: expired });
    expect(res.status).toBe(400);
    expect(res.body.data.token.code).toBe('validation_invalid_token');
  });

  it('a token for an address the record no longer has is refused', async () => {
    const users = t.app.registry.find('users')!;
    const user = (await t.app.auth.findByEmail(users, 'taken@example.com'))!;
    const stale = await signRecordToken(systemClock, user, 'verification', { email: 'old@example.com' });
    const res = await post('confirm-verification', { token: stale });
    expect(res.status).toBe(400);
    expect(res.body.data.token.code).toBe('validation_token_email_mismatch');
  });
});

describe('email change', () => {
  it('needs the signed-in record of this collection', async () => {
    expect((await post('request-email-change', { newEmail: 'new@example.com' })).status).toBe(401);
  });

  it('refuses the current address and one another record has', async () => {
    for (const newEmail of ['change@example.com', 'taken@example.com']) {
      const res = await post('request-email-change', { newEmail }, tok.change);
      expect(res.status, newEmail).toBe(400);
      expect(res.body.data.newEmail.code).toBe('validation_invalid_new_email');
    }
  });

  it('mails the new address; the token with the password changes the email once', async () => {
    expect((await post('request-email-change', { newEmail: 'changed@example.com' }, tok.change)).status).toBe(204);
    const mail = await sink.waitFor(to('changed@example.com'));
    expect(mail.subject).toBe('Confirm your Acme new email address');
    const token = tokenInMail(mail);

    const wrong = await post('confirm-email-change', { token, password: 'not-the-password' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.data.password.code).toBe('validation_invalid_password');

    expect((await post('confirm-email-change', { token, password: 'change-password1' })).status).toBe(204);
    // The sessions of the old address end.
    expect((await send(t, 'POST', '/api/collections/users/auth-refresh', { auth: tok.change })).status).toBe(401);
    const signed = await signIn('changed@example.com', 'change-password1');
    expect(signed.status).toBe(200);
    expect(signed.body.record).toMatchObject({ email: 'changed@example.com', verified: true });

    const again = await post('confirm-email-change', { token, password: 'change-password1' });
    expect(again.status).toBe(400);
    expect(again.body.data.token.code).toBe('validation_invalid_token');
  });

  it('one email-change mail per record every two minutes', async () => {
    const u = await createAuthRecord(t, 'users', { email: 'mover@example.com', password: 'mover-password1' });
    expect((await post('request-email-change', { newEmail: 'moved-1@example.com' }, u.token)).status).toBe(204);
    await sink.waitFor(to('moved-1@example.com'));
    expect((await post('request-email-change', { newEmail: 'moved-2@example.com' }, u.token)).status).toBe(204);
    await sink.expectNone(to('moved-2@example.com'));
  });

  it('superusers change their email directly', async () => {
    const res = await send(t, 'POST', '/api/collections/_superusers/request-email-change', { auth: tok.su, body: { newEmail: 'x@example.com' } });
    expect(res.status).toBe(400);
  });
});

describe('one-time passwords', () => {
  beforeEach(async () => {
    const res = await send(t, 'PATCH', '/api/collections/users', { auth: tok.su, body: { otp: { enabled: true, duration: 180, length: 6 } } });
    expect(res.status, res.raw).toBe(200);
  });

  it('disabled: 403', async () => {
    expect((await send(t, 'PATCH', '/api/collections/users', { auth: tok.su, body: { otp: { enabled: false } } })).status).toBe(200);
    const res = await post('request-otp', { email: 'otp@example.com' });
    expect(res.status).toBe(403);
    expect(res.body.message).toBe('The collection is not configured to allow OTP authentication.');
    expect((await post('auth-with-otp', { otpId: 'x', password: '1' })).status).toBe(403);
  });

  it('an unknown address gets an otpId like any other, and no mail', async () => {
    const res = await post('request-otp', { email: 'ghost@example.com' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['otpId']);
    expect(res.body.otpId).toMatch(/^[a-z0-9]{15}$/);
    await sink.expectNone(to('ghost@example.com'));
    const auth = await post('auth-with-otp', { otpId: res.body.otpId, password: '123456' });
    expect(auth.status).toBe(400);
    expect(auth.body.message).toBe('Invalid or expired OTP.');
  });

  it('the mailed code signs in once, and marks the address verified', async () => {
    const res = await post('request-otp', { email: 'otp@example.com' });
    expect(res.status).toBe(200);
    const mail = await sink.waitFor((m) => to('otp@example.com')(m) && m.subject === 'OTP for Acme');
    const code = /<strong>(\d+)<\/strong>/.exec(mail.html)![1];
    expect(code).toHaveLength(6);

    expect((await post('auth-with-otp', { otpId: res.body.otpId, password: code === '000000' ? '111111' : '000000' })).status).toBe(400);
    const ok = await post('auth-with-otp', { otpId: res.body.otpId, password: code });
    expect(ok.status, ok.raw).toBe(200);
    expect(ok.body.record).toMatchObject({ id: ids.otp, email: 'otp@example.com', verified: true });
    expect(ok.body.token.split('.')).toHaveLength(3);
    const reuse = await post('auth-with-otp', { otpId: res.body.otpId, password: code });
    expect(reuse.status).toBe(400);
  });

  it('an expired code is refused', async () => {
    const before = sink.mails.length;
    const res = await post('request-otp', { email: 'otp@example.com' });
    const mail = await sink.waitFor((m) => to('otp@example.com')(m) && sink.mails.indexOf(m) >= before);
    const code = /<strong>(\d+)<\/strong>/.exec(mail.html)![1];
    // Age the code past the collection's 180 s.
    await t.app.db.kysely.updateTable('_otps').set({ created: '2000-01-01 00:00:00.000Z' }).where('id', '=', res.body.otpId).execute();
    expect((await post('auth-with-otp', { otpId: res.body.otpId, password: code })).status).toBe(400);
  });

  /** Requests a code for `email` and answers its id and the mailed code. */
  const requestCode = async (email: string, headers?: Record<string, string>): Promise<{ otpId: string; code: string }> => {
    const before = sink.mails.length;
    const res = await send(t, 'POST', '/api/collections/users/request-otp', { body: { email }, headers });
    expect(res.status, res.raw).toBe(200);
    // The code is created in the background: once mailed, it exists.
    const mail = await sink.waitFor((m) => to(email)(m) && sink.mails.indexOf(m) >= before && m.subject === 'OTP for Acme');
    return { otpId: res.body.otpId, code: /<strong>(\d+)<\/strong>/.exec(mail.html)![1]! };
  };
  const wrongCode = (code: string, i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');

  it('five attempts per code: after five wrong ones even the right code is refused (429), then it is gone', async () => {
    const { otpId, code } = await requestCode('taken@example.com');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post('auth-with-otp', { otpId, password: wrongCode(code, i) })).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    const burnt = await post('auth-with-otp', { otpId, password: code });
    expect(burnt.status).toBe(429);
    expect(burnt.body.message).toBe('Too many attempts, please try again later with a new OTP.');
    expect((await post('auth-with-otp', { otpId, password: code })).status).toBe(400);
  });

  it("an attacker's wrong codes on a code they requested do not lock the owner out of their own", async () => {
    const attacker = { 'x-forwarded-for': '198.51.100.7' };
    const planted = await requestCode('otp@example.com', attacker);
    for (let i = 0; i < 6; i++) await send(t, 'POST', '/api/collections/users/auth-with-otp', { body: { otpId: planted.otpId, password: wrongCode(planted.code, i) }, headers: attacker });
    const own = await requestCode('otp@example.com');
    const ok = await post('auth-with-otp', { otpId: own.otpId, password: own.code });
    expect(ok.status, ok.raw).toBe(200);
    expect(ok.body.record.id).toBe(ids.otp);
  });

  it('one client has a bounded number of attempts over all codes; other clients are not affected', async () => {
    const guesser = { 'x-forwarded-for': '203.0.113.9' };
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      statuses.push((await send(t, 'POST', '/api/collections/users/auth-with-otp', { body: { otpId: `guess${i}`, password: '123456' }, headers: guesser })).status);
    }
    expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true);
    expect(statuses[30]).toBe(429);
    const other = await send(t, 'POST', '/api/collections/users/auth-with-otp', { body: { otpId: 'guess0', password: '123456' }, headers: { 'x-forwarded-for': '203.0.113.10' } });
    expect(other.status).toBe(400);
  });

  const bad: Scenario[] = [
    { name: 'request-otp without email', method: 'POST', url: '/api/collections/users/request-otp', body: {}, status: 400, expect: { data: { email: { code: 'validation_required' } } } },
    { name: 'auth-with-otp without fields', method: 'POST', url: '/api/collections/users/auth-with-otp', body: {}, status: 400, expect: { data: { otpId: { code: 'validation_required' }, password: { code: 'validation_required' } } } },
  ];
  runScenarios(() => t, bad);
});

describe('without SMTP', () => {
  it('the request still answers 204, and the log says the mail was not sent and why (never the token)', async () => {
    const lines: { level: string; obj: object; msg?: string }[] = [];
    const capture = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
    const app = await startTestApp({ deps: { logger: { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') } } });
    try {
      await createAuthRecord(app, 'users', { email: 'quiet@example.com' });
      const res = await send(app, 'POST', '/api/collections/users/request-password-reset', { body: { email: 'quiet@example.com' } });
      expect(res.status).toBe(204);
      for (let i = 0; i < 50 && !lines.some((l) => l.level === 'warn'); i++) await new Promise((r) => setTimeout(r, 10));
      const warning = lines.find((l) => l.level === 'warn');
      expect(warning?.msg).toMatch(/password reset email not sent: SMTP is not configured/);
      expect(JSON.stringify(lines)).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
    } finally {
      await app.close();
    }
  });
});
