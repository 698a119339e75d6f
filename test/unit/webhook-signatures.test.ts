/**
 * Webhook signatures (core/webhooks/signatures.ts), checked against independent implementations:
 * the `standardwebhooks` npm package both ways, Stripe's scheme recomputed with node:crypto, and
 * GitHub's published example.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, SignatureError, standardHeaders, verifyGithub, verifyHmac, verifyStandard, verifyStripe } from '../../src/core/webhooks/signatures.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const nowSeconds = Math.floor(NOW / 1000);
const body = JSON.stringify({ type: 'record.created', timestamp: '2030-01-01T00:00:00Z', data: { id: 'abc', title: 'héllo' } });

describe('Standard Webhooks', () => {
  it('what Basalt signs, the standardwebhooks package verifies (with either secret during a rotation)', () => {
    const oldSecret = newWebhookSecret();
    const newSecret = newWebhookSecret();
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const headers = standardHeaders([newSecret, oldSecret], 'msg_1', Math.floor(Date.now() / 1000), body);
    expect(new Webhook(newSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('what the package signs, Basalt verifies; a changed body, a wrong secret or an old timestamp is refused', () => {
    const secret = newWebhookSecret();
    const wh = new Webhook(secret);
    const at = new Date(NOW);
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': wh.sign('msg_2', at, body) };
    expect(() => verifyStandard([secret], headers, body, { nowMs: NOW })).not.toThrow();
    expect(() => verifyStandard([secret], headers, Buffer.from(body), { nowMs: NOW })).not.toThrow();
    expect(() => verifyStandard([secret], headers, body + ' ', { nowMs: NOW })).toThrow(SignatureError);
    expect(() => verifyStandard([newWebhookSecret()], headers, body, { nowMs: NOW })).toThrow('no signature matches');
    expect(() => verifyStandard([secret], headers, body, { nowMs: NOW + 301_000 })).toThrow('outside the tolerance');
    expect(() => verifyStandard([secret], headers, body, { nowMs: NOW + 301_000, toleranceSeconds: 600 })).not.toThrow();
  });

  it.each([
    ['no headers', {}],
    ['a timestamp that is not a number', { 'webhook-id': 'm', 'webhook-timestamp': '1e9', 'webhook-signature': 'v1,AAAA' }],
    ['a signature of another version', { 'webhook-id': 'm', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': 'v2,AAAA' }],
    ['garbage base64', { 'webhook-id': 'm', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': 'v1,%%%%' }],
  ])('refuses %s', (_, headers) => {
    expect(() => verifyStandard([newWebhookSecret()], headers, body, { nowMs: NOW })).toThrow(SignatureError);
  });
});

describe('Stripe', () => {
  const secret = 'whsec_test_stripe_secret';
  const sign = (t: number, payload: string) => createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex');

  it('accepts a valid signature among several v1 values, and refuses a replay or a tampered body', () => {
    const header = `t=${nowSeconds},v1=${'0'.repeat(64)},v1=${sign(nowSeconds, body)},v0=ignored`;
    expect(() => verifyStripe(secret, header, body, { nowMs: NOW })).not.toThrow();
    expect(() => verifyStripe(secret, header, body.replace('abc', 'abd'), { nowMs: NOW })).toThrow('no signature matches');
    expect(() => verifyStripe(secret, header, body, { nowMs: NOW + 10 * 60_000 })).toThrow('outside the tolerance');
    expect(() => verifyStripe(secret, `v1=${sign(nowSeconds, body)}`, body, { nowMs: NOW })).toThrow('t=<seconds>');
    expect(() => verifyStripe(secret, '', body, { nowMs: NOW })).toThrow(SignatureError);
  });
});

describe('GitHub and plain HMAC', () => {
  it("GitHub's published example verifies", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    verifyGithub("It's a Secret to Everybody", 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17', 'Hello, World!');
    expect(() => verifyGithub("It's a Secret to Everybody", 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18', 'Hello, World!')).toThrow('no signature matches');
    expect(() => verifyGithub("It's a Secret to Everybody", '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17', 'Hello, World!')).toThrow('must start with');
  });

  it('a plain HMAC header in base64 with another algorithm; an unknown algorithm is a clear error', () => {
    const digest = createHmac('sha512', 'k').update(body).digest('base64');
    verifyHmac('k', digest, body, { algorithm: 'sha512', encoding: 'base64' });
    expect(() => verifyHmac('k', digest, body, { algorithm: 'sha256', encoding: 'base64' })).toThrow('no signature matches');
    expect(() => verifyHmac('k', digest, body, { algorithm: 'nope', encoding: 'base64' })).toThrow('unknown HMAC algorithm');
    expect(() => verifyHmac('k', 'not hex!', body, { algorithm: 'sha256', encoding: 'hex' })).toThrow('not hex');
  });
});

describe('why a signature is refused (SignatureError.reason)', () => {
  const reason = (check: () => void): string => {
    try {
      check();
    } catch (err) {
      return err instanceof SignatureError ? err.reason : 'not a SignatureError';
    }
    return 'accepted';
  };
  const secret = newWebhookSecret();
  const headers = standardHeaders([secret], 'msg_r', nowSeconds, body);

  it.each([
    ['standard, no headers', () => verifyStandard([secret], {}, body, { nowMs: NOW }), 'missing'],
    ['standard, a timestamp that is not a number', () => verifyStandard([secret], { ...headers, 'webhook-timestamp': 'soon' }, body, { nowMs: NOW }), 'malformed'],
    ['standard, an old timestamp', () => verifyStandard([secret], headers, body, { nowMs: NOW + 301_000 }), 'stale'],
    ['standard, another secret', () => verifyStandard([newWebhookSecret()], headers, body, { nowMs: NOW }), 'mismatch'],
    ['stripe, no header', () => verifyStripe('s', '', body, { nowMs: NOW }), 'missing'],
    ['stripe, no v1', () => verifyStripe('s', `t=${nowSeconds}`, body, { nowMs: NOW }), 'malformed'],
    ['hmac, no header', () => verifyHmac('k', '', body, { algorithm: 'sha256', encoding: 'hex' }), 'missing'],
    ['hmac, not hex', () => verifyHmac('k', 'zz', body, { algorithm: 'sha256', encoding: 'hex' }), 'malformed'],
    ['hmac, another key', () => verifyHmac('k', createHmac('sha256', 'j').update(body).digest('hex'), body, { algorithm: 'sha256', encoding: 'hex' }), 'mismatch'],
  ] as [string, () => void, string][])('%s → %s', (_name, check, expected) => {
    expect(reason(check)).toBe(expected);
  });
});
