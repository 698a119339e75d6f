/**
 * The stored log entry of a request (PocketBase's activity logger, apis/middlewares.go): level
 * info, or error when the answer is ≥ 400; message `METHOD url`; data `type: "request"`, `url`,
 * `method`, `status`, `execTime` (ms), `referer`, `userAgent`, `auth` (the collection of the
 * signed-in record, "" for a guest), `authId` (with `logs.logAuthId`), `userIP` and `remoteIP`
 * (with `logs.logIP`), and `error`/`details` of a failed request.
 *
 * Unlike PocketBase, the URL keeps no secret: the values of query parameters that carry one
 * (file tokens, OAuth2 codes and states, passwords, keys) are dropped, their names kept.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { LOG_LEVELS } from '../core/logs/log-store.js';
import { clientIpOf } from './client-ip.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The error a failed request was answered with (error-handler.ts), for its stored log entry. */
    basaltError: { message: string; data: unknown } | null;
  }
  interface FastifyRequest {
    /** A successful answer to this request is not stored (set by `skipSuccessLog`'s hook). */
    skipSuccessLog: boolean;
  }
}

/**
 * Route options whose successful requests are not stored (the logs API itself, as PocketBase's
 * SkipSuccessActivityLog). A flag set by a hook of these routes alone: reading the route's
 * config back on every request (`request.routeOptions` builds an object) costs every route.
 */
export const skipSuccessLog = {
  onRequest: (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    request.skipSuccessLog = true;
    done();
  },
};

const SECRET_PARAM = /token|secret|passw|signature|api[_-]?key|^(?:code|state|key|sig|otp|otpid|mfaid)$/i;

/** Longest URL, method, referer and user agent stored (PocketBase's limits). */
const cut = (value: string, max: number) => (value.length > max ? value.slice(0, max) + '...' : value);

/** `url` with the values of secret-bearing query parameters removed (`?token=` stays, its value goes). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const parts = url.slice(q + 1).split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    const rawName = eq === -1 ? parts[i] : parts[i].slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      // A malformed name is kept as it is and still checked.
    }
    if (eq !== -1 && SECRET_PARAM.test(name)) {
      parts[i] = rawName + '=';
      changed = true;
    }
  }
  return changed ? url.slice(0, q + 1) + parts.join('&') : url;
}

/** Characters JSON.stringify escapes in a string, and surrogates (left to it, paired or not). */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A string as JSON text, as JSON.stringify writes it, without the ~80 ns its generic entry costs
 * on the common plain string (measured: a stored request log makes about ten of these).
 */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function header(request: FastifyRequest, name: string): string {
  const value = request.headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] ?? '') : '';
}

/** Queues the stored entry of a finished request, when the log settings want one. */
export function storeRequestLog(app: App, request: FastifyRequest, reply: FastifyReply): void {
  const status = reply.statusCode;
  const failed = status >= 400;
  const level = failed ? LOG_LEVELS.error : LOG_LEVELS.info;
  if (!app.logs.accepts(level)) return;
  if (!failed && request.skipSuccessLog) return;
  const { logIP, logAuthId } = app.settings.get().logs;
  const method = cut(request.method.toUpperCase(), 50);
  const url = cut(redactUrl(request.url), 3000);
  // The JSON text is written out here, key by key: the write buffer keeps bytes, not objects
  // (core/logs/log-batch.ts), and this runs for every request.
  const q = jsonString;
  const execTime = reply.elapsedTime;
  let data = `{"type":"request","execTime":${Number.isFinite(execTime) ? String(execTime) : 'null'},"url":${q(url)},"method":${q(method)},"status":${status}`;
  data += `,"referer":${q(cut(redactUrl(header(request, 'referer')), 2000))},"userAgent":${q(cut(header(request, 'user-agent'), 2000))}`;
  const error = request.basaltError;
  if (failed && error) {
    data += `,"error":${q(error.message)}`;
    let details: string | undefined;
    try {
      details = JSON.stringify(error.data) as string | undefined;
    } catch {
      // Details JSON cannot hold (a cycle, a bigint) are left out rather than losing the entry.
    }
    if (details !== undefined) data += `,"details":${details}`;
  }
  const auth = request.basaltAuth?.record;
  data += `,"auth":${q(auth ? auth.collection.name : '')}`;
  if (auth && logAuthId) data += `,"authId":${q(String(auth.values.id))}`;
  // userIP is the client's address under the trusted-proxy settings (PocketBase's RealIP), remoteIP the socket's.
  if (logIP) data += `,"userIP":${q(clientIpOf(app, request))},"remoteIP":${q(request.socket?.remoteAddress ?? '')}`;
  data += '}';
  let path = url;
  try {
    path = decodeURI(url);
  } catch {
    // PocketBase keeps the escaped URL when it cannot be unescaped.
  }
  app.logs.addJson(level, `${method} ${path}`, data);
}
