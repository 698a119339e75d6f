/**
 * Authenticator-app (TOTP) management for the signed-in record of an auth collection (Basalt's
 * addition): status, enrol, confirm, disable, new recovery codes; and a superuser reset.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { forbidden, unauthorized } from '../../core/errors.js';
import { systemCaller } from '../../core/records/caller.js';
import { findRecord } from '../../core/records/record-reader.js';
import { notFound } from '../../core/errors.js';
import type { RecordModel } from '../../core/model/record-model.js';
import { readBody } from '../body.js';
import { authCollectionFrom, requireSuperuser } from './guards.js';

type Params = { collection: string; id?: string };

export function registerTotpRoutes(server: FastifyInstance, app: App): void {
  const base = '/api/collections/:collection/totp';

  /** The signed-in record, which must belong to the collection of the URL. */
  function self(request: FastifyRequest<{ Params: Params }>): RecordModel {
    const collection = authCollectionFrom(app, request.params.collection);
    if (request.basaltApiKey) throw forbidden('API keys cannot use the auth endpoints.');
    const auth = request.basaltAuth?.record;
    if (!auth || auth.collection.id !== collection.id) throw unauthorized('The request requires valid record authorization token from the current collection.');
    return auth;
  }

  const codeOf = async (request: FastifyRequest) => {
    const { data } = await readBody(request);
    return typeof data.code === 'string' ? data.code : '';
  };

  server.get<{ Params: Params }>(base, async (request) => app.totp.status(self(request)));

  server.post<{ Params: Params }>(`${base}/enroll`, { config: { rateLimit: ['totp'] } }, async (request) => {
    const { data } = await readBody(request);
    return app.totp.enroll(self(request), typeof data.password === 'string' ? data.password : '');
  });

  server.post<{ Params: Params }>(`${base}/confirm`, { config: { rateLimit: ['totp'] } }, async (request) => app.totp.confirm(self(request), await codeOf(request)));

  server.post<{ Params: Params }>(`${base}/recovery-codes`, { config: { rateLimit: ['totp'] } }, async (request) => app.totp.regenerateRecoveryCodes(self(request), await codeOf(request)));

  server.post<{ Params: Params }>(`${base}/disable`, { config: { rateLimit: ['totp'] } }, async (request, reply) => {
    await app.totp.disable(self(request), await codeOf(request));
    return reply.code(204).send();
  });

  server.delete<{ Params: Params }>(`${base}/:id`, async (request, reply) => {
    requireSuperuser(request);
    const collection = authCollectionFrom(app, request.params.collection);
    const record = await findRecord(app.query, collection, request.params.id!, systemCaller(), collection.rules.view);
    if (!record || !(await app.totp.reset(collection, request.params.id!))) throw notFound();
    return reply.code(204).send();
  });
}
