/**
 * Health: `GET /api/health` (spec §1.8, PocketBase's: public; superusers also get a few
 * diagnostics), and the probes for orchestrators, public, cheap and never rate limited (a probe
 * refused with 429 would get a healthy node restarted):
 *
 * - `GET /api/health/live`: liveness. Answered from the event loop without touching anything, so
 *   an answer at all means the process is not wedged; a blocked loop is a probe timeout.
 * - `GET /api/health/ready`: readiness (core/health/readiness.ts). 200 when the database and the
 *   shared stores answer; 503 in the standard error shape naming each failed check otherwise.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { ApiError } from '../../core/errors.js';
import { callerOf } from '../context.js';
import { clientIpOf, possibleProxyHeader } from '../client-ip.js';

const PROBE = { config: { skipRateLimit: true, duringRestore: true } } as const;

export function registerHealthRoutes(server: FastifyInstance, app: App): void {
  // Answered during a restore too: `canBackup` (PocketBase's) is false while a backup or a restore runs.
  server.get('/api/health', { config: { duringRestore: true } }, async (request: FastifyRequest) => {
    const caller = callerOf(request);
    const data = caller.can.trusted ? { canBackup: !app.backups.busy, realIP: clientIpOf(app, request), possibleProxyHeader: possibleProxyHeader(app, request) } : {};
    return { code: 200, message: 'API is healthy.', data };
  });

  server.get('/api/health/live', PROBE, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { code: 200, message: 'API is live.', data: {} };
  });

  server.get('/api/health/ready', PROBE, async (_request, reply) => {
    const report = await app.readiness();
    // Probes must see the state of now, never a cached answer.
    reply.header('cache-control', 'no-store');
    if (!report.ready) {
      const failed = Object.fromEntries(Object.entries(report.checks).filter(([, v]) => v !== 'ok'));
      throw new ApiError(503, 'The server is not ready.', failed as ConstructorParameters<typeof ApiError>[2]);
    }
    return { code: 200, message: 'API is ready.', data: report.checks };
  });
}
