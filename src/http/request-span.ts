/**
 * The SERVER span of a request (README "Tracing"), when tracing is on: started in the onRequest
 * hook (the route is matched by then), made active around the handler by the route-handler
 * wrapper (so database and outgoing-HTTP spans are its children), ended in onResponse. Names and
 * attributes follow the OpenTelemetry HTTP semantic conventions; the query string is never
 * recorded (it may carry tokens: file tokens, OAuth2 codes).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Span, Tracing } from '../core/tracing/tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's span; null when tracing is off. */
    basaltSpan: Span | null;
  }
}

export function startRequestSpan(tracing: Tracing, request: FastifyRequest): void {
  const url = request.url;
  const q = url.indexOf('?');
  // The route pattern, never the raw path: span names must have a bounded cardinality.
  const route = request.routeOptions.url;
  const attributes: Record<string, string> = {
    'http.request.method': request.method,
    'url.path': q === -1 ? url : url.slice(0, q),
    'url.scheme': request.protocol,
    'client.address': request.ip,
  };
  if (route) attributes['http.route'] = route;
  const agent = request.headers['user-agent'];
  if (agent) attributes['user_agent.original'] = agent;
  request.basaltSpan = tracing.startServerSpan(route ? `${request.method} ${route}` : request.method, request.headers, attributes);
}

/**
 * Runs a handler the route-handler wrapper does not wrap — a custom route (`routerAdd`) or a
 * webhook receiver, served from the not-found handler — in the request's span, so that its
 * statements, outgoing requests and enqueued jobs join the request's trace; the span takes the
 * custom route's pattern as its name and `http.route`.
 */
export function runInRequestSpan<T>(tracing: Tracing | null, request: FastifyRequest, route: string | null, fn: () => T): T {
  const span = request.basaltSpan;
  if (!tracing || !span) return fn();
  if (route) {
    span.updateName(`${request.method} ${route}`);
    span.setAttribute('http.route', route);
  }
  return tracing.within(span, fn);
}

export function endRequestSpan(tracing: Tracing, request: FastifyRequest, reply: FastifyReply): void {
  const span = request.basaltSpan;
  if (!span) return;
  span.setAttribute('http.response.status_code', reply.statusCode);
  // Semantic conventions: a 4xx is the client's error, not the server span's.
  if (reply.statusCode >= 500) {
    span.setAttribute('error.type', String(reply.statusCode));
    tracing.fail(span);
  }
  span.end();
}
