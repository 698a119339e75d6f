/**
 * `GET /api/metrics`: Prometheus metrics in the text exposition format (adapters/prometheus-metrics.ts).
 * Off unless configured (404, as if the route did not exist). On the main address it is
 * protected: a scraper sends `Authorization: Bearer <--metrics-token>` (compared in constant
 * time), or a superuser sends their own auth token; anything else is a 401. `--metrics-http`
 * serves the same text without a token on a separate, private address (metrics-server.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { notFound, unauthorized } from '../../core/errors.js';
import { isSuperuser } from './guards.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether the request carries the metrics token. Digests first: equal lengths, and the token's length never leaks. */
export function hasMetricsToken(header: string | undefined, token: string): boolean {
  if (token === '' || typeof header !== 'string' || header.length > 4096) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  return timingSafeEqual(digest(m[1]), digest(token));
}

/** Sends the exposition (uncached: every scrape reads the state of now). */
export async function sendMetrics(app: App, reply: FastifyReply): Promise<FastifyReply> {
  const { contentType, body } = await app.metrics.render();
  return reply.header('cache-control', 'no-store').type(contentType).send(body);
}

export function registerMetricsRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/metrics', async (request: FastifyRequest, reply) => {
    if (!app.metrics.enabled) throw notFound();
    const allowed = hasMetricsToken(request.headers.authorization, app.config.metrics.token) || isSuperuser(request);
    if (!allowed) throw unauthorized('The request requires the metrics token (Authorization: Bearer …) or a superuser authorization token.');
    return sendMetrics(app, reply);
  });
}
