/**
 * Route middlewares with PocketBase's names (`$apis.requireAuth()`…): each is a handler of the
 * route's chain that refuses with the standard error, or calls `e.next()`.
 */
import { badRequest, forbidden, unauthorized } from '../errors.js';
import { SUPERUSERS_COLLECTION_ID } from '../model/collection-types.js';
import type { RouteEvent } from './hook-events.js';
import type { RouteMiddleware } from './route-table.js';

const isSuperuser = (e: RouteEvent) => e.origin.auth?.collection.id === SUPERUSERS_COLLECTION_ID;

/** A signed-in record (of one of `collections`, when given, by name or id); 401 for guests, 403 for others. */
export function requireAuth(...collections: string[]): RouteMiddleware {
  return async (e: RouteEvent) => {
    const auth = e.origin.auth;
    if (!auth) throw unauthorized('The request requires valid record authorization token.');
    if (collections.length > 0 && !collections.includes(auth.collection.name) && !collections.includes(auth.collection.id)) {
      throw forbidden('The authorized record is not allowed to perform this action.');
    }
    await e.next();
  };
}

/** A superuser only. */
export function requireSuperuserAuth(): RouteMiddleware {
  return async (e: RouteEvent) => {
    if (!e.origin.auth) throw unauthorized('The request requires valid superuser authorization token.');
    if (!isSuperuser(e)) throw forbidden('The authorized record is not allowed to perform this action.');
    await e.next();
  };
}

/** A superuser, or the record whose id is the path parameter `ownerIdParam`. */
export function requireSuperuserOrOwnerAuth(ownerIdParam = 'id'): RouteMiddleware {
  return async (e: RouteEvent) => {
    const auth = e.origin.auth;
    if (!auth) throw unauthorized('The request requires superuser or record authorization token.');
    if (!isSuperuser(e) && String(auth.values.id) !== e.pathValue(ownerIdParam)) throw forbidden('The authorized record is not allowed to perform this action.');
    await e.next();
  };
}

/** Guests only (a sign-in page, say): 400 for a signed-in caller, as PocketBase answers. */
export function requireGuestOnly(): RouteMiddleware {
  return async (e: RouteEvent) => {
    if (e.origin.auth) throw badRequest('The request can be accessed only by guests.');
    await e.next();
  };
}

/** Bodies over `bytes` are refused with 413 before they are read. */
export function bodyLimit(bytes: number): RouteMiddleware {
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError('bodyLimit: the limit must be a non-negative integer number of bytes');
  const mw = async (e: RouteEvent) => {
    await e.next();
  };
  return Object.assign(mw, { bodyLimit: bytes });
}
