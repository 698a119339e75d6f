/** The collections admin API (spec §1.4), superusers only. */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { collectionToJson } from '../../core/collections/collection-json.js';
import { listCollections } from '../../core/collections/collection-list.js';
import { readBody } from '../body.js';
import { callerOf, queryOf } from '../context.js';
import { requireSuperuser } from './guards.js';

type Params = { collection: string };

export function registerCollectionRoutes(server: FastifyInstance, app: App): void {
  const service = app.collections;

  server.addHook('preHandler', async (request) => {
    const url = request.routeOptions.url ?? '';
    if (url === '/api/collections' || url.startsWith('/api/collections/meta') || url === '/api/collections/import' || /^\/api\/collections\/:collection(\/truncate)?$/.test(url)) {
      requireSuperuser(request);
    }
  });

  server.get('/api/collections', async (request) => {
    const result = await listCollections({ db: app.db, schema: app.registry }, queryOf(request), callerOf(request), (id) => app.registry.find(id)?.data);
    return { ...result, items: result.items.map(collectionToJson) };
  });

  server.post('/api/collections', async (request) => {
    const { data } = await readBody(request);
    return collectionToJson(await service.create(data));
  });

  server.get('/api/collections/meta/scaffolds', async () => {
    const scaffolds = service.scaffolds();
    return Object.fromEntries(Object.entries(scaffolds).map(([k, v]) => [k, collectionToJson(v)]));
  });

  server.put('/api/collections/import', async (request, reply) => {
    const { data } = await readBody(request);
    await service.import(data);
    return reply.code(204).send();
  });

  server.get<{ Params: Params }>('/api/collections/:collection', async (request) => collectionToJson(service.find(request.params.collection)));

  server.patch<{ Params: Params }>('/api/collections/:collection', async (request) => {
    const { data } = await readBody(request);
    return collectionToJson(await service.update(request.params.collection, data));
  });

  server.delete<{ Params: Params }>('/api/collections/:collection', async (request, reply) => {
    await service.delete(request.params.collection);
    return reply.code(204).send();
  });

  server.delete<{ Params: Params }>('/api/collections/:collection/truncate', async (request, reply) => {
    await service.truncate(request.params.collection);
    return reply.code(204).send();
  });
}
