/**
 * `/api/settings` (superusers): defaults, redaction of the SMTP password, validation with field
 * codes (nothing saved on a 400), and `POST /api/settings/test/email` against a real SMTP server.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startSmtpSink, type SmtpSink } from '../harness/smtp-sink.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let sink: SmtpSink;
const tok: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp({ config: { appName: 'Acme', appUrl: 'https://acme.test' } });
  sink = await startSmtpSink();
  tok.su = (await createSuperuser(t)).token;
  tok.user = (await createAuthRecord(t, 'users', { email: 'user@example.com' })).token;
});

afterAll(async () => {
  await t?.close();
  await sink?.close();
});

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const patch = (body: unknown) => send(t, 'PATCH', '/api/settings', { auth: tok.su, body });

describe('access', () => {
  const scenarios: Scenario[] = [
    { name: 'guest GET', method: 'GET', url: '/api/settings', status: 401 },
    { name: 'user GET', method: 'GET', url: '/api/settings', auth: () => tok.user, status: 403 },
    { name: 'guest PATCH', method: 'PATCH', url: '/api/settings', body: { meta: { appName: 'x' } }, status: 401 },
    { name: 'user PATCH', method: 'PATCH', url: '/api/settings', auth: () => tok.user, body: { meta: { appName: 'x' } }, status: 403 },
    { name: 'guest test email', method: 'POST', url: '/api/settings/test/email', body: { email: 'a@b.co', template: 'verification' }, status: 401 },
    {
      name: 'superuser GET: defaults from the start-up flags, PocketBase rate-limit rules, limiter off',
      method: 'GET',
      url: '/api/settings',
      auth: () => tok.su,
      status: 200,
      expect: {
        meta: { appName: 'Acme', appURL: 'https://acme.test', senderName: 'Support', senderAddress: 'support@example.com' },
        smtp: { enabled: false, port: 587 },
        rateLimits: {
          enabled: false,
          rules: [
            { label: '*:auth', maxRequests: 2, duration: 3 },
            { label: '*:create', maxRequests: 20, duration: 5 },
            { label: '/api/batch', maxRequests: 3, duration: 1 },
            { label: '/api/', maxRequests: 300, duration: 10 },
          ],
        },
        // PocketBase's BatchConfig defaults; maxBodySize 0 is "the default" (128 MiB).
        batch: { enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 },
      },
      check: (body) => expect(body.smtp).not.toHaveProperty('password'),
    },
    { name: 'fields picking applies', method: 'GET', url: '/api/settings?fields=meta.appName', auth: () => tok.su, status: 200, check: (b) => expect(b).toEqual({ meta: { appName: 'Acme' } }) },
  ];
  runScenarios(() => t, scenarios);
});

describe('validation: 400 with field codes, nothing saved', () => {
  const cases: [string, unknown, (data: any) => void][] = [
    ['unknown section', { nope: {} }, (d) => expect(d.nope.code).toBe('validation_unknown_field')],
    ['unknown key', { smtp: { hots: 'x' } }, (d) => expect(d.smtp.hots.code).toBe('validation_unknown_field')],
    ['wrong type', { smtp: { port: '25' } }, (d) => expect(d.smtp.port.code).toBe('validation_invalid_type')],
    ['section not an object', { smtp: [] }, (d) => expect(d.smtp.code).toBe('validation_invalid_type')],
    ['SMTP enabled without a host', { smtp: { enabled: true, host: '' } }, (d) => expect(d.smtp.host.code).toBe('validation_required')],
    ['a host with a scheme', { smtp: { host: 'smtp://mail.example.com' } }, (d) => expect(d.smtp.host.code).toBe('validation_is_host')],
    ['port out of range', { smtp: { port: 70000 } }, (d) => expect(d.smtp.port.code).toBe('validation_out_of_range')],
    ['auth method', { smtp: { authMethod: 'CRAM-MD5' } }, (d) => expect(d.smtp.authMethod.code).toBe('validation_in_invalid')],
    ['app URL', { meta: { appURL: 'ftp://x' } }, (d) => expect(d.meta.appURL.code).toBe('validation_is_url')],
    ['sender address', { meta: { senderAddress: 'nope' } }, (d) => expect(d.meta.senderAddress.code).toBe('validation_is_email')],
    ['empty app name', { meta: { appName: '  ' } }, (d) => expect(d.meta.appName.code).toBe('validation_required')],
    ['rules not an array', { rateLimits: { rules: {} } }, (d) => expect(d.rateLimits.rules.code).toBe('validation_invalid_type')],
    [
      'rule label, audience, numbers',
      { rateLimits: { rules: [{ label: 'bad label!', audience: '@everyone', duration: 0, maxRequests: -1 }] } },
      (d) => {
        expect(d.rateLimits.rules['0'].label.code).toBe('validation_match_invalid');
        expect(d.rateLimits.rules['0'].audience.code).toBe('validation_in_invalid');
        expect(d.rateLimits.rules['0'].duration.code).toBe('validation_min_greater_equal_than_required');
        expect(d.rateLimits.rules['0'].maxRequests.code).toBe('validation_min_greater_equal_than_required');
      },
    ],
    [
      'duplicate rule',
      { rateLimits: { rules: [{ label: '*:auth', duration: 1, maxRequests: 1 }, { label: '*:auth', duration: 2, maxRequests: 2 }] } },
      (d) => expect(d.rateLimits.rules['1'].label.code).toBe('validation_conflicting_rate_limit_rule'),
    ],
    ['enabled with no rules', { rateLimits: { enabled: true, rules: [] } }, (d) => expect(d.rateLimits.rules.code).toBe('validation_required')],
    ['batch: unknown key', { batch: { maxReqs: 1 } }, (d) => expect(d.batch.maxReqs.code).toBe('validation_unknown_field')],
    ['batch: wrong type', { batch: { enabled: 'yes' } }, (d) => expect(d.batch.enabled.code).toBe('validation_invalid_type')],
    [
      'batch: negative numbers',
      { batch: { maxRequests: -1, timeout: -1, maxBodySize: -1 } },
      (d) => {
        for (const key of ['maxRequests', 'timeout', 'maxBodySize']) expect(d.batch[key].code).toBe('validation_min_greater_equal_than_required');
      },
    ],
    [
      'batch: enabled with no request count or timeout',
      { batch: { enabled: true, maxRequests: 0, timeout: 0 } },
      (d) => {
        expect(d.batch.maxRequests.code).toBe('validation_required');
        expect(d.batch.timeout.code).toBe('validation_required');
      },
    ],
  ];
  for (const [name, body, check] of cases) {
    it(name, async () => {
      const before = await send(t, 'GET', '/api/settings', { auth: tok.su });
      const res = await patch(body);
      expect(res.status, res.raw).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
      check(res.body.data);
      const after = await send(t, 'GET', '/api/settings', { auth: tok.su });
      expect(after.body).toEqual(before.body);
    });
  }

  it('a body that is not an object is a 400', async () => {
    const res = await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: '[1]', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
  });
});

describe('changes', () => {
  it('a PATCH merges one key and keeps the others; the answer is the new settings', async () => {
    const res = await patch({ meta: { appName: 'Acme Cloud' } });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.meta).toMatchObject({ appName: 'Acme Cloud', appURL: 'https://acme.test', senderName: 'Support' });
    expect((await send(t, 'GET', '/api/settings', { auth: tok.su })).body.meta.appName).toBe('Acme Cloud');
    expect(t.app.settings.get().meta.appName).toBe('Acme Cloud');
  });

  it('the batch section merges key by key; maxBodySize 0 stays "the default"', async () => {
    let res = await patch({ batch: { enabled: true, maxRequests: 10 } });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.batch).toEqual({ enabled: true, maxRequests: 10, timeout: 3, maxBodySize: 0 });
    res = await patch({ batch: { timeout: 30, maxBodySize: 1 << 20 } });
    expect(res.body.batch).toEqual({ enabled: true, maxRequests: 10, timeout: 30, maxBodySize: 1 << 20 });
    expect(t.app.settings.get().batch).toEqual({ enabled: true, maxRequests: 10, timeout: 30, maxBodySize: 1 << 20 });
    res = await patch({ batch: { enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 } });
    expect(res.body.batch).toEqual({ enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 });
  });

  it('null as PocketBase takes it: a value or a section stays, a list empties', async () => {
    // The dashboard sends null for a cleared number input (JSON.stringify(NaN)).
    expect((await patch({ batch: { maxBodySize: 4096 }, trustedProxy: { headers: ['X-Real-IP'] } })).status).toBe(200);
    const res = await patch({ batch: { maxBodySize: null, timeout: null }, trustedProxy: { headers: null }, superuserIPs: null, meta: null });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.batch).toMatchObject({ maxBodySize: 4096, timeout: 3 });
    expect(res.body.trustedProxy.headers).toEqual([]);
    expect(res.body.superuserIPs).toEqual([]);
    expect(res.body.meta.appName).toBe('Acme Cloud');
    expect((await patch({ batch: { maxBodySize: 0 } })).status).toBe(200);
  });

  it('rate-limit rules are replaced as a whole', async () => {
    const rules = [{ label: 'users:authWithPassword', audience: '@guest', duration: 60, maxRequests: 10 }];
    const res = await patch({ rateLimits: { rules } });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.rateLimits).toEqual({ enabled: false, rules, excludedIPs: [] });
  });

  it('the SMTP password is stored but never returned; a PATCH without it keeps it', async () => {
    sink.requireAuth('mailer', 's3cret-pass');
    let res = await patch({ smtp: { enabled: true, host: '127.0.0.1', port: sink.port, username: 'mailer', password: 's3cret-pass' }, meta: { senderAddress: 'noreply@acme.test', senderName: 'Acme' } });
    expect(res.status, res.raw).toBe(200);
    expect(res.raw).not.toContain('s3cret-pass');
    expect(res.body.smtp).not.toHaveProperty('password');
    res = await patch({ smtp: { localName: 'basalt.acme.test' } });
    expect(res.status, res.raw).toBe(200);
    expect(res.raw).not.toContain('s3cret-pass');
    // The server demands the credentials: a delivered test mail proves the password was kept.
    const sent = await send(t, 'POST', '/api/settings/test/email', { auth: tok.su, body: { email: 'ops@acme.test', template: 'verification' } });
    expect(sent.status, sent.raw).toBe(204);
    const mail = await sink.waitFor((m) => m.to.includes('ops@acme.test'));
    expect(mail.subject).toBe('Verify your Acme Cloud email');
    expect(mail.from).toContain('noreply@acme.test');
    expect(mail.html).toContain('https://acme.test/_/#/auth/confirm-verification/test-token');
    expect(mail.text).toContain('https://acme.test/_/#/auth/confirm-verification/test-token');
  });
});

describe('test email', () => {
  it('each template renders for an auth collection', async () => {
    for (const template of ['password-reset', 'email-change', 'otp', 'login-alert']) {
      const res = await send(t, 'POST', '/api/settings/test/email', { auth: tok.su, body: { email: `${template}@acme.test`, template, collection: 'users' } });
      expect(res.status, res.raw).toBe(204);
      await sink.waitFor((m) => m.to.includes(`${template}@acme.test`));
    }
    expect(sink.mails.find((m) => m.to.includes('otp@acme.test'))!.html).toContain('123456');
  });

  const bad: Scenario[] = [
    { name: 'missing email', method: 'POST', url: '/api/settings/test/email', auth: () => tok.su, body: { template: 'otp' }, status: 400, expect: { data: { email: { code: 'validation_required' } } } },
    { name: 'bad template', method: 'POST', url: '/api/settings/test/email', auth: () => tok.su, body: { email: 'a@b.co', template: 'welcome' }, status: 400, expect: { data: { template: { code: 'validation_in_invalid' } } } },
    { name: 'not an auth collection', method: 'POST', url: '/api/settings/test/email', auth: () => tok.su, body: { email: 'a@b.co', template: 'otp', collection: 'nope' }, status: 400, expect: { data: { collection: { code: 'validation_invalid_collection' } } } },
  ];
  runScenarios(() => t, bad);

  it('an SMTP failure is a 400 that says so (and a settings change drops the old connection)', async () => {
    const closed = await freePort();
    expect((await patch({ smtp: { port: closed } })).status).toBe(200);
    const res = await send(t, 'POST', '/api/settings/test/email', { auth: tok.su, body: { email: 'x@acme.test', template: 'otp' } });
    expect(res.status, res.raw).toBe(400);
    expect(res.body.message).toBe('Failed to send the test email.');
    expect(res.body.data.smtp.code).toBe('smtp_error');
    expect((await patch({ smtp: { port: sink.port } })).status).toBe(200);
  });

  it('with SMTP off, the answer says to configure it', async () => {
    expect((await patch({ smtp: { enabled: false } })).status).toBe(200);
    const res = await send(t, 'POST', '/api/settings/test/email', { auth: tok.su, body: { email: 'x@acme.test', template: 'otp' } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/SMTP is not configured/);
  });
});
