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

/**
 * What rules see of an HTTP request. Headers and query are built on first use: most rules read
 * neither, and building them is a measurable share of a primary-key read.
 */
class HttpRequestInfo implements RequestInfo {
  readonly context = 'default' as const;
  readonly method: string;
  readonly auth: RequestInfo['auth'];
  private headersCache: Record<string, string> | undefined;
  private queryCache: Record<string, string> | undefined;

  constructor(
    private readonly request: FastifyRequest,
    readonly body: Record<string, unknown>,
  ) {
    this.method = request.method;
    this.auth = request.basaltAuth?.record ?? null;
  }

  get headers(): Record<string, string> {
    return (this.headersCache ??= ruleHeaders(this.request));
  }

  get query(): Record<string, string> {
    return (this.queryCache ??= flatQuery(this.request.query));
  }
}

export function requestInfo(request: FastifyRequest, body: Record<string, unknown> = {}): RequestInfo {
  return new HttpRequestInfo(request, body);
}

/** The caller of a request (built once per request). */
export function callerOf(request: FastifyRequest): Caller {
  return (request.basaltCaller ??= callerFor(requestInfo(request)));
}

export function queryOf(request: FastifyRequest): Record<string, string> {
  return flatQuery(request.query);
}
