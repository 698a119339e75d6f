/** The errors of idempotent requests (PocketBase's `{status, message, data}` shape, field errors `{code, message}`). */
import { ApiError, fieldError } from '../errors.js';

/** 422: the key was used before with another request (method, path, query or body). */
export const keyReused = (): ApiError =>
  new ApiError(422, 'This Idempotency-Key was already used with a different request.', {
    idempotencyKey: fieldError('validation_idempotency_key_reused', 'Use a new key for a different request; retry only with the same method, path, query and body.'),
  });

/** 409: the first request with the key is still running (past the wait). */
export const keyInProgress = (): ApiError =>
  new ApiError(409, 'A request with this Idempotency-Key is still in progress.', {
    idempotencyKey: fieldError('idempotency_key_in_progress', 'Retry later with the same key to get its answer.'),
  });

/** 409: the first request carried out its write, but its answer was not stored (too large, or the node stopped). */
export const answerNotStored = (): ApiError =>
  new ApiError(409, 'The request with this Idempotency-Key was carried out, but its answer was not stored.', {
    idempotencyKey: fieldError('idempotency_answer_not_stored', 'Read the resource to see the result; do not send the request again with a new key.'),
  });
