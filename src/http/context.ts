/**
 * Per-request context: the resolved auth (from `Authorization`, raw token or `Bearer …`) and
 * the request info rules see. Invalid or expired tokens make the request a guest request.
 */
import type { FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import type { ApiKeyPrincipal } from '../core/auth/api-key-scope.js';
import { API_KEY_PREFIX } from '../core/auth/api-keys.js';
import type { ClientInfo } from '../core/auth/auth-origins.js';
import type { ResolvedAuth } from '../core/auth/auth-service.js';
import { apiKeyCaller, callerFor, installerCaller, type Caller } from '../core/records/caller.js';
import { ruleHeaderName, type RequestInfo } from '../core/rules/request-info.js';
import { clientIpOf } from './client-ip.js';

declare module 'fastify' {
  interface FastifyRequest {
    basaltAuth: ResolvedAuth | null;
    basaltApiKey: ApiKeyPrincipal | null;
    basaltCaller: Caller | null;
    /** The request carries a valid first-run token (core/auth/first-run.ts). */
    basaltInstaller: boolean;
  }
}

/** The token of an Authorization header: raw (as the SDK sends it) or after a `Bearer ` prefix. */
export function tokenFromHeader(header: string | undefined): string | null {
  if (!header) return null;
  const token = header.replace(/^bearer\s+/i, '').trim();
  return token === '' ? null : token;
}

/** Whether the request carries credentials to resolve (a token or an API key). */
export function hasCredentials(request: FastifyRequest): boolean {
  return Boolean(request.headers.authorization || request.headers['x-api-key']);
}

/**
 * Resolves the request's credentials: an API key (`Authorization: Bearer bsk_…` or
 * `X-API-Key: bsk_…`) or a record token. Anything invalid leaves the request a guest request.
 */
export async function resolveCredentials(app: App, request: FastifyRequest): Promise<void> {
  const token = tokenFromHeader(request.headers.authorization);
  const keyHeader = request.headers['x-api-key'];
  const key = token?.startsWith(API_KEY_PREFIX) ? token : typeof keyHeader === 'string' ? keyHeader.trim() : '';
  if (key !== '') {
    request.basaltApiKey = await app.apiKeys.resolve(key);
    return;
  }
  if (!token || token.length > 4096) return;
  request.basaltAuth = await app.auth.resolveToken(token);
  if (!request.basaltAuth) request.basaltInstaller = await app.firstRun.accepts(token);
}

/** The client address (http/client-ip.ts) and user agent, for sign-in origins and rate limits. */
export function clientOf(app: App, request: FastifyRequest): ClientInfo {
  const agent = request.headers['user-agent'];
  return { ip: clientIpOf(app, request), userAgent: typeof agent === 'string' ? agent : '' };
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
  if (request.basaltCaller) return request.basaltCaller;
  const info = requestInfo(request);
  // An API key is a service account: past the rules, within its scopes (core checks them).
  const caller = request.basaltApiKey ? apiKeyCaller(info, request.basaltApiKey) : request.basaltInstaller ? installerCaller(info) : callerFor(info);
  return (request.basaltCaller = caller);
}

export function queryOf(request: FastifyRequest): Record<string, string> {
  return flatQuery(request.query);
}
