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

declare module 'fastify' {
  interface FastifyRequest {
    /** The error a failed request was answered with (error-handler.ts), for its stored log entry. */
    basaltError: { message: string; data: unknown } | null;
  }
  interface FastifyContextConfig {
    /** A successful request of this route is not stored (the logs API itself, as in PocketBase). */
    skipSuccessLog?: boolean;
  }
}

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
  if (!failed && request.routeOptions.config?.skipSuccessLog === true) return;
  const { logIP, logAuthId } = app.settings.get().logs;
  const method = cut(request.method.toUpperCase(), 50);
  const url = cut(redactUrl(request.url), 3000);
  const data: Record<string, unknown> = {
    type: 'request',
    execTime: reply.elapsedTime,
    url,
    method,
    status,
    referer: cut(redactUrl(header(request, 'referer')), 2000),
    userAgent: cut(header(request, 'user-agent'), 2000),
  };
  const error = request.basaltError;
  if (failed && error) {
    data.error = error.message;
    data.details = error.data;
  }
  const auth = request.basaltAuth?.record;
  data.auth = auth ? auth.collection.name : '';
  if (auth && logAuthId) data.authId = String(auth.values.id);
  if (logIP) {
    data.userIP = request.ip ?? '';
    data.remoteIP = request.socket?.remoteAddress ?? '';
  }
  let path = url;
  try {
    path = decodeURI(url);
  } catch {
    // PocketBase keeps the escaped URL when it cannot be unescaped.
  }
  app.logs.add(level, `${method} ${path}`, data);
}
