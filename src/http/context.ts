/**
 * Per-request context: the resolved auth (from `Authorization`, raw token or `Bearer …`) and
 * the request info rules see. Invalid or expired tokens make the request a guest request.
 */
import type { FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import type { ResolvedAuth } from '../core/auth/auth-service.js';
import { callerFor, type Caller } from '../core/records/caller.js';
import { ruleHeaderName, type RequestInfo } from '../core/rules/request-info.js';

declare module 'fastify' {
  interface FastifyRequest {
    basaltAuth: ResolvedAuth | null;
    basaltCaller: Caller | null;
  }
}

/** The token of an Authorization header: raw (as the SDK sends it) or after a `Bearer ` prefix. */
export function tokenFromHeader(header: string | undefined): string | null {
  if (!header) return null;
  const token = header.replace(/^bearer\s+/i, '').trim();
  return token === '' ? null : token;
}

export async function resolveAuth(app: App, request: FastifyRequest): Promise<ResolvedAuth | null> {
  const token = tokenFromHeader(request.headers.authorization);
  if (!token || token.length > 4096) return null;
  return app.auth.resolveToken(token);
}

/** Query values by name; a repeated parameter keeps its first value (as Go's Query().Get does). */
function flatQuery(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (query && typeof query === 'object') {
    for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
      out[k] = Array.isArray(v) ? String(v[0] ?? '') : String(v ?? '');
    }
  }
  return out;
}

/** Headers for rules: snake_cased names; a repeated header keeps its first value (as Go's Header.Get). */
function ruleHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = request.raw.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = ruleHeaderName(raw[i]);
    if (!(name in headers)) headers[name] = raw[i + 1];
  }
  return headers;
}

export function requestInfo(request: FastifyRequest, body: Record<string, unknown> = {}): RequestInfo {
  let headers: Record<string, string> | undefined;
  let query: Record<string, string> | undefined;
  // Only rules that read @request.headers / @request.query pay for building them.
  return {
    context: 'default',
    method: request.method,
    get headers() {
      return (headers ??= ruleHeaders(request));
    },
    get query() {
      return (query ??= flatQuery(request.query));
    },
    body,
    auth: request.basaltAuth?.record ?? null,
  };
}

/** The caller of a request (built once per request). */
export function callerOf(request: FastifyRequest): Caller {
  return (request.basaltCaller ??= callerFor(requestInfo(request)));
}

export function queryOf(request: FastifyRequest): Record<string, string> {
  return flatQuery(request.query);
}
