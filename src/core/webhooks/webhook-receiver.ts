/**
 * Inbound webhook receivers (`app.webhooks.receive(path, options, handler)`): what a receiver is
 * and the checks of its declaration. A receiver is served as a POST custom route (so the route
 * table's rules hold for it: built-in routes win, a path registered twice is refused, a `--dev`
 * reload replaces the set whole), whose body is read raw and verified before anything else.
 */
import type { WebhookEvent } from './webhook-event.js';
import { checkRoute, type CustomRoute } from '../hooks/route-table.js';
import { DEFAULT_TOLERANCE_SECONDS, SECRET_PREFIX } from './signatures.js';

/** Relative receiver paths are served under this prefix (`stripe` → `/api/hooks/stripe`). */
export const RECEIVER_PREFIX = '/api/hooks/';
/** Largest body a receiver reads unless it says otherwise. @default 1 MiB */
export const DEFAULT_RECEIVER_BODY_LIMIT = 1 << 20;
/** How long a received event id is remembered (redeliveries within it are not processed again). @default 30 days */
export const DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600;
/** Longest event id or type kept. */
export const MAX_EVENT_ID_LENGTH = 255;

export type HmacAlgorithm = 'sha256' | 'sha1' | 'sha512';

/** A plain HMAC of the raw body in one header (Shopify, Slack-less senders, in-house systems). */
export interface HmacVerify {
  type: 'hmac';
  /** The header that carries the signature (`x-shopify-hmac-sha256`). */
  header: string;
  /** @default 'sha256' */
  algorithm?: HmacAlgorithm;
  /** @default 'hex' */
  encoding?: 'hex' | 'base64';
  /** Text before the digest in the header (`sha256=`). @default '' */
  prefix?: string;
}

/**
 * `standard`: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`; `whsec_` secrets);
 * `stripe`: `Stripe-Signature: t=…,v1=…`; `github`: `X-Hub-Signature-256: sha256=…`; or a plain HMAC header.
 */
export type VerifySpec = 'standard' | 'stripe' | 'github' | HmacVerify;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

export interface ReceiverOptions {
  /** How deliveries are signed. */
  verify: VerifySpec;
  /** The signing secret, or several while a secret is being rotated (any of them verifies). */
  secret: string | readonly string[];
  /** Seconds a signed timestamp may be off (Standard Webhooks and Stripe). @default 300 */
  tolerance?: number;
  /** Largest body read, in bytes (never above the server's body limit). @default 1 MiB */
  bodyLimit?: number;
  /** Seconds an event id is remembered to refuse its redeliveries. @default 30 days */
  retention?: number;
  /** hmac only: the header carrying the sender's event id. @default the SHA-256 of the raw body */
  idHeader?: string;
  /** hmac only: the event id from the parsed body and the headers (instead of `idHeader`). */
  id?: (body: unknown, headers: Headers) => string;
  /** hmac only: the header carrying the event type. @default the body's `type` when it is a string */
  typeHeader?: string;
}

/** A receiver as declared, checked and normalised. */
export interface WebhookReceiver {
  /** The absolute path served (and the receiver's name in `_webhookEvents`). */
  path: string;
  verify: 'standard' | 'stripe' | 'github' | Required<HmacVerify>;
  secrets: readonly string[];
  toleranceSeconds: number;
  bodyLimit: number;
  retentionSeconds: number;
  idHeader: string;
  id: ((body: unknown, headers: Headers) => string) | null;
  typeHeader: string;
  handler: (e: WebhookEvent) => unknown;
  source: string;
}

/** A receiver's route in the custom route table. */
export type ReceiverRoute = CustomRoute & { receiver: WebhookReceiver };

const fail = (path: unknown, message: string): never => {
  throw new TypeError(`webhooks.receive ${typeof path === 'string' ? path : JSON.stringify(path)}: ${message}`);
};

const SEGMENT = /^[A-Za-z0-9._~-]+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const OPTION_NAMES = new Set(['verify', 'secret', 'tolerance', 'bodyLimit', 'retention', 'idHeader', 'id', 'typeHeader']);

/** `stripe` → `/api/hooks/stripe`; `/webhooks/stripe` as given. Path parameters are not allowed. */
export function receiverPath(path: unknown): string {
  if (typeof path !== 'string' || path === '' || path.length > 500) return fail(path, 'the path must be a non-empty string');
  const absolute = path.startsWith('/') ? path : RECEIVER_PREFIX + path;
  const segments = absolute.split('/').slice(1);
  if (segments.some((s) => !SEGMENT.test(s))) fail(path, 'each path segment must be made of letters, digits and . _ ~ - (no parameters, no empty segment)');
  checkRoute('POST', absolute);
  return absolute;
}

function positive(path: string, name: string, value: unknown, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) fail(path, `${name} must be a positive ${integer ? 'integer' : 'number'}`);
  return value as number;
}

function secretsOf(path: string, verify: WebhookReceiver['verify'], secret: unknown): string[] {
  const list = typeof secret === 'string' ? [secret] : Array.isArray(secret) ? [...(secret as unknown[])] : null;
  if (!list || list.length === 0 || list.some((s) => typeof s !== 'string' || s === '')) return fail(path, 'secret must be a non-empty string, or an array of them during a rotation');
  if (verify === 'standard') {
    for (const s of list as string[]) {
      // The standardwebhooks libraries read the text after the prefix as base64: so does Basalt.
      if (!s.startsWith(SECRET_PREFIX) || Buffer.from(s.slice(SECRET_PREFIX.length), 'base64').length === 0) fail(path, 'Standard Webhooks secrets are written whsec_<base64 key>');
    }
  }
  return list as string[];
}

function verifyOf(path: string, verify: unknown): WebhookReceiver['verify'] {
  if (verify === 'standard' || verify === 'stripe' || verify === 'github') return verify;
  if (typeof verify !== 'object' || verify === null || (verify as { type?: unknown }).type !== 'hmac') {
    return fail(path, `verify must be 'standard', 'stripe', 'github' or { type: 'hmac', header, algorithm, encoding, prefix? }`);
  }
  const v = verify as Partial<HmacVerify>;
  if (typeof v.header !== 'string' || !HEADER_NAME.test(v.header)) fail(path, 'verify.header must be a header name');
  const algorithm = v.algorithm ?? 'sha256';
  if (!['sha256', 'sha1', 'sha512'].includes(algorithm)) fail(path, `verify.algorithm must be 'sha256', 'sha1' or 'sha512'`);
  const encoding = v.encoding ?? 'hex';
  if (encoding !== 'hex' && encoding !== 'base64') fail(path, `verify.encoding must be 'hex' or 'base64'`);
  const prefix = v.prefix ?? '';
  if (typeof prefix !== 'string' || prefix.length > 50) fail(path, 'verify.prefix must be a string (at most 50 characters)');
  return { type: 'hmac', header: v.header!.toLowerCase(), algorithm, encoding, prefix };
}

function headerOption(path: string, name: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) fail(path, `${name} must be a header name`);
  return (value as string).toLowerCase();
}

/** Checks a declaration; throws a TypeError that names the receiver and what to change. */
export function defineReceiver(path: unknown, options: ReceiverOptions, handler: unknown, source: string): WebhookReceiver {
  const absolute = receiverPath(path);
  if (typeof options !== 'object' || options === null) return fail(path, 'the options ({ verify, secret, … }) are required');
  for (const name of Object.keys(options)) if (!OPTION_NAMES.has(name)) fail(path, `unknown option "${name}" (one of ${[...OPTION_NAMES].join(', ')})`);
  if (typeof handler !== 'function') fail(path, 'the handler must be a function');
  const verify = verifyOf(absolute, options.verify);
  const secrets = secretsOf(absolute, verify, options.secret);
  const hmac = typeof verify === 'object';
  if (!hmac && (options.idHeader !== undefined || options.id !== undefined || options.typeHeader !== undefined)) {
    fail(absolute, `idHeader, id and typeHeader are for hmac receivers (${String(verify)} deliveries carry their own id and type)`);
  }
  if (options.id !== undefined && typeof options.id !== 'function') fail(absolute, 'id must be a function (body, headers) => string');
  if (options.id !== undefined && options.idHeader !== undefined) fail(absolute, 'give idHeader or id, not both');
  const toleranceSeconds = positive(absolute, 'tolerance', options.tolerance, DEFAULT_TOLERANCE_SECONDS, false);
  const retentionSeconds = positive(absolute, 'retention', options.retention, DEFAULT_RETENTION_SECONDS, true);
  if (retentionSeconds < toleranceSeconds) fail(absolute, 'retention must be at least the tolerance (or a replayed delivery could be processed again)');
  return {
    path: absolute,
    verify,
    secrets,
    toleranceSeconds,
    bodyLimit: positive(absolute, 'bodyLimit', options.bodyLimit, DEFAULT_RECEIVER_BODY_LIMIT, true),
    retentionSeconds,
    idHeader: headerOption(absolute, 'idHeader', options.idHeader),
    id: options.id ?? null,
    typeHeader: headerOption(absolute, 'typeHeader', options.typeHeader),
    handler: handler as WebhookReceiver['handler'],
    source,
  };
}

const notARoute = () => {
  throw new Error('a webhook receiver is served by its own handler');
};

/** The receiver as a POST route of the custom route table. */
export function receiverRoute(receiver: WebhookReceiver): ReceiverRoute {
  return { method: 'POST', path: receiver.path, handler: notARoute, middlewares: [], source: receiver.source, receiver };
}

export function isReceiverRoute(route: CustomRoute): route is ReceiverRoute {
  return (route as Partial<ReceiverRoute>).receiver !== undefined;
}
