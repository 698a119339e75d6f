/**
 * The operations sections of `/api/settings` (PocketBase's keys): `trustedProxy` (which headers
 * carry the client IP), `superuserIPs` (the superuser allowlist), `rateLimits.excludedIPs` and
 * `meta.accentColor`. Each round-trips; bad values are 400s with field codes and nothing saved;
 * and each changes what Basalt does, seen from outside: `/api/health`'s `realIP`, the rate
 * limiter's windows, 403s for superusers from elsewhere.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const tok: Record<string, string> = {};
const SU_EMAIL = 'admin@example.com';
const SU_PASSWORD = 'password123';

const xff = (value: string) => ({ 'x-forwarded-for': value });
const get = (headers: Record<string, string> = {}) => send(t, 'GET', '/api/settings', { auth: tok.su, headers });
const patch = (body: unknown, headers: Record<string, string> = {}) => send(t, 'PATCH', '/api/settings', { auth: tok.su, body, headers });
/** The client IP Basalt sees, as `/api/health` reports it to a superuser. */
const seenIp = async (headers: Record<string, string>) => {
  const res = await send(t, 'GET', '/api/health', { auth: tok.su, headers });
  expect(res.status, res.raw).toBe(200);
  return res.body.data as { realIP: string; possibleProxyHeader: string };
};

const DEFAULTS = {
  superuserIPs: [],
  trustedProxy: { headers: [], useLeftmostIP: false },
  rateLimits: { enabled: false, excludedIPs: [] },
  meta: { accentColor: '#1055c9' },
};

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t, SU_EMAIL, SU_PASSWORD)).token;
  tok.user = (await createAuthRecord(t, 'users', { email: 'user@example.com', password: 'user-password1' })).token;
});

afterAll(async () => {
  await t?.close();
});

/** Every test starts from the defaults (from an address the allowlist would accept, if any is set). */
afterEach(async () => {
  const res = await send(t, 'PATCH', '/api/settings', {
    auth: tok.su,
    headers: xff('10.0.0.1'),
    body: { superuserIPs: [], trustedProxy: { headers: [], useLeftmostIP: false }, rateLimits: { enabled: false, excludedIPs: [] }, meta: { accentColor: '#1055c9' } },
  });
  expect(res.status, res.raw).toBe(200);
});

describe('round trips', () => {
  it('the defaults are PocketBase\'s', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject(DEFAULTS);
  });

  const sections: [string, Record<string, unknown>, (settings: any) => unknown, unknown][] = [
    ['trustedProxy', { trustedProxy: { headers: ['X-Real-IP', 'CF-Connecting-IP'], useLeftmostIP: true } }, (s) => s.trustedProxy, { headers: ['X-Real-IP', 'CF-Connecting-IP'], useLeftmostIP: true }],
    ['superuserIPs (the caller\'s own address included)', { superuserIPs: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1'] }, (s) => s.superuserIPs, ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']],
    ['rateLimits.excludedIPs (the rules kept)', { rateLimits: { excludedIPs: ['192.168.0.0/16', '2001:db8::1'] } }, (s) => s.rateLimits.excludedIPs, ['192.168.0.0/16', '2001:db8::1']],
    ['meta.accentColor (the other meta keys kept)', { meta: { accentColor: '#AbCdEf' } }, (s) => s.meta.accentColor, '#AbCdEf'],
    ['meta.accentColor may be empty', { meta: { accentColor: '' } }, (s) => s.meta.accentColor, ''],
    ['entries are trimmed', { superuserIPs: [' 127.0.0.1 '] }, (s) => s.superuserIPs, ['127.0.0.1']],
  ];
  for (const [name, body, pick, expected] of sections) {
    it(name, async () => {
      const before = (await get()).body;
      const res = await patch(body);
      expect(res.status, res.raw).toBe(200);
      expect(pick(res.body)).toEqual(expected);
      const after = (await get()).body;
      expect(pick(after)).toEqual(expected);
      // Nothing else changed.
      expect(after.meta.appName).toBe(before.meta.appName);
      expect(after.rateLimits.rules).toEqual(before.rateLimits.rules);
      expect(pick(t.app.settings.get())).toEqual(expected);
    });
  }
});

describe('validation: 400 with field codes, nothing saved', () => {
  const cases: [string, unknown, (data: any) => void][] = [
    ['superuserIPs not an array', { superuserIPs: '10.0.0.1' }, (d) => expect(d.superuserIPs.code).toBe('validation_invalid_type')],
    ['superuserIPs: an entry not a string', { superuserIPs: ['127.0.0.1', 7] }, (d) => expect(d.superuserIPs['1'].code).toBe('validation_invalid_type')],
    ['superuserIPs: a bad CIDR', { superuserIPs: ['127.0.0.1', '10.0.0.0/33'] }, (d) => expect(d.superuserIPs['1'].code).toBe('validation_invlaid_ip_or_subnet')],
    ['superuserIPs: not an address', { superuserIPs: ['localhost'] }, (d) => expect(d.superuserIPs['0'].code).toBe('validation_invlaid_ip_or_subnet')],
    ['superuserIPs: an empty entry', { superuserIPs: ['  '] }, (d) => expect(d.superuserIPs['0'].code).toBe('validation_required')],
    ['superuserIPs: a huge list', { superuserIPs: Array.from({ length: 1001 }, (_, i) => `10.0.${i >> 8}.${i & 255}`) }, (d) => expect(d.superuserIPs.code).toBe('validation_length_too_long')],
    ['superuserIPs: a huge entry', { superuserIPs: ['1'.repeat(10_000)] }, (d) => expect(d.superuserIPs['0'].code).toBe('validation_length_too_long')],
    ['excludedIPs: a bad CIDR', { rateLimits: { excludedIPs: ['10.0.0.0/8', '300.1.1.1'] } }, (d) => expect(d.rateLimits.excludedIPs['1'].code).toBe('validation_invlaid_ip_or_subnet')],
    ['excludedIPs: an IPv6 prefix too long', { rateLimits: { excludedIPs: ['fd00::/129'] } }, (d) => expect(d.rateLimits.excludedIPs['0'].code).toBe('validation_invlaid_ip_or_subnet')],
    ['excludedIPs: an object', { rateLimits: { excludedIPs: { a: 1 } } }, (d) => expect(d.rateLimits.excludedIPs.code).toBe('validation_invalid_type')],
    ['trustedProxy not an object', { trustedProxy: ['X-Real-IP'] }, (d) => expect(d.trustedProxy.code).toBe('validation_invalid_type')],
    ['trustedProxy: unknown key', { trustedProxy: { header: ['X-Real-IP'] } }, (d) => expect(d.trustedProxy.header.code).toBe('validation_unknown_field')],
    ['trustedProxy: headers not an array', { trustedProxy: { headers: 'X-Real-IP' } }, (d) => expect(d.trustedProxy.headers.code).toBe('validation_invalid_type')],
    ['trustedProxy: a bad header name', { trustedProxy: { headers: ['X-Real-IP', 'X Forwarded: For'] } }, (d) => expect(d.trustedProxy.headers['1'].code).toBe('validation_invalid_header_name')],
    ['trustedProxy: too many headers', { trustedProxy: { headers: Array.from({ length: 21 }, (_, i) => `X-H${i}`) } }, (d) => expect(d.trustedProxy.headers.code).toBe('validation_length_too_long')],
    ['trustedProxy: useLeftmostIP a string', { trustedProxy: { useLeftmostIP: 'true' } }, (d) => expect(d.trustedProxy.useLeftmostIP.code).toBe('validation_invalid_type')],
    ['accentColor: a number', { meta: { accentColor: 0x1055c9 } }, (d) => expect(d.meta.accentColor.code).toBe('validation_invalid_type')],
    ['accentColor: too short', { meta: { accentColor: '#105' } }, (d) => expect(d.meta.accentColor.code).toBe('validation_length_invalid')],
    ['accentColor: not hex', { meta: { accentColor: '#10g5c9' } }, (d) => expect(d.meta.accentColor.code).toBe('validation_is_hex_color')],
    ['accentColor: a CSS name', { meta: { accentColor: 'crimson' } }, (d) => expect(d.meta.accentColor.code).toBe('validation_is_hex_color')],
    ['accentColor: a short CSS name', { meta: { accentColor: 'red' } }, (d) => expect(d.meta.accentColor.code).toBe('validation_length_invalid')],
    ['accentColor: no #', { meta: { accentColor: '1055c9a' } }, (d) => expect(d.meta.accentColor.code).toBe('validation_is_hex_color')],
    ['unknown top-level key', { superuserIps: [] }, (d) => expect(d.superuserIps.code).toBe('validation_unknown_field')],
    [
      'one bad value spoils the whole PATCH',
      { meta: { accentColor: '#000000' }, superuserIPs: ['nope'] },
      (d) => {
        expect(d.superuserIPs['0'].code).toBe('validation_invlaid_ip_or_subnet');
        expect(d.meta).toBeUndefined();
      },
    ],
  ];
  for (const [name, body, check] of cases) {
    it(name, async () => {
      const before = await get();
      const res = await patch(body);
      expect(res.status, res.raw).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
      check(res.body.data);
      expect((await get()).body).toEqual(before.body);
    });
  }

  it('guests and regular users cannot change them', async () => {
    expect((await send(t, 'PATCH', '/api/settings', { body: { superuserIPs: ['1.2.3.4'] } })).status).toBe(401);
    expect((await send(t, 'PATCH', '/api/settings', { auth: tok.user, body: { trustedProxy: { headers: ['X-Real-IP'] } } })).status).toBe(403);
    expect((await get()).body).toMatchObject(DEFAULTS);
  });
});

describe('trustedProxy decides the client IP', () => {
  it('by default the headers are ignored: the socket address', async () => {
    expect(await seenIp(xff('1.2.3.4'))).toMatchObject({ realIP: '127.0.0.1', possibleProxyHeader: 'X-Forwarded-For' });
    expect(await seenIp({})).toMatchObject({ realIP: '127.0.0.1', possibleProxyHeader: '' });
  });

  it('a listed header: its rightmost valid address, or its leftmost with useLeftmostIP', async () => {
    expect((await patch({ trustedProxy: { headers: ['X-Forwarded-For'] } })).status).toBe(200);
    expect((await seenIp(xff('1.1.1.1, 2.2.2.2'))).realIP).toBe('2.2.2.2');
    expect((await seenIp(xff('1.1.1.1, 3.3.3.3, not-an-ip'))).realIP).toBe('3.3.3.3');
    expect((await seenIp(xff('2001:db8::7'))).realIP).toBe('2001:db8::7');
    expect((await seenIp(xff('garbage'))).realIP).toBe('127.0.0.1');
    expect((await patch({ trustedProxy: { useLeftmostIP: true } })).status).toBe(200);
    expect((await seenIp(xff('nope, 1.1.1.1, 2.2.2.2'))).realIP).toBe('1.1.1.1');
  });

  it('only the listed headers, in their order', async () => {
    expect((await patch({ trustedProxy: { headers: ['X-Real-IP', 'X-Client-IP'] } })).status).toBe(200);
    // X-Forwarded-For is not listed: a client could write it.
    expect((await seenIp(xff('6.6.6.6'))).realIP).toBe('127.0.0.1');
    expect(await seenIp({ 'x-client-ip': '5.5.5.5', 'x-real-ip': '4.4.4.4' })).toMatchObject({ realIP: '4.4.4.4', possibleProxyHeader: 'X-Real-IP' });
    expect((await seenIp({ 'x-client-ip': '5.5.5.5' })).realIP).toBe('5.5.5.5');
    expect((await seenIp({ 'x-real-ip': '', 'x-client-ip': '5.5.5.5' })).realIP).toBe('5.5.5.5');
  });

  it('the rate limiter counts by it', async () => {
    const rules = [{ label: 'GET /api/health', duration: 60, maxRequests: 1 }];
    expect((await patch({ rateLimits: { enabled: true, rules } })).status).toBe(200);
    const health = (ip: string) => send(t, 'GET', '/api/health', { headers: xff(ip) });
    // Untrusted header: every guest is 127.0.0.1, one window for all.
    expect((await health('7.0.0.1')).status).toBe(200);
    expect((await health('7.0.0.2')).status).toBe(429);
    expect((await patch({ trustedProxy: { headers: ['X-Forwarded-For'] } })).status).toBe(200);
    expect((await health('7.0.0.3')).status).toBe(200);
    expect((await health('7.0.0.4')).status).toBe(200);
    expect((await health('7.0.0.3')).status).toBe(429);
    expect((await patch({ rateLimits: { enabled: false, rules: [{ label: '/api/', duration: 10, maxRequests: 300 }] } })).status).toBe(200);
  });
});

describe('superuserIPs', () => {
  const signIn = (ip: string) =>
    send(t, 'POST', '/api/collections/_superusers/auth-with-password', { body: { identity: SU_EMAIL, password: SU_PASSWORD }, headers: xff(ip) });

  it('refuses superusers from elsewhere (PocketBase\'s 403), never regular users or guests', async () => {
    let res = await patch({ trustedProxy: { headers: ['X-Forwarded-For'] }, superuserIPs: ['10.0.0.0/8', '192.168.1.7'] }, xff('10.1.2.3'));
    expect(res.status, res.raw).toBe(200);

    expect((await get(xff('10.200.0.1'))).status).toBe(200);
    expect((await get(xff('192.168.1.7'))).status).toBe(200);
    res = await get(xff('192.168.1.8'));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ status: 403, message: 'You are not allowed to perform this request.', data: {} });
    // Every route, not only the admin API.
    expect((await send(t, 'GET', '/api/collections/users/records', { auth: tok.su, headers: xff('8.8.8.8') })).status).toBe(403);
    expect((await send(t, 'GET', '/api/health', { auth: tok.su, headers: xff('8.8.8.8') })).status).toBe(403);

    // A regular user and a guest from the same address are not concerned.
    expect((await send(t, 'POST', '/api/collections/users/auth-refresh', { auth: tok.user, headers: xff('8.8.8.8') })).status).toBe(200);
    expect((await send(t, 'GET', '/api/health', { headers: xff('8.8.8.8') })).status).toBe(200);
    expect((await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'user@example.com', password: 'user-password1' }, headers: xff('8.8.8.8') })).status).toBe(200);

    // Signing in as a superuser from elsewhere gets no token.
    res = await signIn('8.8.8.8');
    expect(res.status).toBe(403);
    expect(res.body.token).toBeUndefined();
    res = await signIn('10.9.9.9');
    expect(res.status, res.raw).toBe(200);
    expect(typeof res.body.token).toBe('string');
  });

  it('a PATCH that would lock out its caller is a 400, and nothing is saved', async () => {
    // The caller is 127.0.0.1 (no trusted header).
    let res = await patch({ superuserIPs: ['10.0.0.0/8'] });
    expect(res.status).toBe(400);
    expect(res.body.data.superuserIPs.code).toBe('validation_superuser_ip_lockout');
    expect(res.body.data.superuserIPs.message).toContain('127.0.0.1');
    expect((await get()).body.superuserIPs).toEqual([]);

    // Allowed through the proxy header…
    expect((await patch({ trustedProxy: { headers: ['X-Forwarded-For'] }, superuserIPs: ['10.0.0.0/8'] }, xff('10.0.0.5'))).status).toBe(200);
    // …then dropping the header would make the same caller 127.0.0.1: refused too.
    res = await patch({ trustedProxy: { headers: [] } }, xff('10.0.0.5'));
    expect(res.status).toBe(400);
    expect(res.body.data.superuserIPs.code).toBe('validation_superuser_ip_lockout');
    expect((await get(xff('10.0.0.5'))).body.trustedProxy.headers).toEqual(['X-Forwarded-For']);
    // Emptying the list is always allowed.
    expect((await patch({ superuserIPs: [] }, xff('10.0.0.5'))).status).toBe(200);
  });
});

describe('rateLimits.excludedIPs', () => {
  it('skips the limiter for those addresses only', async () => {
    const rules = [{ label: 'GET /api/health', duration: 60, maxRequests: 1 }];
    const res = await patch({ trustedProxy: { headers: ['X-Forwarded-For'] }, rateLimits: { enabled: true, rules, excludedIPs: ['172.16.0.0/12', '2001:db8::1'] } });
    expect(res.status, res.raw).toBe(200);
    const health = (ip: string) => send(t, 'GET', '/api/health', { headers: xff(ip) });
    for (let i = 0; i < 5; i++) expect((await health('172.16.5.5')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await health('2001:db8::1')).status).toBe(200);
    expect((await health('172.32.0.1')).status).toBe(200);
    expect((await health('172.32.0.1')).status).toBe(429);
    expect((await patch({ rateLimits: { enabled: false, rules: [{ label: '/api/', duration: 10, maxRequests: 300 }] } })).status).toBe(200);
  });
});

describe('--trust-proxy wins over the settings', () => {
  it('the client IP stays X-Forwarded-For\'s leftmost address whatever trustedProxy says', async () => {
    const flagged = await startTestApp({ config: { trustProxy: true } });
    try {
      const su = (await createSuperuser(flagged)).token;
      const res = await send(flagged, 'PATCH', '/api/settings', { auth: su, body: { trustedProxy: { headers: ['X-Real-IP'], useLeftmostIP: false } } });
      expect(res.status, res.raw).toBe(200);
      const health = await send(flagged, 'GET', '/api/health', { auth: su, headers: { 'x-forwarded-for': '1.1.1.1, 2.2.2.2', 'x-real-ip': '4.4.4.4' } });
      expect(health.body.data.realIP).toBe('1.1.1.1');
    } finally {
      await flagged.close();
    }
  });
});
