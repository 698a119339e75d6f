/** `/api/keys` (superusers): create (the key is shown once), list, view, change and revoke API keys. */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { readBody } from '../body.js';
import { superusersOnly } from './guards.js';

type Params = { id: string };

export function registerApiKeyRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/keys', superusersOnly, async () => {
    const items = await app.apiKeys.list();
    return { page: 1, perPage: items.length, totalItems: items.length, totalPages: 1, items };
  });

  server.post('/api/keys', superusersOnly, async (request) => {
    const { data } = await readBody(request);
    return app.apiKeys.create(data);
  });

  server.get<{ Params: Params }>('/api/keys/:id', superusersOnly, async (request) => app.apiKeys.view(request.params.id));

  server.patch<{ Params: Params }>('/api/keys/:id', superusersOnly, async (request) => {
    const { data } = await readBody(request);
    return app.apiKeys.update(request.params.id, data);
  });

  server.delete<{ Params: Params }>('/api/keys/:id', superusersOnly, async (request, reply) => {
    await app.apiKeys.delete(request.params.id);
    return reply.code(204).send();
  });
}
