/**
 * The one PocketBase SDK client of the dashboard: every screen talks to Basalt through it (and
 * only through it), so the dashboard doubles as a compatibility test of the SDK.
 */
import PocketBase, { LocalAuthStore, type SendOptions } from 'pocketbase';
import { apiBaseUrl } from './base-url';

/** Its own storage key: an app on the same origin using the SDK keeps its session apart. */
const AUTH_STORAGE_KEY = 'basalt.superuser';

export const SUPERUSERS = '_superusers';

export const pb = new PocketBase(apiBaseUrl(window.location), new LocalAuthStore(AUTH_STORAGE_KEY));

/**
 * A 401 to a request sent with the session's token means the session is over (expired, the
 * superuser deleted, the keys rotated): forget it, and the shell sends the visitor to sign in.
 * (A sign-in answered 401 `{mfaId}` carries no session token: it is left to its screen.)
 */
pb.afterSend = (response: Response, data: unknown, options?: SendOptions) => {
  const sent = options?.headers?.['Authorization'] ?? options?.headers?.['authorization'];
  if (response.status === 401 && pb.authStore.token !== '' && (sent === undefined || sent === pb.authStore.token)) pb.authStore.clear();
  return data;
};
