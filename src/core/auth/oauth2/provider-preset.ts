/**
 * What Basalt knows about an OAuth2 / OpenID Connect provider before a superuser configures it:
 * its endpoints, scopes, PKCE support, and how to read a user out of its API. One preset per
 * provider name of PocketBase's list (`presets/<name>.ts`); the collection's provider config
 * (client id/secret, optional URL overrides, `extra`) completes it.
 */

/** A provider's user, normalised (PocketBase's AuthUser without the token fields). */
export interface OAuth2UserInfo {
  /** The provider's stable id for the account (required). */
  id: string;
  name: string;
  username: string;
  /**
   * Only an address the provider says is verified: an unverified one would let anyone who
   * registers it at the provider sign in to the Basalt account that has it.
   */
  email: string;
  avatarURL: string;
}

/** What a preset may use to read the user: the token response and authenticated GETs. */
export interface UserInfoContext {
  accessToken: string;
  /** Claims of the verified id_token (OpenID Connect), or null. */
  idTokenClaims: Record<string, unknown> | null;
  /** The provider config's `extra` (e.g. a tenant), as the superuser set it. */
  extra: Record<string, unknown>;
  /** The app's client id (some APIs want it beside the token). */
  clientId: string;
  /**
   * A request with the access token (Bearer by default) answering JSON; throws on a non-2xx.
   * GET by default; `method: 'POST'` sends `body` as JSON (GraphQL APIs).
   */
  fetchJson(url: string, options?: JsonRequestOptions): Promise<unknown>;
}

export interface JsonRequestOptions {
  method?: 'GET' | 'POST';
  /** JSON body of a POST. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Where the access token goes: the Authorization header (default) or a query parameter. */
  tokenIn?: 'header' | 'query';
  /** The query parameter's name with `tokenIn: 'query'`. @default 'access_token' */
  tokenParam?: string;
}

export interface ProviderPreset {
  /** The provider config `name` (PocketBase's: `google`, `github`, `oidc`, …). */
  name: string;
  displayName: string;
  /** Endpoints; a provider config can override each. Empty when only discovery knows them (generic OIDC). */
  authURL: string;
  tokenURL: string;
  userInfoURL: string;
  scopes: string[];
  /** Whether the provider supports PKCE (S256); the provider config `pkce` can override it. */
  pkce: boolean;
  /**
   * OpenID Connect: an id_token is requested (`openid` scope) and verified (signature through
   * `jwksURL`, issuer, audience = client id, nonce). `issuer` and `jwksURL` can come from the
   * config's `extra` (`issuers`, `jwksURL`, `discoveryURL`) for generic providers.
   */
  oidc?: { issuer?: string; jwksURL?: string };
  /** How the client authenticates at the token endpoint. @default 'client_secret_post' */
  tokenAuthMethod?: 'client_secret_post' | 'client_secret_basic';
  /**
   * How far the provider's email can be trusted. `'verified'` (default): it proves the address,
   * so it may find an existing account and mark the record verified. `'signup-only'`: it fills
   * the email of a new record but never links to an existing one (Microsoft's `mail` can be set
   * by any tenant's administrator: the "nOAuth" takeover). `extra.trustEmail: true` in a
   * provider config (a single, trusted tenant) lifts it.
   */
  emailTrust?: 'verified' | 'signup-only';
  /** Extra authorization-URL parameters (e.g. Apple's `response_mode=form_post`). */
  authParams?: Record<string, string>;
  /** Reads the user: from `ctx.fetchJson(userInfoURL)`, from the id_token, or from several calls. */
  fetchUser(userInfoURL: string, ctx: UserInfoContext): Promise<{ user: OAuth2UserInfo; raw: Record<string, unknown> }>;
}

/** Reading helpers for presets: provider JSON is untrusted input. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
}

export function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `true`, `"true"` and `1` (providers disagree on how to spell a verified flag). */
export function truthy(value: unknown): boolean {
  return value === true || value === 'true' || value === 1;
}
