/** The records CRUD API, spec §1.2. Writes take an `Idempotency-Key` (../idempotency.ts). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { presentRecords } from '../../core/records/record-presenter.js';
import { checkClientQuery } from '../../core/records/client-query.js';
import { assertMayWrite, type WriteInput } from '../../core/records/record-writer.js';
import type { CollectionModel } from '../../core/model/collection-model.js';
import { recordBodyLimit, recordUploadCaps } from '../../core/files/body-limit.js';
import { readBody } from '../body.js';
import { callerOf, queryOf } from '../context.js';
import { collectionFrom } from './guards.js';
import { originOf, sendHookResponse } from '../request-origin.js';
import { commitMarker } from '../idempotency.js';

type Params = { collection: string; id?: string };

/** The body and its file parts (uploads to file fields: `field`, `field+`, `+field`). */
async function writeInput(app: App, request: FastifyRequest, collection: CollectionModel, action: 'create' | 'update'): Promise<WriteInput> {
  // Refusals that need no body come before reading one (which may be large).
  assertMayWrite(collection, action, callerOf(request));
  const body = await readBody(request, { limit: recordBodyLimit(collection, app.config.bodyLimit), ...recordUploadCaps(collection) });
  return { data: body.data, files: body.files };
}

export function registerRecordRoutes(server: FastifyInstance, app: App): void {
  const { reader, writer } = app.records;
  const ctx = app.query;
  const base = '/api/collections/:collection/records';

  server.get<{ Params: Params }>(base, { config: { rateLimit: ['list'], replicaReads: true } }, async (request) => {
    const collection = collectionFrom(app, request.params.collection);
    return reader.list(collection, queryOf(request), callerOf(request));
  });

  server.get<{ Params: Params }>(`${base}/:id`, { config: { rateLimit: ['view'], replicaReads: true } }, async (request) => {
    const collection = collectionFrom(app, request.params.collection);
    return reader.view(collection, request.params.id!, queryOf(request), callerOf(request));
  });

  server.post<{ Params: Params }>(base, { config: { rateLimit: ['create'], idempotent: true } }, async (request, reply) => {
    const collection = collectionFrom(app, request.params.collection);
    const caller = callerOf(request);
    const query = checkClientQuery(queryOf(request), caller);
    const origin = originOf(app, request);
    const input = await writeInput(app, request, collection, 'create');
    origin.joinTransaction = commitMarker(app, request);
    const record = await writer.create(collection, input, caller, undefined, origin);
    if (sendHookResponse(origin, reply)) return reply;
    const [json] = await presentRecords(ctx, [record], caller, query);
    return json;
  });

  server.patch<{ Params: Params }>(`${base}/:id`, { config: { rateLimit: ['update'], idempotent: true } }, async (request, reply) => {
    const collection = collectionFrom(app, request.params.collection);
    const caller = callerOf(request);
    const query = checkClientQuery(queryOf(request), caller);
    const origin = originOf(app, request);
    const input = await writeInput(app, request, collection, 'update');
    origin.joinTransaction = commitMarker(app, request);
    const record = await writer.update(collection, request.params.id!, input, caller, undefined, origin);
    if (sendHookResponse(origin, reply)) return reply;
    const [json] = await presentRecords(ctx, [record], caller, query);
    return json;
  });

  server.delete<{ Params: Params }>(`${base}/:id`, { config: { rateLimit: ['delete'], idempotent: true } }, async (request, reply) => {
    const collection = collectionFrom(app, request.params.collection);
    const origin = originOf(app, request);
    origin.joinTransaction = commitMarker(app, request);
    await writer.delete(collection, request.params.id!, callerOf(request), undefined, origin);
    if (sendHookResponse(origin, reply)) return reply;
    return reply.code(204).send();
  });
}
