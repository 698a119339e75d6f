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

function flatQuery(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (query && typeof query === 'object') {
    for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
      out[k] = Array.isArray(v) ? String(v[v.length - 1] ?? '') : String(v ?? '');
    }
  }
  return out;
}

function ruleHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) {
    if (v === undefined) continue;
    headers[ruleHeaderName(k)] = Array.isArray(v) ? v.join(',') : v;
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

export function callerOf(request: FastifyRequest): Caller {
  return callerFor(requestInfo(request));
}

export function queryOf(request: FastifyRequest): Record<string, string> {
  return flatQuery(request.query);
}
