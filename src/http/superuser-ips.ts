/**
 * Settings `superuserIPs` (PocketBase's superuser IP allowlist): when the list is not empty, a
 * request authenticated as a superuser from any other client IP is refused with PocketBase's
 * 403 (`You are not allowed to perform this request.`, empty data), whatever the route, and so
 * is a superuser sign-in; a superuser's file token from elsewhere counts as no token.
 * Guests, auth records and API keys are not concerned.
 */
import type { FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { forbidden, type ApiError } from '../core/errors.js';
import { ipInList } from '../core/net/ip-list.js';
import { clientIpOf } from './client-ip.js';

/** Whether a superuser may act from this request's client IP (always, with an empty list). */
export function superuserIpAllowed(app: App, request: FastifyRequest): boolean {
  const list = app.settings.get().superuserIPs;
  return list.length === 0 || ipInList(list, clientIpOf(app, request));
}

/** The 403 for a request whose caller administers (a superuser) from an IP outside the list; null otherwise. */
export function superuserIpRefusal(app: App, request: FastifyRequest, administers: boolean): ApiError | null {
  return administers && !superuserIpAllowed(app, request) ? forbidden() : null;
}
