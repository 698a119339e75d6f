/** `/api/jobs` (superusers): list, view, stats, cancel and retry jobs of the durable queue (docs/jobs.md). */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { listJobs } from '../../core/jobs/job-list.js';
import { callerOf, queryOf } from '../context.js';
import { superusersOnly } from './guards.js';

type Params = { id: string };

export function registerJobRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/jobs', superusersOnly, async (request) => listJobs(app.query, queryOf(request), callerOf(request)));

  server.get('/api/jobs/stats', superusersOnly, async () => app.jobs.stats());

  server.get<{ Params: Params }>('/api/jobs/:id', superusersOnly, async (request) => app.jobs.view(request.params.id));

  server.post<{ Params: Params }>('/api/jobs/:id/cancel', superusersOnly, async (request) => app.jobs.cancel(request.params.id));

  server.post<{ Params: Params }>('/api/jobs/:id/retry', superusersOnly, async (request) => app.jobs.retry(request.params.id));
}
