/**
 * The one exit for errors: ApiErrors keep their status and data; framework errors (bad JSON,
 * body too large, unsupported media type…) become the matching 4xx; anything else is logged
 * and answered with a bare 500 — no stack, no driver message.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MfaRequiredError } from '../core/auth/mfa.js';
import { ApiError, MESSAGES, queryTimedOut, transactionConflict } from '../core/errors.js';
import type { DbFailure, Logger } from '../core/ports.js';
import './request-log.js';

function frameworkError(err: FastifyError): ApiError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ApiError(400, MESSAGES.invalidBody);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ApiError(413, MESSAGES.bodyTooLarge);
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode);
  return null;
}

/**
 * The database's failures that are not the request's fault and pass, wherever they were awaited
 * (list, view, expand, write, batch…): a query cancelled at its deadline, a transaction ended to
 * settle a conflict. Both 503.
 */
function transientError(err: unknown, classify: (err: unknown) => DbFailure | null): ApiError | null {
  const failure = classify(err);
  if (failure?.kind === 'timeout') return queryTimedOut(failure.ms);
  if (failure?.kind === 'conflict') return transactionConflict();
  return null;
}

/** `classify`: the database's own reading of a driver error (Database.classifyError). */
export function errorHandler(logger: Logger, classify: (err: unknown) => DbFailure | null = () => null) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // Not an error but the first step of a two-factor sign-in: PocketBase's bare 401 {mfaId}.
    if ((err as unknown) instanceof MfaRequiredError) return reply.code(401).type('application/json').send({ mfaId: (err as unknown as MfaRequiredError).mfaId });
    const transient = err instanceof ApiError ? null : transientError(err, classify);
    // Worth an operator's attention (a missing index, an abusive filter, writes in conflict), not an alarm.
    if (transient) logger.warn({ method: request.method, path: request.url.split('?')[0] }, transient.message);
    const apiError = err instanceof ApiError ? err : (transient ?? frameworkError(err));
    if (apiError) {
      const body = apiError.toJSON();
      request.basaltError = { message: body.message, data: body.data };
      return reply.code(apiError.status).type('application/json').send(apiError.toJSON());
    }
    logger.error({ err, method: request.method, path: request.url.split('?')[0] }, 'unhandled error');
    const body = new ApiError(500).toJSON();
    // The stored log keeps the bare 500, as the client sees it: a driver message may hold values.
    request.basaltError = { message: body.message, data: body.data };
    return reply.code(500).type('application/json').send(body);
  };
}
