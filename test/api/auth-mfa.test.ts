/**
 * Second factors and sign-in bookkeeping (spec §1.3 plus Basalt's authenticator app): MFA's
 * 401 `{mfaId}` and its completion by a different method, TOTP enrolment with codes computed
 * from the enrolled secret, recovery codes, sign-in origins with the new-device alert (real
 * SMTP), impersonation, and the owners' access to their `_mfas`/`_authOrigins` rows.
 */
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startSmtpSink, type SmtpSink } from '../harness/smtp-sink.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let sink: SmtpSink;
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};

const post = (path: string, body: unknown, opts: { auth?: string; headers?: Record<string, string> } = {}) => send(t, 'POST', `/api/collections/users/${path}`, { body, ...opts });
const signIn = (identity: string, password: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>) => post('auth-with-password', { identity, password, ...extra }, { headers });
const setUsers = async (body: Record<string, unknown>) => {
  const res = await send(t, 'PATCH', '/api/collections/users', { auth: tok.su, body });
  expect(res.status, res.raw).toBe(200);
};

/** Codes of an enrolled secret, never reusing a 30-second step (the server refuses replays). */
class Authenticator {
  private lastStep = 0;
  constructor(private readonly secret: string) {}
  code(): string {
    const now = OTPAuth.TOTP.counter({ period: 30 });
    const step = Math.max(now - 1, this.lastStep + 1);
    if (step > now + 1) throw new Error('no unused step left in the window');
    this.lastStep = step;
    return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(this.secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: step * 30_000 });
  }
}

beforeAll(async () => {
  t = await startTestApp({ config: { appName: 'Acme', appUrl: 'https://acme.test' } });
  sink = await startSmtpSink();
  tok.su = (await createSuperuser(t)).token;
  expect((await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { smtp: { enabled: true, host: '127.0.0.1', port: sink.port } } })).status).toBe(200);
  for (const name of ['mfa', 'totp', 'origin', 'other']) {
    const u = await createAuthRecord(t, 'users', { email: `${name}@example.com`, password: `${name}-password1` });
    tok[name] = u.token;
    ids[name] = u.id;
  }
});

afterAll(async () => {
  await t?.close();
  await sink?.close();
});

describe('MFA (collection setting)', () => {
  it('the first method answers 401 {mfaId}; the same method again is refused; a different one completes', async () => {
    await setUsers({ mfa: { enabled: true, duration: 600, rule: '' }, otp: { enabled: true, duration: 180, length: 6 } });
    const first = await signIn('mfa@example.com', 'mfa-password1');
    expect(first.status).toBe(401);
    expect(Object.keys(first.body)).toEqual(['mfaId']);
    const mfaId = first.body.mfaId;

    const same = await signIn('mfa@example.com', 'mfa-password1', { mfaId });
    expect(same.status).toBe(400);
    expect(same.body.message).toBe('A different authentication method is required.');

    const before = sink.mails.length;
    const otp = await post('request-otp', { email: 'mfa@example.com' });
    const mail = await sink.waitFor((m) => m.to.includes('mfa@example.com') && sink.mails.indexOf(m) >= before);
    const code = /<strong>(\d+)<\/strong>/.exec(mail.html)![1];
    const done = await send(t, 'POST', `/api/collections/users/auth-with-otp?mfaId=${mfaId}`, { body: { otpId: otp.body.otpId, password: code } });
    expect(done.status, done.raw).toBe(200);
    expect(done.body.record.id).toBe(ids.mfa);

    // The session completed one sign-in: it is gone.
    const reuse = await signIn('mfa@example.com', 'mfa-password1', { mfaId });
    expect(reuse.status).toBe(400);
    expect(reuse.body.message).toBe('Invalid or expired MFA session.');
  });

  it('expired sessions of a record are removed when it starts a new one', async () => {
    const first = await signIn('mfa@example.com', 'mfa-password1');
    expect(first.status).toBe(401);
    await t.app.db.kysely.updateTable('_mfas').set({ created: '2000-01-01 00:00:00.000Z' }).where('id', '=', first.body.mfaId).execute();
    const second = await signIn('mfa@example.com', 'mfa-password1');
    expect(second.status).toBe(401);
    const rows = await t.app.db.kysely.selectFrom('_mfas').select('id').where('recordRef', '=', ids.mfa).execute();
    expect(rows.map((r) => r.id)).toEqual([second.body.mfaId]);
  });

  it('an unknown or foreign mfaId is refused', async () => {
    expect((await signIn('mfa@example.com', 'mfa-password1', { mfaId: 'nosuchsession00' })).body.message).toBe('Invalid or expired MFA session.');
    const other = await signIn('other@example.com', 'other-password1');
    expect(other.status).toBe(401);
    const foreign = await post('auth-with-otp', { otpId: 'x', password: '1', mfaId: other.body.mfaId });
    expect(foreign.status).toBe(400);
  });

  it('the MFA rule decides who needs it', async () => {
    await setUsers({ mfa: { enabled: true, duration: 600, rule: "email = 'mfa@example.com'" } });
    expect((await signIn('other@example.com', 'other-password1')).status).toBe(200);
    expect((await signIn('mfa@example.com', 'mfa-password1')).status).toBe(401);
    await setUsers({ mfa: { enabled: false, duration: 600, rule: '' } });
    expect((await signIn('mfa@example.com', 'mfa-password1')).status).toBe(200);
  });
});

describe('authenticator app (TOTP)', () => {
  let app: Authenticator;
  let recovery: string[] = [];

  it('status, enrolment, a wrong code, confirmation with recovery codes', async () => {
    expect((await send(t, 'GET', '/api/collections/users/totp', {})).status).toBe(401);
    const status = await send(t, 'GET', '/api/collections/users/totp', { auth: tok.totp });
    expect(status.body).toEqual({ enabled: false, pending: false, recoveryCodesLeft: 0 });

    const noPassword = await post('totp/enroll', {}, { auth: tok.totp });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.data.password.code).toBe('validation_invalid_password');
    expect((await post('totp/enroll', { password: 'wrong-password' }, { auth: tok.totp })).status).toBe(400);
    const enrolled = await post('totp/enroll', { password: 'totp-password1' }, { auth: tok.totp });
    expect(enrolled.status, enrolled.raw).toBe(200);
    expect(enrolled.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = OTPAuth.URI.parse(enrolled.body.uri) as OTPAuth.TOTP;
    expect(uri.issuer).toBe('Acme');
    expect(uri.label).toBe('totp@example.com');
    expect(uri.secret.base32).toBe(enrolled.body.secret);
    app = new Authenticator(enrolled.body.secret);
    expect((await send(t, 'GET', '/api/collections/users/totp', { auth: tok.totp })).body.pending).toBe(true);

    const wrong = await post('totp/confirm', { code: '000000' }, { auth: tok.totp });
    expect(wrong.status).toBe(400);
    expect(wrong.body.data.code.code).toBe('validation_invalid_code');

    const confirmed = await post('totp/confirm', { code: app.code() }, { auth: tok.totp });
    expect(confirmed.status, confirmed.raw).toBe(200);
    recovery = confirmed.body.recoveryCodes;
    expect(recovery).toHaveLength(10);
    expect(new Set(recovery).size).toBe(10);
    expect((await send(t, 'GET', '/api/collections/users/totp', { auth: tok.totp })).body).toEqual({ enabled: true, pending: false, recoveryCodesLeft: 10 });
    // Enrolling again would silently replace the factor: refused while it is on.
    expect((await post('totp/enroll', { password: 'totp-password1' }, { auth: tok.totp })).status).toBe(400);
  });

  it('an enrolled record always needs the app, even with the collection MFA off', async () => {
    const first = await signIn('totp@example.com', 'totp-password1');
    expect(first.status).toBe(401);
    const wrong = await post('auth-with-totp', { mfaId: first.body.mfaId, code: '123456' });
    expect(wrong.status).toBe(400);
    const done = await post('auth-with-totp', { mfaId: first.body.mfaId, code: app.code() });
    expect(done.status, done.raw).toBe(200);
    expect(done.body.record.id).toBe(ids.totp);
  });

  it('a code is accepted once (no replay)', async () => {
    const code = app.code();
    const a = await signIn('totp@example.com', 'totp-password1');
    expect((await post('auth-with-totp', { mfaId: a.body.mfaId, code })).status).toBe(200);
    const b = await signIn('totp@example.com', 'totp-password1');
    const replay = await post('auth-with-totp', { mfaId: b.body.mfaId, code });
    expect(replay.status).toBe(400);
  });

  it('a recovery code works once, in place of a code', async () => {
    const a = await signIn('totp@example.com', 'totp-password1');
    expect((await post('auth-with-totp', { mfaId: a.body.mfaId, code: recovery[0].toUpperCase() })).status).toBe(200);
    const b = await signIn('totp@example.com', 'totp-password1');
    expect((await post('auth-with-totp', { mfaId: b.body.mfaId, code: recovery[0] })).status).toBe(400);
    expect((await send(t, 'GET', '/api/collections/users/totp', { auth: tok.totp })).body.recoveryCodesLeft).toBe(9);
  });

  it('auth-with-totp without an MFA session is refused', async () => {
    const res = await post('auth-with-totp', { code: '123456' });
    expect(res.status).toBe(400);
    expect(res.body.data.mfaId.code).toBe('validation_required');
  });

  it('disabling needs a current code; afterwards a password alone signs in', async () => {
    expect((await post('totp/disable', { code: '000000' }, { auth: tok.totp })).status).toBe(400);
    expect((await post('totp/disable', { code: recovery[1] }, { auth: tok.totp })).status).toBe(204);
    expect((await signIn('totp@example.com', 'totp-password1')).status).toBe(200);
    expect((await send(t, 'GET', '/api/collections/users/totp', { auth: tok.totp })).body.enabled).toBe(false);
  });

  it('five wrong codes lock the factor for a while (429)', async () => {
    const enrolled = await post('totp/enroll', { password: 'other-password1' }, { auth: tok.other });
    expect(enrolled.status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post('totp/confirm', { code: '00000' + i }, { auth: tok.other })).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
  });

  it('parallel guesses get no more tries than sequential ones', async () => {
    const u = await createAuthRecord(t, 'users', { email: 'burst@example.com', password: 'burst-password1' });
    expect((await post('totp/enroll', { password: 'burst-password1' }, { auth: u.token })).status).toBe(200);
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => post('totp/confirm', { code: String(100000 + i) }, { auth: u.token }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 400).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
  });

  it('a superuser can reset a lost factor; others cannot', async () => {
    expect((await send(t, 'DELETE', `/api/collections/users/totp/${ids.other}`, { auth: tok.mfa })).status).toBe(403);
    expect((await send(t, 'DELETE', `/api/collections/users/totp/${ids.other}`, { auth: tok.su })).status).toBe(204);
    expect((await send(t, 'DELETE', `/api/collections/users/totp/${ids.other}`, { auth: tok.su })).status).toBe(404);
  });

  it('deleting the record removes its factor', async () => {
    const u = await createAuthRecord(t, 'users', { email: 'gone@example.com', password: 'gone-password1' });
    expect((await post('totp/enroll', { password: 'gone-password1' }, { auth: u.token })).status).toBe(200);
    expect((await send(t, 'DELETE', `/api/collections/users/records/${u.id}`, { auth: tok.su })).status).toBe(204);
    const rows = await t.app.db.kysely.selectFrom('_totps').selectAll().where('recordRef', '=', u.id).execute();
    expect(rows).toEqual([]);
  });
});

describe('sign-in origins and the new-device alert', () => {
  const chrome = { 'user-agent': 'Mozilla/5.0 Chrome/130' };
  const firefox = { 'user-agent': 'Mozilla/5.0 Firefox/133' };

  it('no alert on the first sign-in nor from a known device; one from a new device', async () => {
    const before = sink.mails.length;
    const mine = (m: { to: string[] }) => m.to.includes('origin@example.com') && sink.mails.indexOf(m as never) >= before;
    expect((await signIn('origin@example.com', 'origin-password1', {}, chrome)).status).toBe(200);
    expect((await signIn('origin@example.com', 'origin-password1', {}, chrome)).status).toBe(200);
    await sink.expectNone(mine);
    expect((await signIn('origin@example.com', 'origin-password1', {}, firefox)).status).toBe(200);
    const alert = await sink.waitFor(mine);
    expect(alert.subject).toBe('Login from a new location');
  });

  it('owners list and delete their own origins; nobody else sees them', async () => {
    const own = await send(t, 'GET', '/api/collections/_authOrigins/records', { auth: tok.origin });
    expect(own.status).toBe(200);
    expect(own.body.totalItems).toBe(2);
    expect(own.body.items.every((o: any) => o.recordRef === ids.origin)).toBe(true);
    const others = await send(t, 'GET', '/api/collections/_authOrigins/records', { auth: tok.other });
    expect(others.body.items.every((o: any) => o.recordRef === ids.other)).toBe(true);
    expect((await send(t, 'GET', '/api/collections/_authOrigins/records', {})).body.totalItems).toBe(0);
    const id = own.body.items[0].id;
    expect((await send(t, 'DELETE', `/api/collections/_authOrigins/records/${id}`, { auth: tok.other })).status).toBe(404);
    expect((await send(t, 'DELETE', `/api/collections/_authOrigins/records/${id}`, { auth: tok.origin })).status).toBe(204);
  });

  it('owners see their pending MFA sessions, cannot forge one', async () => {
    await setUsers({ mfa: { enabled: true, duration: 600, rule: '' } });
    const first = await signIn('origin@example.com', 'origin-password1');
    expect(first.status).toBe(401);
    const own = await send(t, 'GET', '/api/collections/_mfas/records', { auth: tok.origin });
    expect(own.body.items.map((m: any) => m.id)).toContain(first.body.mfaId);
    const others = await send(t, 'GET', '/api/collections/_mfas/records', { auth: tok.other });
    expect(others.body.items.map((m: any) => m.id)).not.toContain(first.body.mfaId);
    const forged = await send(t, 'POST', '/api/collections/_mfas/records', { auth: tok.origin, body: { collectionRef: 'x', recordRef: ids.origin, method: 'password' } });
    expect(forged.status).toBe(403);
    await setUsers({ mfa: { enabled: false, duration: 600, rule: '' } });
  });

  it('with the alert off, no origin is recorded', async () => {
    await setUsers({ authAlert: { enabled: false, emailTemplate: { subject: 's', body: 'b' } } });
    const before = (await send(t, 'GET', '/api/collections/_authOrigins/records', { auth: tok.other })).body.totalItems;
    expect((await signIn('other@example.com', 'other-password1', {}, { 'user-agent': 'curl/8' })).status).toBe(200);
    expect((await send(t, 'GET', '/api/collections/_authOrigins/records', { auth: tok.other })).body.totalItems).toBe(before);
  });
});

describe('deleting an auth collection', () => {
  it('removes what auth kept about its records (factors, sessions, origins)', async () => {
    expect((await send(t, 'POST', '/api/collections', { auth: tok.su, body: { name: 'staff', type: 'auth', fields: [], mfa: { enabled: false, duration: 600, rule: '' } } })).status).toBe(200);
    const s = await createAuthRecord(t, 'staff', { email: 'staff@example.com', password: 'staff-password1' });
    expect((await send(t, 'POST', '/api/collections/staff/totp/enroll', { auth: s.token, body: { password: 'staff-password1' } })).status).toBe(200);
    expect((await send(t, 'POST', '/api/collections/staff/auth-with-password', { body: { identity: 'staff@example.com', password: 'staff-password1' } })).status).toBe(200);
    const staffId = t.app.registry.find('staff')!.id;
    const count = async (table: string) => (await t.app.db.kysely.selectFrom(table).selectAll().where('collectionRef', '=', staffId).execute()).length;
    expect(await count('_totps')).toBe(1);
    expect(await count('_authOrigins')).toBe(1);
    expect((await send(t, 'DELETE', '/api/collections/staff', { auth: tok.su })).status).toBe(204);
    expect(await count('_totps')).toBe(0);
    expect(await count('_authOrigins')).toBe(0);
  });
});

describe('impersonation', () => {
  it('a superuser gets a non-refreshable token of the requested duration', async () => {
    const res = await send(t, 'POST', `/api/collections/users/impersonate/${ids.other}`, { auth: tok.su, body: { duration: 120 } });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.record).toMatchObject({ id: ids.other, email: 'other@example.com' });
    const payload = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString());
    expect(payload).toMatchObject({ id: ids.other, type: 'auth', refreshable: false });
    expect(payload.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(121);
    // Refreshing a non-refreshable token returns it unchanged.
    const refreshed = await post('auth-refresh', {}, { auth: res.body.token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token).toBe(res.body.token);
  });

  it('guests 401, users 403, unknown records 404, bad durations 400', async () => {
    expect((await send(t, 'POST', `/api/collections/users/impersonate/${ids.other}`, { body: {} })).status).toBe(401);
    expect((await send(t, 'POST', `/api/collections/users/impersonate/${ids.other}`, { auth: tok.mfa, body: {} })).status).toBe(403);
    expect((await send(t, 'POST', '/api/collections/users/impersonate/nosuchrecord000', { auth: tok.su, body: {} })).status).toBe(404);
    const bad = await send(t, 'POST', `/api/collections/users/impersonate/${ids.other}`, { auth: tok.su, body: { duration: -5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.data.duration.code).toBe('validation_invalid_duration');
  });
});
