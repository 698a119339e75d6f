/**
 * The one PocketBase SDK client of the dashboard: every screen talks to Basalt through it (and
 * only through it), so the dashboard doubles as a compatibility test of the SDK.
 */
import PocketBase, { LocalAuthStore } from 'pocketbase';
import { apiBaseUrl } from './base-url';

/** Its own storage key: an app on the same origin using the SDK keeps its session apart. */
const AUTH_STORAGE_KEY = 'basalt.superuser';

export const SUPERUSERS = '_superusers';

export const pb = new PocketBase(apiBaseUrl(window.location), new LocalAuthStore(AUTH_STORAGE_KEY));
