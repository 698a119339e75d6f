/**
 * `Idempotency-Key` on the write routes (records, batch, custom routes): the HTTP side of
 * core/idempotency. A request without the header costs one header lookup, no query.
 *
 * With the header, in order:
 * 1. the key is checked (400) and scoped to the caller, the method and the path;
 * 2. the request is claimed with its fingerprint (method, path, query, canonical body) before
 *    the handler writes anything: JSON and form bodies are parsed before the handler runs, so
 *    the claim happens first; a multipart body is claimed by readBody once it has been read
 *    (`IdempotentCall.bodyRead`), still before any write;
 * 3. a retry of a finished request gets its stored answer (`Idempotent-Replayed: true`); a
 *    retry while it runs waits for it (up to the query deadline, then 409); the key with another
 *    request is a 422;
 * 4. record and batch writes mark the claim `committed` inside their own transaction
 *    (`markCommitOf`), and the answer is stored before it is sent (a route-level onSend hook for
 *    the built-in routes, `sendCustomAnswer` for custom routes).
 */
import type { FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import { Readable } from 'node:stream';
import type { App } from '../core/app.js';
import { ApiError } from '../core/errors.js';
import { transact, type Tx } from '../core/events/transaction.js';
import type { HookResponse, RequestOrigin } from '../core/hooks/request-origin.js';
import { answerNotStored, keyInProgress, keyReused } from '../core/idempotency/idempotency-errors.js';
import {
  checkIdempotencyKey,
  IDEMPOTENCY_HEADER,
  principalScope,
  REPLAYED_HEADER,
  requestFingerprint,
  scopeId,
  type FingerprintFile,
} from '../core/idempotency/idempotency-key.js';
import { MAX_STORED_BODY, type Claim, type IdempotencyScope, type StoredAnswer } from '../core/idempotency/idempotency-store.js';
import { callerOf } from './context.js';
import { sendHookResponse } from './request-origin.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes an `Idempotency-Key` (wrapRouteHandlers applies it). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** Set while a request with an Idempotency-Key runs on an idempotent route. */
    idempotency: IdempotentCall | null;
  }
}

/** How often a retry looks whether the first request has finished: 20 ms, doubling up to 250 ms. */
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 250;

/**
 * Statuses never stored: the request did not get to its write, or may well succeed when sent
 * again (a timeout, a conflict, a rate limit, an early-data refusal, any server error).
 */
const TRANSIENT = new Set([408, 409, 425, 429]);
const isStoredStatus = (status: number) => status < 500 && !TRANSIENT.has(status);

/** Response headers not replayed: they describe one transfer, not the answer (or must not be repeated). */
const NOT_STORED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date', 'set-cookie', REPLAYED_HEADER.toLowerCase()]);

/** A replay found once the body was read (multipart): thrown out of readBody, answered by the wrapper. */
export class IdempotentReplay extends Error {
  constructor(readonly answer: StoredAnswer) {
    super('idempotent replay');
  }
}

export interface IdempotentCall {
  readonly scope: IdempotencyScope;
  /** Set once this request holds the key. */
  claim: Claim | null;
  /** The answer was stored, released or replayed: nothing more to do. */
  settled: boolean;
  /**
   * The request failed for a reason that may be gone on a retry (a batch past its timeout, a
   * client that went away mid-batch) although its status is a 4xx: its answer is not kept.
   */
  retryable: boolean;
  /** Claims the key with the body just read (multipart); throws IdempotentReplay or an ApiError. */
  bodyRead(data: Record<string, unknown>, files: readonly FingerprintFile[]): Promise<void>;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function pathAndQuery(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  // Trailing slashes are tolerated by the router: `/x/` and `/x` are one route.
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return { path, query: q === -1 ? '' : url.slice(q + 1) };
}

/** The bytes of an onSend payload; null for a stream (not stored). */
function bytesOf(payload: unknown): Buffer | null {
  if (payload === undefined || payload === null) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  return null;
}

function storedHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined || NOT_STORED_HEADERS.has(name.toLowerCase())) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** A custom route's answer as bytes and headers, serialised as Fastify would; null for a stream. */
function serialise(answer: HookResponse): { headers: Record<string, string>; body: Buffer } | null {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers ?? {})) headers[name.toLowerCase()] = value;
  const body = answer.body;
  if (body === undefined) return { headers, body: Buffer.alloc(0) };
  let bytes: Buffer;
  let type: string;
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    bytes = Buffer.from(body);
    type = 'application/octet-stream';
  } else if (typeof body === 'string') {
    bytes = Buffer.from(body, 'utf8');
    type = 'text/plain; charset=utf-8';
  } else if (body instanceof Readable || (typeof body === 'object' && body !== null && Symbol.asyncIterator in body)) {
    return null;
  } else {
    bytes = Buffer.from(JSON.stringify(body), 'utf8');
    type = 'application/json; charset=utf-8';
  }
  headers['content-type'] = answer.type ?? headers['content-type'] ?? type;
  return { headers, body: bytes };
}

export class RouteIdempotency {
  constructor(private readonly app: App) {}

  /** The key's scope, or null when the request has no Idempotency-Key; 400 for a malformed key. */
  private begin(request: FastifyRequest): IdempotentCall | null {
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return null;
    const key = checkIdempotencyKey(header);
    const { path, query } = pathAndQuery(request.url);
    const principal = principalScope(callerOf(request).principal);
    const method = request.method;
    const scope: IdempotencyScope = { id: scopeId(principal, method, path, key), key, principal, route: `${method} ${path}` };
    const call: IdempotentCall = {
      scope,
      claim: null,
      settled: false,
      retryable: false,
      bodyRead: async (data, files) => {
        if (call.claim || call.settled) return;
        const replay = await this.claim(call, requestFingerprint(method, path, query, data, files));
        if (replay) throw new IdempotentReplay(replay);
      },
    };
    return call;
  }

  /**
   * Claims the key for this request; returns the stored answer to replay instead, or throws 422
   * (another request used the key) or 409 (still running past the wait, or answer lost).
   */
  private async claim(call: IdempotentCall, fingerprint: string): Promise<StoredAnswer | null> {
    const maxWait = this.app.config.queryTimeoutMs;
    for (let waited = 0, pause = FIRST_POLL_MS; ; waited += pause, pause = Math.min(pause * 2, MAX_POLL_MS)) {
      const outcome = await this.app.idempotency.claim(call.scope, fingerprint);
      switch (outcome.kind) {
        case 'claimed':
          call.claim = outcome.claim;
          return null;
        case 'replay':
          call.settled = true;
          return outcome.answer;
        case 'mismatch':
          throw keyReused();
        case 'unknown':
          throw answerNotStored();
        case 'running':
          // Wall-clock polling, not the app's Clock: a waiting request must not depend on a test
          // clock being moved (the lease it waits on does).
          if (waited >= maxWait) throw keyInProgress();
          await delay(pause);
      }
    }
  }

  private sendReplay(reply: FastifyReply, answer: StoredAnswer): FastifyReply {
    reply.code(answer.status);
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
    reply.header(REPLAYED_HEADER, 'true');
    if (answer.body.length === 0) reply.send();
    else reply.send(answer.body);
    return reply;
  }

  /**
   * Runs `handler` for a request on an idempotent route: as it is without the header; with it,
   * claimed first (or claimed by readBody for multipart), or answered from the store.
   * `customRoute`: errors are stored here, since custom routes have no route-level onSend hook.
   */
  async run(request: FastifyRequest, reply: FastifyReply, handler: () => Promise<unknown>, customRoute = false): Promise<unknown> {
    const call = this.begin(request);
    if (!call) return handler();
    request.idempotency = call;
    if (!request.multipartPending) {
      const { path, query } = pathAndQuery(request.url);
      const replay = await this.claim(call, requestFingerprint(request.method, path, query, request.body ?? null));
      if (replay) return this.sendReplay(reply, replay);
    }
    try {
      return await handler();
    } catch (err) {
      if (err instanceof IdempotentReplay) return this.sendReplay(reply, err.answer);
      if (customRoute && call.claim && !call.settled) {
        call.settled = true;
        if (err instanceof ApiError) await this.settle(call, err.status, { 'content-type': 'application/json; charset=utf-8' }, Buffer.from(JSON.stringify(err.toJSON())));
        else await this.settle(call, 500, {}, null);
      }
      throw err;
    }
  }

  /**
   * Keeps or gives back the claim once the answer is known:
   * - stored when it is a 2xx–4xx other than a transient one, fits the cap, and is not a stream;
   * - a write that committed is never re-run: with an answer that cannot be stored (a 5xx after
   *   the commit, too large, a stream) the row stays `committed` and retries get a 409 at once;
   * - otherwise the key is released, and a retry runs for real.
   */
  private async settle(call: IdempotentCall, status: number, headers: Record<string, string>, body: Buffer | null): Promise<void> {
    const store = this.app.idempotency;
    const claim = call.claim!;
    try {
      const fits = body !== null && body.length <= MAX_STORED_BODY;
      if (fits && isStoredStatus(status) && !(call.retryable && !claim.committed)) await store.complete(claim, { status, headers, body });
      else if (claim.committed) await store.abandon(claim);
      else await store.release(claim);
    } catch (err) {
      // The answer still goes out; the claim's lease decides what a retry sees.
      this.app.logger.error({ err }, 'storing an idempotent answer failed');
    }
  }

  /** The route-level onSend hook of the built-in idempotent routes: stores the answer before it is sent. */
  readonly onSend: onSendHookHandler = (request, reply, payload, done) => {
    const call = request.idempotency;
    if (!call?.claim || call.settled) return done(null, payload);
    call.settled = true;
    this.settle(call, reply.statusCode, storedHeaders(reply), bytesOf(payload)).then(
      () => done(null, payload),
      () => done(null, payload),
    );
  };

  /** Sends a custom route's answer, stored first when the request holds a key. */
  async sendCustomAnswer(request: FastifyRequest, reply: FastifyReply, answer: HookResponse): Promise<FastifyReply> {
    const call = request.idempotency;
    const serialised = serialise(answer);
    if (call?.claim && !call.settled) {
      call.settled = true;
      await this.settle(call, answer.status, serialised?.headers ?? {}, serialised?.body ?? null);
    }
    if (!serialised) {
      sendHookResponse({ response: answer } as RequestOrigin, reply);
      return reply;
    }
    reply.code(answer.status);
    for (const [name, value] of Object.entries(serialised.headers)) reply.header(name, value);
    if (serialised.body.length === 0) reply.send();
    else reply.send(serialised.body);
    return reply;
  }
}

/**
 * What makes a write mark the request's claim `committed` in its own transaction (undefined when
 * the request holds no key): a committed write and its marker commit together, so a retry after
 * a crash between the commit and the stored answer gets a 409, never a second write.
 */
export function commitMarker(app: App, request: FastifyRequest): ((tx: Tx) => void) | undefined {
  const claim = request.idempotency?.claim;
  if (!claim) return undefined;
  return (tx) => {
    tx.beforeCommit(() => app.idempotency.markCommitted(tx.db, claim));
    tx.afterCommit(() => {
      claim.committed = true;
    });
  };
}

/** Keeps the request's answer out of the store: it failed for a reason a retry may not meet. */
export function markRetryable(request: FastifyRequest): void {
  if (request.idempotency) request.idempotency.retryable = true;
}

/**
 * Runs `write` in a transaction that also marks the request's claim `committed` (see
 * commitMarker), for services that take an outer transaction (workflow transitions); without a
 * key, `write` runs as it is.
 */
export function withCommitMarker<T>(app: App, request: FastifyRequest, write: (tx: Tx | undefined) => Promise<T>): Promise<T> {
  const join = commitMarker(app, request);
  if (!join) return write(undefined);
  return transact(
    app.db,
    async (tx) => {
      join(tx);
      return write(tx);
    },
    undefined,
    app.logger,
  );
}
