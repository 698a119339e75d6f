/**
 * The mailbox flows of auth collections (spec §1.3): password reset, verification and email
 * change. Every request-* answers 204 whatever the address; every confirm-* answers 204.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { readBody } from '../body.js';
import { callerOf } from '../context.js';
import { authCollectionFrom, refuseApiKeys } from './guards.js';

type Params = { collection: string };

export function registerRecordAuthEmailRoutes(server: FastifyInstance, app: App): void {
  const flows = app.emailFlows;
  const routes: [path: string, tag: string, run: (c: ReturnType<typeof authCollectionFrom>, body: Record<string, unknown>, request: Parameters<typeof callerOf>[0]) => Promise<void>][] = [
    ['request-password-reset', 'requestPasswordReset', (c, body) => flows.requestPasswordReset(c, body)],
    ['confirm-password-reset', 'confirmPasswordReset', (c, body) => flows.confirmPasswordReset(c, body)],
    ['request-verification', 'requestVerification', (c, body) => flows.requestVerification(c, body)],
    ['confirm-verification', 'confirmVerification', (c, body) => flows.confirmVerification(c, body)],
    ['request-email-change', 'requestEmailChange', (c, body, request) => flows.requestEmailChange(c, body, callerOf(request))],
    ['confirm-email-change', 'confirmEmailChange', (c, body) => flows.confirmEmailChange(c, body)],
  ];
  for (const [path, tag, run] of routes) {
    server.post<{ Params: Params }>(`/api/collections/:collection/${path}`, { config: { rateLimit: [tag] }, preHandler: refuseApiKeys }, async (request, reply) => {
      const collection = authCollectionFrom(app, request.params.collection);
      const { data } = await readBody(request);
      await run(collection, data, request);
      return reply.code(204).send();
    });
  }
}
