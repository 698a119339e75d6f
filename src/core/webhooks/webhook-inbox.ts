/**
 * Receiving one delivery: verify its signature on the raw bytes, parse it, find the sender's event
 * id, then — in one transaction — store the event and run the receiver's handler. A redelivery
 * (same receiver, same event id) is acknowledged without running the handler again; a handler that
 * throws rolls back everything, the event's row included, so the sender's retry is processed.
 *
 * Order of the checks: a bad signature is refused (401) before the body is even parsed, so an
 * unsigned request learns nothing about what the receiver accepts.
 */
import { createHash } from 'node:crypto';
import { ApiError, badRequest, fieldError } from '../errors.js';
import { transact, type Tx } from '../events/transaction.js';
import type { HookApp } from '../hooks/hook-app.js';
import type { RequestOrigin } from '../hooks/request-origin.js';
import type { Clock, Database, Logger } from '../ports.js';
import { nowText } from '../clock.js';
import { formatDate } from '../time.js';
import { SignatureError, verifyGithub, verifyHmac, verifyStandard, verifyStripe } from './signatures.js';
import { WebhookEvent, type ReceivedEvent } from './webhook-event.js';
import { isEventRecorded, recordEvent } from './webhook-event-store.js';
import { MAX_EVENT_ID_LENGTH, type WebhookReceiver } from './webhook-receiver.js';

export interface InboxDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** `e.app` bound to the transaction. */
  hookApp: (tx: Tx) => HookApp;
  /** JSON text → value; throws a 400 ApiError when malformed (the HTTP layer's parser, with its key limits). */
  parseJson: (text: string) => unknown;
}

/** The answer to send, or null when the handler answered itself (`e.json()`… on the origin). */
export type InboxAnswer = { status: number; body: unknown } | null;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

export const SIGNATURE_MESSAGE = 'Invalid webhook signature.';

const CODES: Record<SignatureError['reason'], string> = {
  missing: 'validation_missing_signature',
  malformed: 'validation_invalid_signature',
  stale: 'validation_stale_timestamp',
  mismatch: 'validation_signature_mismatch',
};

const header = (headers: Headers, name: string): string => {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Runs `check` with each secret; passes when one verifies. Only a mismatch tries the next secret. */
function withAnySecret(secrets: readonly string[], check: (secret: string) => void): void {
  let first: SignatureError | null = null;
  for (const secret of secrets) {
    try {
      return check(secret);
    } catch (err) {
      if (!(err instanceof SignatureError) || err.reason !== 'mismatch') throw err;
      first ??= err;
    }
  }
  throw first!;
}

/** Throws a 401 ApiError when the delivery is not signed as the receiver expects. */
export function verifyDelivery(receiver: WebhookReceiver, raw: Buffer, headers: Headers, nowMs: number): void {
  const options = { nowMs, toleranceSeconds: receiver.toleranceSeconds };
  const v = receiver.verify;
  try {
    if (v === 'standard') verifyStandard(receiver.secrets, headers, raw, options);
    else if (v === 'stripe') withAnySecret(receiver.secrets, (s) => verifyStripe(s, header(headers, 'stripe-signature'), raw, options));
    else if (v === 'github') withAnySecret(receiver.secrets, (s) => verifyGithub(s, header(headers, 'x-hub-signature-256'), raw));
    else withAnySecret(receiver.secrets, (s) => verifyHmac(s, header(headers, v.header), raw, v));
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    throw new ApiError(401, SIGNATURE_MESSAGE, { signature: fieldError(CODES[err.reason], err.message) });
  }
}

function isJson(contentType: string): boolean {
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || media.endsWith('+json');
}

/** The body as the handler sees it: parsed JSON for a JSON content type (null when empty), else the text. */
function bodyOf(raw: Buffer, headers: Headers, parseJson: (text: string) => unknown): unknown {
  const text = raw.toString('utf8');
  if (!isJson(header(headers, 'content-type'))) return text;
  return text.trim() === '' ? null : parseJson(text);
}

const field = (body: unknown, name: string): unknown => (typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function noEventId(where: string): never {
  throw badRequest('The delivery has no event id.', { eventId: fieldError('validation_required', `The event id (${where}) is missing or longer than ${MAX_EVENT_ID_LENGTH} characters.`) });
}

/** The sender's event id and type. */
export function eventOf(receiver: WebhookReceiver, body: unknown, raw: Buffer, headers: Headers): ReceivedEvent {
  const v = receiver.verify;
  let id: string;
  let type: string;
  let where: string;
  if (v === 'standard') {
    [id, type, where] = [header(headers, 'webhook-id'), text(field(body, 'type')), 'the webhook-id header'];
  } else if (v === 'stripe') {
    [id, type, where] = [text(field(body, 'id')), text(field(body, 'type')), "the JSON body's id"];
  } else if (v === 'github') {
    [id, type, where] = [header(headers, 'x-github-delivery'), header(headers, 'x-github-event'), 'the X-GitHub-Delivery header'];
  } else {
    type = receiver.typeHeader ? header(headers, receiver.typeHeader) : text(field(body, 'type'));
    if (receiver.id) [id, where] = [text(receiver.id(body, headers)), "the receiver's id function"];
    else if (receiver.idHeader) [id, where] = [header(headers, receiver.idHeader), `the ${receiver.idHeader} header`];
    else [id, where] = [sha256(raw), 'the SHA-256 of the body'];
  }
  if (id === '' || id.length > MAX_EVENT_ID_LENGTH) noEventId(where);
  return { id, type: type.slice(0, MAX_EVENT_ID_LENGTH) };
}

const duplicate = () => ({ status: 200, body: { received: true, duplicate: true } });
const received = () => ({ status: 200, body: { received: true } });

/** Verifies, stores and processes one delivery; throws ApiErrors (401, 400) or what the handler threw. */
export async function receiveWebhook(deps: InboxDeps, receiver: WebhookReceiver, raw: Buffer, origin: RequestOrigin): Promise<InboxAnswer> {
  const headers = origin.headers;
  verifyDelivery(receiver, raw, headers, deps.clock.now());
  const body = bodyOf(raw, headers, deps.parseJson);
  const event = eventOf(receiver, body, raw, headers);
  const logged = { receiver: receiver.path, eventId: event.id, type: event.type };
  // A redelivery of a committed event: answered from a read, without taking the write lock.
  if (await isEventRecorded(deps.db, receiver.path, event.id)) {
    deps.logger.debug(logged, 'webhook redelivered: already processed');
    return duplicate();
  }
  return transact(
    deps.db,
    async (tx) => {
      const now = deps.clock.now();
      const stored = await recordEvent(tx.db, {
        receiver: receiver.path,
        eventId: event.id,
        type: event.type,
        payloadHash: sha256(raw),
        received: nowText(deps.clock),
        expires: formatDate(new Date(now + receiver.retentionSeconds * 1000)),
      });
      // A concurrent delivery of the same event committed first: the unique index decided.
      if (!stored) {
        deps.logger.debug(logged, 'webhook redelivered concurrently: already processed');
        return duplicate();
      }
      const result = await receiver.handler(new WebhookEvent(deps.hookApp(tx), origin, body, raw, event));
      if (origin.response) return null;
      return result === undefined ? received() : { status: 200, body: result };
    },
    undefined,
    deps.logger,
  );
}
