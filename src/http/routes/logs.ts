/**
 * `/api/logs` (superusers, PocketBase's apis/logs.go): the list (filter and sort over `id`,
 * `created`, `level`, `message`, `data.*`, `@rowid`), hourly stats, one entry, and truncation
 * (`DELETE`, Basalt's and the newer SDK's). Successful calls of these routes are not stored
 * themselves (PocketBase's SkipSuccessActivityLog), or reading the logs would fill them.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { notFound } from '../../core/errors.js';
import { callerOf, queryOf } from '../context.js';
import { skipSuccessLog } from '../request-log.js';
import { superusersOnly } from './guards.js';

type Params = { id: string };

const options = { ...superusersOnly, ...skipSuccessLog };

/** The reads may be served by a read replica (README "Read replicas"). */
const readOptions = { ...options, config: { replicaReads: true } };

export function registerLogRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/logs', readOptions, async (request) => app.logs.list(queryOf(request), callerOf(request)));

  server.get('/api/logs/stats', readOptions, async (request) => app.logs.stats(queryOf(request).filter ?? '', callerOf(request)));

  server.get<{ Params: Params }>('/api/logs/:id', readOptions, async (request) => {
    const entry = await app.logs.view(request.params.id);
    if (!entry) throw notFound();
    return entry;
  });

  server.delete('/api/logs', options, async (_request, reply) => {
    await app.logs.truncate();
    return reply.code(204).send();
  });
}
