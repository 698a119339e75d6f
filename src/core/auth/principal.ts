/**
 * Who a request acts as: exactly one principal, and what that principal may do as named
 * capabilities. Code asks for a capability (`bypassesRules`, `seesHidden`, …), never "is this
 * a superuser?": an API key passes the rules within its scopes but is no superuser, and Basalt
 * acting on its own behalf (cascades, server-side lookups) is neither.
 */
import type { RecordModel } from '../model/record-model.js';
import type { ApiKeyPrincipal } from './api-key-scope.js';

export type Principal =
  | { readonly kind: 'guest' }
  /** A signed-in record of an auth collection other than `_superusers`. */
  | { readonly kind: 'record'; readonly auth: RecordModel }
  | { readonly kind: 'superuser'; readonly auth: RecordModel }
  /** A service account: past the rules within its scopes, never into system collections. */
  | { readonly kind: 'apiKey'; readonly key: ApiKeyPrincipal }
  /** Basalt itself: server-side lookups, cascades, system writes. */
  | { readonly kind: 'system' }
  /**
   * The holder of the first-run link `basalt serve` prints while no superuser exists
   * (core/auth/first-run.ts): may create the first superuser, and is a guest for everything else.
   */
  | { readonly kind: 'installer' };

export interface Capabilities {
  /** Collection rules do not apply (an API key's scopes still do). */
  readonly bypassesRules: boolean;
  /** Hidden fields and hidden e-mails are shown, and client queries may filter and sort by them. */
  readonly seesHidden: boolean;
  /** Client queries may use `@collection.*` and `@request.*` (PocketBase: superusers only). */
  readonly queriesAnyCollection: boolean;
  /** Client queries get the larger cost budget (still bounded). */
  readonly largeQueryBudget: boolean;
  /** The admin API: collections, settings, API keys, impersonation. */
  readonly administers: boolean;
  /** Not counted by rate limits; sees server details (client IP, proxy headers) in `/api/health`. */
  readonly trusted: boolean;
  /** Fires a workflow transition that asks for several approvals at once (Basalt itself: timers, hook code). */
  readonly skipsApprovals: boolean;
  /**
   * Creates a `_superusers` record although its create rule is superusers-only, while none
   * exists yet (checked inside the write's transaction): the first-run link, and only it.
   */
  readonly createsFirstSuperuser: boolean;
}

const NONE: Capabilities = Object.freeze({
  bypassesRules: false,
  seesHidden: false,
  queriesAnyCollection: false,
  largeQueryBudget: false,
  administers: false,
  trusted: false,
  skipsApprovals: false,
  createsFirstSuperuser: false,
});

const ALL: Capabilities = Object.freeze({
  bypassesRules: true,
  seesHidden: true,
  queriesAnyCollection: true,
  largeQueryBudget: true,
  administers: true,
  trusted: true,
  skipsApprovals: false,
  createsFirstSuperuser: false,
});

const BY_KIND: Record<Principal['kind'], Capabilities> = {
  guest: NONE,
  record: NONE,
  superuser: ALL,
  // Within its scopes a key passes the rules, but sees and queries what a signed-in user would.
  apiKey: Object.freeze({ ...NONE, bypassesRules: true }),
  // Basalt's own lookups are never client queries; `administers`/`trusted` have no meaning for it.
  system: Object.freeze({ ...ALL, administers: false, trusted: false, skipsApprovals: true }),
  installer: Object.freeze({ ...NONE, createsFirstSuperuser: true }),
};

export function capabilitiesOf(principal: Principal): Capabilities {
  return BY_KIND[principal.kind];
}

export const GUEST: Principal = Object.freeze({ kind: 'guest' });
export const SYSTEM: Principal = Object.freeze({ kind: 'system' });
export const INSTALLER: Principal = Object.freeze({ kind: 'installer' });

/** The auth record a principal is signed in as, if any (what `@request.auth` reads). */
export function authOf(principal: Principal): RecordModel | null {
  return principal.kind === 'record' || principal.kind === 'superuser' ? principal.auth : null;
}
