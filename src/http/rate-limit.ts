/**
 * Applies the rate limits of the settings to every request (core/rate-limits decides which rule
 * and counts). Collection routes name their action tags in their route config
 * (`config: { rateLimit: ['authWithPassword', 'auth'] }`), as PocketBase's do.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { callerOf, clientOf } from './context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Action tags of a collection route, for `collection:tag` and `*:tag` rules. */
    rateLimit?: readonly string[];
  }
}

export function rateLimitHook(app: App) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    // Off by default (as in PocketBase): one property read per request then.
    if (!app.limiter.enabled) return done();
    const caller = callerOf(request);
    const tags = request.routeOptions.config?.rateLimit;
    const collectionParam = (request.params as { collection?: string } | undefined)?.collection;
    const collection = tags && collectionParam ? app.registry.find(collectionParam) : undefined;
    const url = request.url;
    const q = url.indexOf('?');
    app.limiter
      .check({
        method: request.method,
        path: q === -1 ? url : url.slice(0, q),
        collection: collection && tags ? { id: collection.id, name: collection.name, tags, route: request.routeOptions.url ?? '' } : undefined,
        isAuth: caller.auth !== null || caller.apiKey !== undefined,
        isSuperuser: caller.isSuperuser && !caller.apiKey,
        ip: clientOf(request).ip,
      })
      .then(() => done(), done);
  };
}
