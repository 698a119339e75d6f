/**
 * Sign-in endpoints of auth collections (spec §1.3): methods, password, refresh, one-time
 * passwords, impersonation, and Basalt's authenticator-app second factor (`auth-with-totp`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import type { AuthResult } from '../../core/auth/auth-service.js';
import { authMethods } from '../../core/auth/auth-methods.js';
import { ApiError, badRequest, fieldError, MESSAGES } from '../../core/errors.js';
import { RecordAuthEvent } from '../../core/hooks/hook-events.js';
import { HookRecord } from '../../core/hooks/hook-record.js';
import { originOf, sendHookResponse } from '../request-origin.js';
import { superuserIpRefusal } from '../superuser-ips.js';
import { checkClientQuery } from '../../core/records/client-query.js';
import { callerFor } from '../../core/records/caller.js';
import { presentRecords } from '../../core/records/record-presenter.js';
import { deriveRequest } from '../../core/rules/request-info.js';
import { readBody } from '../body.js';
import { callerOf, clientOf, queryOf } from '../context.js';
import { authCollectionFrom, refuseApiKeys, requireSuperuser } from './guards.js';

type Params = { collection: string; id?: string };

/** `mfaId` of a second-factor request: body first, then query (as PocketBase reads it). */
function mfaIdOf(request: FastifyRequest, body: Record<string, unknown>): string {
  const v = body.mfaId ?? queryOf(request).mfaId;
  return typeof v === 'string' ? v : '';
}

export function registerRecordAuthRoutes(server: FastifyInstance, app: App): void {
  const ctx = app.query;
  const base = '/api/collections/:collection';
  // Sign-in endpoints are for people: an API key is refused before anything runs.
  const tags = (...rateLimit: string[]) => ({ config: { rateLimit }, preHandler: refuseApiKeys });

  /**
   * `{token, record, meta?}` where the record is seen as its owner sees it (with its email): the
   * caller becomes the record itself, superuser only if the record is one.
   */
  async function authResponse(result: AuthResult, request: FastifyRequest, reply: FastifyReply, method: string) {
    const record = result.record;
    const asOwner = callerFor(deriveRequest(callerOf(request).info, { auth: record }));
    // A superuser signing in from outside settings.superuserIPs gets PocketBase's 403, no token.
    const refused = superuserIpRefusal(app, request, asOwner.can.administers);
    if (refused) throw refused;
    const answer = async (token: string, meta: unknown) => {
      const [json] = await presentRecords(ctx, [record], asOwner, checkClientQuery(queryOf(request), asOwner));
      return meta ? { token, record: json, meta } : { token, record: json };
    };
    const hook = app.hooks.registry.onRecordAuthRequest;
    const tags = [record.collection.id, record.collection.name];
    if (!hook.handles(tags)) return answer(result.token, result.meta);
    // onRecordAuthRequest: every sign-in's answer (PocketBase's), which a hook may change or refuse.
    const origin = originOf(app, request);
    const event = new RecordAuthEvent(app.hookApp(null), origin, new HookRecord(record), result.token, result.meta ?? null, method);
    let body: unknown;
    await hook.trigger(event, async (e) => {
      body = await answer(e.token, e.meta);
    }, tags);
    if (sendHookResponse(origin, reply)) return reply;
    if (body === undefined) throw new ApiError(400, 'The sign-in was refused.');
    return body;
  }

  const signInOf = (request: FastifyRequest, body: Record<string, unknown>) => ({ caller: callerOf(request), client: clientOf(app, request), mfaId: mfaIdOf(request, body) });

  server.get<{ Params: Params }>(`${base}/auth-methods`, tags('listAuthMethods'), async (request) => {
    const collection = authCollectionFrom(app, request.params.collection);
    return authMethods(collection, await app.oauth2.authInfos(collection));
  });

  server.post<{ Params: Params }>(`${base}/auth-with-oauth2`, tags('authWithOAuth2', 'auth'), async (request, reply) => {
    const collection = authCollectionFrom(app, request.params.collection);
    const { data } = await readBody(request);
    return authResponse(await app.oauth2.authenticate(collection, data, signInOf(request, data)), request, reply, 'oauth2');
  });

  server.post<{ Params: Params }>(`${base}/auth-with-password`, tags('authWithPassword', 'auth'), async (request, reply) => {
    const collection = authCollectionFrom(app, request.params.collection);
    const { data } = await readBody(request);
    return authResponse(await app.auth.authWithPassword(collection, data, signInOf(request, data)), request, reply, 'password');
  });

  server.post<{ Params: Params }>(`${base}/auth-refresh`, tags('authRefresh'), async (request, reply) => {
    const collection = authCollectionFrom(app, request.params.collection);
    return authResponse(await app.auth.authRefresh(collection, callerOf(request), request.basaltAuth, clientOf(app, request)), request, reply, 'refresh');
  });

  server.post<{ Params: Params }>(`${base}/request-otp`, tags('requestOTP'), async (request) => {
    const collection = authCollectionFrom(app, request.params.collection);
    const { data } = await readBody(request);
    return app.otp.request(collection, data);
  });

  server.post<{ Params: Params }>(`${base}/auth-with-otp`, tags('authWithOTP', 'auth'), async (request, reply) => {
    const collection = authCollectionFrom(app, request.params.collection);
    const { data } = await readBody(request);
    return authResponse(await app.otp.authenticate(collection, data, signInOf(request, data)), request, reply, 'otp');
  });

  server.post<{ Params: Params }>(`${base}/auth-with-totp`, tags('authWithTOTP', 'auth'), async (request, reply) => {
    const collection = authCollectionFrom(app, request.params.collection);
    const { data } = await readBody(request);
    const signIn = signInOf(request, data);
    if (signIn.mfaId === '') {
      throw badRequest(MESSAGES.validationFailed, { mfaId: fieldError('validation_required', 'An authenticator code is a second factor: sign in with another method first and send its mfaId.') });
    }
    return authResponse(await app.auth.authWithTotp(collection, data, signIn), request, reply, 'totp');
  });

  server.post<{ Params: Params }>(`${base}/impersonate/:id`, async (request, reply) => {
    requireSuperuser(request);
    const collection = authCollectionFrom(app, request.params.collection);
    const { data } = await readBody(request);
    return authResponse(await app.auth.impersonate(collection, request.params.id!, data, callerOf(request)), request, reply, 'impersonate');
  });
}
