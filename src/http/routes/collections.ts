/** The collections admin API (spec §1.4), superusers only. */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { collectionToJson } from '../../core/collections/collection-json.js';
import { listCollections } from '../../core/collections/collection-list.js';
import { readBody } from '../body.js';
import { skipSuccessLog } from '../request-log.js';
import { callerOf, queryOf } from '../context.js';
import { superusersOnly } from './guards.js';

type Params = { collection: string };

export function registerCollectionRoutes(server: FastifyInstance, app: App): void {
  const service = app.collections;

  // The list may be served by a read replica (README "Read replicas"); the schema itself is the registry's.
  server.get('/api/collections', { ...superusersOnly, config: { replicaReads: true } }, async (request) => {
    const result = await listCollections(app.query, queryOf(request), callerOf(request), (id) => app.registry.find(id)?.data);
    return { ...result, items: result.items.map(collectionToJson) };
  });

  server.post('/api/collections', superusersOnly, async (request) => {
    const { data } = await readBody(request);
    return collectionToJson(await service.create(data));
  });

  server.get('/api/collections/meta/scaffolds', superusersOnly, async () => {
    const scaffolds = service.scaffolds();
    return Object.fromEntries(Object.entries(scaffolds).map(([k, v]) => [k, collectionToJson(v)]));
  });

  // Basalt addition: the save's validation without the save (README "What the API offers"). The
  // dashboard asks it as the superuser types: its 204s are not stored in the logs (noise).
  server.post('/api/collections/meta/validate', { ...superusersOnly, ...skipSuccessLog }, async (request, reply) => {
    const { data } = await readBody(request);
    await service.validate(data);
    return reply.code(204).send();
  });

  server.put('/api/collections/import', superusersOnly, async (request, reply) => {
    const { data } = await readBody(request);
    await service.import(data);
    return reply.code(204).send();
  });

  server.get<{ Params: Params }>('/api/collections/:collection', superusersOnly, async (request) => collectionToJson(service.find(request.params.collection)));

  server.patch<{ Params: Params }>('/api/collections/:collection', superusersOnly, async (request) => {
    const { data } = await readBody(request);
    return collectionToJson(await service.update(request.params.collection, data));
  });

  server.delete<{ Params: Params }>('/api/collections/:collection', superusersOnly, async (request, reply) => {
    await service.delete(request.params.collection);
    return reply.code(204).send();
  });

  server.delete<{ Params: Params }>('/api/collections/:collection/truncate', superusersOnly, async (request, reply) => {
    await service.truncate(request.params.collection);
    return reply.code(204).send();
  });
}
