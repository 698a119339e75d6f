/**
 * Captures the stored log entry of each finished request (`/api/logs`): the raw fields only, one
 * copy into the log writer's buffer. The entry (PocketBase's activity log: its message, its JSON
 * data, the URL without secrets) is formatted where the batch is written, off the request path
 * (core/logs/request-log-format.ts, core/logs/log-batch.ts).
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

function header(request: FastifyRequest, name: string): string {
  const value = request.headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] ?? '') : '';
}

/** JSON text of a failed request's details; null when absent or when JSON cannot hold them (a cycle, a bigint). */
function detailsJson(data: unknown): string | null {
  try {
    return (JSON.stringify(data) as string | undefined) ?? null;
  } catch {
    return null;
  }
}

/** Queues the stored entry of a finished request, when the log settings want one. */
export function storeRequestLog(app: App, request: FastifyRequest, reply: FastifyReply): void {
  const status = reply.statusCode;
  const failed = status >= 400;
  const level = failed ? LOG_LEVELS.error : LOG_LEVELS.info;
  if (!app.logs.accepts(level)) return;
  if (!failed && request.skipSuccessLog) return;
  const { logIP, logAuthId } = app.settings.get().logs;
  const auth = request.basaltAuth?.record;
  const error = failed ? request.basaltError : null;
  app.logs.addRequest({
    time: 0,
    level,
    status,
    execTime: reply.elapsedTime,
    method: request.method,
    url: request.url,
    referer: header(request, 'referer'),
    userAgent: header(request, 'user-agent'),
    auth: auth ? auth.collection.name : '',
    authId: auth && logAuthId ? String(auth.values.id) : null,
    // userIP is the client's address under the trusted-proxy settings (PocketBase's RealIP), remoteIP the socket's.
    userIP: logIP ? clientIpOf(app, request) : null,
    remoteIP: logIP ? (request.socket?.remoteAddress ?? '') : null,
    error: error ? error.message : null,
    details: error ? detailsJson(error.data) : null,
  });
}
