/**
 * What hook files import from 'basalt' at run time (see runtime/basalt-facade.mjs, which lists
 * these names): `defineHooks`, the errors to refuse with, and the route middlewares. The
 * package's entry point (index.ts) adds framework mode and the types.
 */
import { ApiError, type ErrorData } from './core/errors.js';

export { defineHooks } from './core/hooks/hooks-api.js';
export { requireAuth, requireSuperuserAuth, requireSuperuserOrOwnerAuth, requireGuestOnly, bodyLimit } from './core/hooks/middlewares.js';
export { createBasalt } from './cli/create-basalt.js';
export { FailJobNow, RetryJobLater } from './core/jobs/job-errors.js';
export { ApiError };

/** PocketBase's JS error classes: `throw new BadRequestError('Out of stock.', { quantity: … })`. */
export class BadRequestError extends ApiError {
  constructor(message?: string, data?: ErrorData) {
    super(400, message, data);
  }
}
export class UnauthorizedError extends ApiError {
  constructor(message?: string, data?: ErrorData) {
    super(401, message, data);
  }
}
export class ForbiddenError extends ApiError {
  constructor(message?: string, data?: ErrorData) {
    super(403, message, data);
  }
}
export class NotFoundError extends ApiError {
  constructor(message?: string, data?: ErrorData) {
    super(404, message, data);
  }
}
export class TooManyRequestsError extends ApiError {
  constructor(message?: string, data?: ErrorData) {
    super(429, message, data);
  }
}
export class InternalServerError extends ApiError {
  constructor(message?: string, data?: ErrorData) {
    super(500, message, data);
  }
}
