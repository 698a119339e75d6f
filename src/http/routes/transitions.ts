/**
 * Workflow transitions of a record (docs/workflows.md): `POST …/records/{id}/transitions/{name}`
 * takes one and answers the record as an update does (view rule, `expand`, `fields`), and an
 * `Idempotency-Key` (../idempotency.ts);
 * `GET …/records/{id}/transitions` lists the record's history and what the caller may take now.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { checkClientQuery } from '../../core/records/client-query.js';
import { presentRecords } from '../../core/records/record-presenter.js';
import { readBody } from '../body.js';
import { callerOf, queryOf } from '../context.js';
import { collectionFrom } from './guards.js';
import { withCommitMarker } from '../idempotency.js';

type Params = { collection: string; id: string; name?: string };

/** A comment and a few fields: far below the record routes' limit. */
const TRANSITION_BODY_LIMIT = 256 * 1024;

export function registerTransitionRoutes(server: FastifyInstance, app: App): void {
  const base = '/api/collections/:collection/records/:id/transitions';

  server.get<{ Params: Params }>(base, { config: { rateLimit: ['view'] } }, async (request) => {
    const collection = collectionFrom(app, request.params.collection);
    return app.workflows.overview(collection, request.params.id, callerOf(request));
  });

  server.post<{ Params: Params }>(`${base}/:name`, { bodyLimit: TRANSITION_BODY_LIMIT, config: { rateLimit: ['update'], idempotent: true } }, async (request) => {
    const collection = collectionFrom(app, request.params.collection);
    const caller = callerOf(request);
    const query = checkClientQuery(queryOf(request), caller);
    const body = await readBody(request, { limit: TRANSITION_BODY_LIMIT, maxFiles: 0 });
    const record = await withCommitMarker(app, request, (tx) => app.workflows.transition(collection, request.params.id, request.params.name!, body.data, caller, tx));
    const [json] = await presentRecords(app.query, [record], caller, query);
    return json;
  });
}
