/**
 * Webhook signatures: Basalt signs what it sends with the Standard Webhooks scheme
 * (https://www.standardwebhooks.com: `webhook-id`, `webhook-timestamp`, `webhook-signature:
 * v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, secrets written `whsec_<base64>`), and
 * verifies what it receives in that scheme, Stripe's (`Stripe-Signature: t=…,v1=…`, HMAC-SHA256
 * of "t.body"), GitHub's (`X-Hub-Signature-256: sha256=<hex>`) or a plain HMAC header. Every
 * check runs on the raw bytes, compares in constant time, and (where the scheme carries a time)
 * refuses a timestamp outside the tolerance, so a captured request cannot be replayed later.
 *
 * The outbound endpoints and the inbound receivers of the integrations issue build on this.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** Seconds a signed timestamp may differ from now (either way). @default 5 minutes */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Why a signature was refused: the header is missing, malformed, carries a timestamp outside the
 * tolerance, or matches no secret.
 */
export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';

/** Why a signature was refused (never the expected value). */
export class SignatureError extends Error {
  constructor(
    message: string,
    readonly reason: SignatureFailure = 'mismatch',
  ) {
    super(message);
    this.name = 'SignatureError';
  }
}

/** A new Standard Webhooks secret: `whsec_` and 24 random bytes in base64. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** The key bytes of a `whsec_…` secret (the base64 after the prefix); a secret without the prefix is used as text. */
function keyOf(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) return Buffer.from(secret, 'utf8');
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length === 0) throw new SignatureError('the secret is empty', 'malformed');
  return key;
}

const hmac = (algorithm: string, key: Buffer | string, data: Buffer | string): Buffer => createHmac(algorithm, key).update(data).digest();

/** Constant-time equality of two byte strings (different lengths are unequal, without an early exit on content). */
function same(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

const asBytes = (body: string | Uint8Array): Buffer => (typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength));

function checkTimestamp(seconds: number, nowMs: number, toleranceSeconds: number): void {
  if (!Number.isSafeInteger(seconds)) throw new SignatureError('the timestamp is not a whole number of seconds', 'malformed');
  if (Math.abs(nowMs / 1000 - seconds) > toleranceSeconds) throw new SignatureError('the timestamp is outside the tolerance (a replay, or a clock far off)', 'stale');
}

/** `v1,<base64>`: the Standard Webhooks signature of a message. */
export function signStandard(secret: string, msgId: string, timestampSeconds: number, body: string | Uint8Array): string {
  const data = Buffer.concat([Buffer.from(`${msgId}.${timestampSeconds}.`, 'utf8'), asBytes(body)]);
  return `v1,${hmac('sha256', keyOf(secret), data).toString('base64')}`;
}

/** The three headers of a signed delivery, for each of the endpoint's secrets (two during a rotation). */
export function standardHeaders(secrets: readonly string[], msgId: string, timestampSeconds: number, body: string | Uint8Array): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signStandard(s, msgId, timestampSeconds, body)).join(' '),
  };
}

export interface VerifyOptions {
  /** Now, in ms since the epoch (Basalt's clock). */
  nowMs: number;
  /** @default DEFAULT_TOLERANCE_SECONDS */
  toleranceSeconds?: number;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const header = (headers: Headers, name: string): string => {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

/** Verifies a Standard Webhooks request against any of `secrets`; throws SignatureError when it does not hold. */
export function verifyStandard(secrets: readonly string[], headers: Headers, body: string | Uint8Array, options: VerifyOptions): void {
  const msgId = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!msgId || !timestamp || !signatures) throw new SignatureError('missing webhook-id, webhook-timestamp or webhook-signature', 'missing');
  if (!/^\d{1,15}$/.test(timestamp)) throw new SignatureError('the timestamp is not a whole number of seconds', 'malformed');
  checkTimestamp(Number(timestamp), options.nowMs, options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
  const given = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const secret of secrets) {
    const expected = Buffer.from(signStandard(secret, msgId, Number(timestamp), body).slice(3), 'base64');
    if (given.some((g) => same(g, expected))) return;
  }
  throw new SignatureError('no signature matches');
}

/** Verifies Stripe's `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=…]` (HMAC-SHA256 of "t.body" with the endpoint secret). */
export function verifyStripe(secret: string, signatureHeader: string, body: string | Uint8Array, options: VerifyOptions): void {
  let t = '';
  const v1: Buffer[] = [];
  for (const part of String(signatureHeader ?? '').split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') t = v;
    else if (k === 'v1' && /^[0-9a-f]+$/i.test(v)) v1.push(Buffer.from(v, 'hex'));
  }
  if (String(signatureHeader ?? '').trim() === '') throw new SignatureError('missing Stripe-Signature', 'missing');
  if (!/^\d{1,15}$/.test(t) || v1.length === 0) throw new SignatureError('a Stripe-Signature needs t=<seconds> and v1=<hex>', 'malformed');
  checkTimestamp(Number(t), options.nowMs, options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
  const expected = hmac('sha256', secret, Buffer.concat([Buffer.from(`${t}.`, 'utf8'), asBytes(body)]));
  if (!v1.some((g) => same(g, expected))) throw new SignatureError('no signature matches');
}

/** Verifies GitHub's `X-Hub-Signature-256: sha256=<hex>` (no timestamp: GitHub signs none). */
export function verifyGithub(secret: string, signatureHeader: string, body: string | Uint8Array): void {
  verifyHmac(secret, signatureHeader, body, { algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' });
}

export interface HmacOptions {
  /** `sha256`, `sha512`, `sha1`… (what node:crypto accepts). */
  algorithm: string;
  encoding: 'hex' | 'base64';
  /** Text before the digest in the header (`sha256=`). @default '' */
  prefix?: string;
}

/** Verifies a plain HMAC of the raw body in one header. */
export function verifyHmac(secret: string, signatureHeader: string, body: string | Uint8Array, options: HmacOptions): void {
  const prefix = options.prefix ?? '';
  const value = String(signatureHeader ?? '').trim();
  if (value === '') throw new SignatureError('missing signature', 'missing');
  if (!value.startsWith(prefix)) throw new SignatureError(`the signature must start with "${prefix}"`, 'malformed');
  const digest = value.slice(prefix.length);
  const valid = options.encoding === 'hex' ? /^[0-9a-f]+$/i.test(digest) : /^[A-Za-z0-9+/]+={0,2}$/.test(digest);
  if (!valid) throw new SignatureError(`the signature is not ${options.encoding}`, 'malformed');
  let expected: Buffer;
  try {
    expected = hmac(options.algorithm, secret, asBytes(body));
  } catch {
    throw new SignatureError(`unknown HMAC algorithm "${options.algorithm}"`, 'malformed');
  }
  if (!same(Buffer.from(digest, options.encoding), expected)) throw new SignatureError('no signature matches');
}
