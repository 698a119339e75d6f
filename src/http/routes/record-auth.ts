/** Auth endpoints of auth collections (spec §1.3): password auth, refresh and the methods list. */
import { deriveRequest } from '../../core/rules/request-info.js';
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { presentRecords } from '../../core/records/record-presenter.js';
import { parseExpand } from '../../core/records/expand.js';
import type { Caller } from '../../core/records/caller.js';
import type { RecordModel } from '../../core/records/record.js';
import { readBody } from '../body.js';
import { callerOf, queryOf } from '../context.js';
import { authCollectionFrom } from './guards.js';

type Params = { collection: string };

export function registerRecordAuthRoutes(server: FastifyInstance, app: App): void {
  const ctx = { db: app.db, schema: app.registry };
  const base = '/api/collections/:collection';

  /** `{token, record}` where the record is seen as its owner sees it (with its email). */
  async function authResponse(token: string, record: RecordModel, caller: Caller, query: Record<string, string>) {
    const asOwner: Caller = { ...caller, auth: record, info: deriveRequest(caller.info, { auth: record }) };
    const [json] = await presentRecords(ctx, [record], asOwner, parseExpand(query.expand));
    return { token, record: json };
  }

  server.get<{ Params: Params }>(`${base}/auth-methods`, async (request) => {
    return app.auth.authMethods(authCollectionFrom(app, request.params.collection));
  });

  server.post<{ Params: Params }>(`${base}/auth-with-password`, async (request) => {
    const collection = authCollectionFrom(app, request.params.collection);
    const { data } = await readBody(request);
    const caller = callerOf(request);
    const { token, record } = await app.auth.authWithPassword(collection, data, caller);
    return authResponse(token, record, caller, queryOf(request));
  });

  server.post<{ Params: Params }>(`${base}/auth-refresh`, async (request) => {
    const collection = authCollectionFrom(app, request.params.collection);
    const caller = callerOf(request);
    const { token, record } = await app.auth.authRefresh(collection, caller, request.basaltAuth);
    return authResponse(token, record, caller, queryOf(request));
  });
}
