import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { callerOf } from '../context.js';

/** `GET /api/health` (spec §1.8): public; superusers also get a few diagnostics. */
export function registerHealthRoutes(server: FastifyInstance, _app: App): void {
  const handler = async (request: import('fastify').FastifyRequest) => {
    const caller = callerOf(request);
    const data = caller.can.trusted
      ? { canBackup: false, realIP: request.ip, possibleProxyHeader: request.headers['x-forwarded-for'] ? 'X-Forwarded-For' : '' }
      : {};
    return { code: 200, message: 'API is healthy.', data };
  };
  server.get('/api/health', handler);
}
