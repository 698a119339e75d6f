/**
 * `/api/webhooks` (superusers; Basalt's addition, docs/webhooks.md): outbound webhook endpoints
 * in PocketBase's list envelope and error shape, their secret rotation, delivery log and replay.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { callerOf, queryOf } from '../context.js';
import { superusersOnly } from './guards.js';

type Params = { id: string };
type DeliveryParams = { id: string; deliveryId: string };

export function registerWebhookRoutes(server: FastifyInstance, app: App): void {
  const webhooks = app.webhooks;
  server.get('/api/webhooks', superusersOnly, async (request) => webhooks.list(queryOf(request), callerOf(request)));
  server.post('/api/webhooks', superusersOnly, async (request) => webhooks.create(request.body ?? {}));
  server.get<{ Params: Params }>('/api/webhooks/:id', superusersOnly, async (request) => webhooks.view(request.params.id));
  server.patch<{ Params: Params }>('/api/webhooks/:id', superusersOnly, async (request) => webhooks.update(request.params.id, request.body ?? {}));
  server.delete<{ Params: Params }>('/api/webhooks/:id', superusersOnly, async (request, reply) => {
    await webhooks.delete(request.params.id);
    return reply.code(204).send();
  });
  server.post<{ Params: Params }>('/api/webhooks/:id/rotate-secret', superusersOnly, async (request) => webhooks.rotateSecret(request.params.id, request.body ?? {}));
  server.get<{ Params: Params }>('/api/webhooks/:id/deliveries', superusersOnly, async (request) => webhooks.deliveries(request.params.id, queryOf(request), callerOf(request)));
  server.get<{ Params: DeliveryParams }>('/api/webhooks/:id/deliveries/:deliveryId', superusersOnly, async (request) => webhooks.viewDelivery(request.params.id, request.params.deliveryId));
  server.post<{ Params: DeliveryParams }>('/api/webhooks/:id/deliveries/:deliveryId/replay', superusersOnly, async (request) => webhooks.replay(request.params.id, request.params.deliveryId));
}
