/**
 * `/api/crons` (superusers, PocketBase's shapes): `GET` lists the registered jobs as
 * `[{id, expression}]`; `POST /api/crons/{id}` runs one now, on this node, in the background, and
 * answers 204 at once. A manual run is not claimed (no other node is asked) and is skipped when
 * the job is already running on this node (docs/cron.md).
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { MESSAGES, notFound } from '../../core/errors.js';
import { superusersOnly } from './guards.js';

type Params = { id: string };

export function registerCronRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/crons', superusersOnly, async () => app.crons.list());

  server.post<{ Params: Params }>('/api/crons/:id', superusersOnly, async (request, reply) => {
    const id = request.params.id;
    if (!app.crons.has(id)) throw notFound(MESSAGES.missingCronJob);
    // runNow never rejects (a failing job is logged) and starts the handler after this answer.
    void app.crons.runNow(id);
    return reply.code(204).send();
  });
}
