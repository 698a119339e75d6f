import type { FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import type { CollectionModel } from '../../core/model/collection-model.js';
import { forbidden, MESSAGES, notFound, unauthorized } from '../../core/errors.js';
import { callerOf } from '../context.js';

/** The admin API is for superusers: 401 without auth, 403 with another auth (API keys included). */
export function requireSuperuser(request: FastifyRequest): void {
  const caller = callerOf(request);
  if (caller.principal.kind === 'apiKey') throw forbidden('API keys cannot use this endpoint: it needs a superuser.');
  if (!caller.auth) throw unauthorized('The request requires valid superuser authorization token.');
  if (!caller.can.administers) throw forbidden('The authorized record is not allowed to perform this action.');
}

/** Whether the request is a superuser's own (an API key never is): requireSuperuser without the errors. */
export function isSuperuser(request: FastifyRequest): boolean {
  const caller = callerOf(request);
  return caller.principal.kind !== 'apiKey' && caller.auth !== null && caller.can.administers;
}

/** preHandler of the sign-in, mailbox and authenticator routes: API keys are for the records API. */
export function refuseApiKeys(request: FastifyRequest, _reply: unknown, done: (err?: Error) => void): void {
  done(request.basaltApiKey ? forbidden('API keys cannot use the auth endpoints.') : undefined);
}

/** Route option: superusers only, checked per route (not as a server-wide hook every request runs). */
export const superusersOnly = {
  preHandler: (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
    try {
      requireSuperuser(request);
      done();
    } catch (err) {
      done(err as Error);
    }
  },
};

export function collectionFrom(app: App, idOrName: string): CollectionModel {
  const collection = app.registry.find(idOrName);
  if (!collection) throw notFound(MESSAGES.missingCollection);
  return collection;
}

export function authCollectionFrom(app: App, idOrName: string): CollectionModel {
  const collection = app.registry.find(idOrName);
  if (!collection || !collection.isAuth) throw notFound(MESSAGES.missingAuthCollection);
  return collection;
}
