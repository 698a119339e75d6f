/**
 * Applies the rate limits of the settings to every request (core/rate-limits decides which rule
 * and counts). Collection routes name their action tags in their route config
 * (`config: { rateLimit: ['authWithPassword', 'auth'] }`), as PocketBase's do.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { clientIpOf } from './client-ip.js';
import { callerOf } from './context.js';
import { ApiError } from '../core/errors.js';

/** The metrics' route label of a request no route matched. */
export const UNMATCHED_ROUTE = '(unmatched)';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Action tags of a collection route, for `collection:tag` and `*:tag` rules. */
    rateLimit?: readonly string[];
    /** Never counted (the health probes: a 429 would make an orchestrator restart a healthy node). */
    skipRateLimit?: boolean;
  }
}

/**
 * The path as the router matched it: decoded, without the query and a trailing slash, so that
 * `/api/health/` or `/api/%68ealth` count against a `/api/health` rule.
 */
function routedPath(url: string): string {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  try {
    path = decodeURIComponent(path);
  } catch {
    // Malformed escapes never reach a route: keep the raw path.
  }
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

export function rateLimitHook(app: App) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    // Off by default (as in PocketBase): one property read per request then.
    if (!app.limiter.enabled || request.routeOptions.config?.skipRateLimit) return done();
    const caller = callerOf(request);
    const tags = request.routeOptions.config?.rateLimit;
    const collectionParam = (request.params as { collection?: string } | undefined)?.collection;
    const collection = tags && collectionParam ? app.registry.find(collectionParam) : undefined;
    app.limiter
      .check({
        method: request.method,
        path: routedPath(request.url),
        collection: collection && tags ? { id: collection.id, name: collection.name, tags, route: request.routeOptions.url ?? '' } : undefined,
        isAuth: caller.principal.kind !== 'guest',
        trusted: caller.can.trusted,
        ip: clientIpOf(app, request),
      })
      .then(
        () => done(),
        (err: unknown) => {
          if (err instanceof ApiError && err.status === 429) app.metrics.rateLimitRefused(request.routeOptions.url ?? UNMATCHED_ROUTE);
          done(err as Error);
        },
      );
  };
}
