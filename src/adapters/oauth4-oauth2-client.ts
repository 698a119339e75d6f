/**
 * The OAuth2Client port with oauth4webapi (a maintained, spec-conformant OAuth 2 / OpenID
 * Connect client): discovery, the authorization-code grant with PKCE, and for OpenID Connect the
 * id_token checks (signature against the provider's keys, issuer, audience, expiry, nonce).
 * Every request goes through the guarded fetch: the hosts a superuser configured are trusted,
 * anything else must be a public address.
 */
import * as oauth from 'oauth4webapi';
import type { JsonRequestOptions } from '../core/auth/oauth2/provider-preset.js';
import type { OAuth2Client, OAuth2Endpoints, OAuth2ProviderSpec, OAuth2Tokens } from '../core/ports.js';
import type { Tracing } from '../core/tracing/tracing.js';
import { createGuardedFetch, hostAndPort, isLoopbackHost, type FetchLike } from './guarded-fetch.js';

/** Discovery documents are cached this long: providers rotate keys, not endpoints. */
const DISCOVERY_TTL_MS = 10 * 60_000;
/** Redirects followed when downloading a file (avatar CDNs redirect once or twice). */
const MAX_FILE_REDIRECTS = 3;

interface Prepared {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
  fetch: FetchLike;
  insecure: boolean;
}

/** The URLs a provider's config names (the empty ones left out). */
function configuredURLs(spec: OAuth2ProviderSpec): URL[] {
  const urls: URL[] = [];
  for (const text of [spec.authURL, spec.tokenURL, spec.userInfoURL, spec.discoveryURL, spec.oidc?.jwksURL ?? '']) {
    if (!text) continue;
    try {
      urls.push(new URL(text));
    } catch {
      // Provider settings are validated when saved; a bad one here trusts nothing.
    }
  }
  return urls;
}

/** The issuer identifier of a discovery URL (which may be the issuer or its well-known document). */
function issuerOf(discoveryURL: string): URL {
  return new URL(discoveryURL.replace(/\/\.well-known\/openid-configuration\/?$/, ''));
}

export class Oauth4OAuth2Client implements OAuth2Client {
  private readonly discovered = new Map<string, { as: oauth.AuthorizationServer; at: number }>();
  /** One guarded fetch (and its connection pool) per set of trusted hosts, reused across sign-ins. */
  private readonly fetches = new Map<string, FetchLike>();

  /** `tracing`: a CLIENT span per call to the provider, with `traceparent` sent (README "Tracing"). */
  constructor(private readonly tracing: Tracing | null = null) {}

  private fetchFor(trusted: Set<string>, maxBytes?: number): FetchLike {
    const key = `${maxBytes ?? ''}|${[...trusted].sort().join(' ')}`;
    let fetch = this.fetches.get(key);
    if (!fetch) {
      // Provider configs are few; a bound keeps a stream of config edits from piling pools up.
      if (this.fetches.size >= 64) this.fetches.clear();
      fetch = createGuardedFetch({ trustedHosts: trusted, maxBytes, tracing: this.tracing });
      this.fetches.set(key, fetch);
    }
    return fetch;
  }

  /**
   * The hosts and ports this provider's config names: trusted even on a private network. Only
   * those ports: an avatar or userinfo URL on another port of the same host is judged like any
   * other URL (the provider's answers are not the superuser's configuration).
   */
  private trusted(spec: OAuth2ProviderSpec): Set<string> {
    return new Set(configuredURLs(spec).map(hostAndPort));
  }

  private async server(spec: OAuth2ProviderSpec, fetch: FetchLike, insecure: boolean): Promise<oauth.AuthorizationServer> {
    const fromConfig: Partial<oauth.AuthorizationServer> = {
      authorization_endpoint: spec.authURL || undefined,
      token_endpoint: spec.tokenURL || undefined,
      userinfo_endpoint: spec.userInfoURL || undefined,
      jwks_uri: spec.oidc?.jwksURL || undefined,
    };
    if (!spec.discoveryURL) {
      // Without an id_token nothing checks the issuer; the token URL's origin names the server.
      const issuer = spec.oidc?.issuer || new URL(spec.tokenURL).origin;
      return { issuer, ...fromConfig } as oauth.AuthorizationServer;
    }
    const key = spec.discoveryURL;
    const cached = this.discovered.get(key);
    let as = cached && Date.now() - cached.at < DISCOVERY_TTL_MS ? cached.as : null;
    if (!as) {
      const issuer = issuerOf(spec.discoveryURL);
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.customFetch]: fetch, [oauth.allowInsecureRequests]: insecure });
      as = await oauth.processDiscoveryResponse(issuer, response);
      this.discovered.set(key, { as, at: Date.now() });
    }
    // What the superuser set wins over what the document says.
    const merged: Record<string, unknown> = { ...as };
    for (const [k, v] of Object.entries(fromConfig)) if (v) merged[k] = v;
    return merged as unknown as oauth.AuthorizationServer;
  }

  private async prepare(spec: OAuth2ProviderSpec): Promise<Prepared> {
    const fetch = this.fetchFor(this.trusted(spec));
    // Plain http only ever to loopback (development, tests); the guarded fetch enforces it too.
    const insecure = configuredURLs(spec).every((u) => isLoopbackHost(u.hostname));
    const as = await this.server(spec, fetch, insecure);
    const client: oauth.Client = { client_id: spec.clientId };
    const auth = spec.tokenAuthMethod === 'client_secret_basic' ? oauth.ClientSecretBasic(spec.clientSecret) : oauth.ClientSecretPost(spec.clientSecret);
    return { as, client, auth, fetch, insecure };
  }

  async endpoints(spec: OAuth2ProviderSpec): Promise<OAuth2Endpoints> {
    const { as } = await this.prepare(spec);
    return { authURL: as.authorization_endpoint ?? '', userInfoURL: as.userinfo_endpoint ?? '' };
  }

  async exchangeCode(spec: OAuth2ProviderSpec, grant: { code: string; codeVerifier: string; redirectURL: string; nonce: string }): Promise<OAuth2Tokens> {
    const { as, client, auth, fetch, insecure } = await this.prepare(spec);
    const isOidc = Boolean(spec.oidc || spec.discoveryURL);
    if (!as.token_endpoint) throw new Error(`the provider ${spec.name} has no token endpoint`);
    if (isOidc && !as.jwks_uri) throw new Error(`the OpenID Connect provider ${spec.name} has no jwksURL to verify its id_token with`);
    // The code comes from the client, not from an authorization response this server received:
    // state (and RFC 9207's iss) were the client's and the redirect handler's to check.
    const params = oauth.validateAuthResponse({ ...as, authorization_response_iss_parameter_supported: false }, client, new URLSearchParams({ code: grant.code }), oauth.skipStateCheck);
    const options = { [oauth.customFetch]: fetch, [oauth.allowInsecureRequests]: insecure };
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, grant.redirectURL, grant.codeVerifier || oauth.nopkce, options);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, isOidc ? { expectedNonce: grant.nonce || undefined, requireIdToken: true } : {});
    let idTokenClaims: Record<string, unknown> | null = null;
    if (isOidc) {
      // The id_token's signature, against the provider's published keys.
      await oauth.validateApplicationLevelSignature(as, response, options);
      idTokenClaims = { ...(oauth.getValidatedIdTokenClaims(result) ?? {}) };
    }
    return {
      accessToken: result.access_token,
      refreshToken: result.refresh_token ?? '',
      expiresAt: typeof result.expires_in === 'number' ? new Date(Date.now() + result.expires_in * 1000) : null,
      idTokenClaims,
    };
  }

  async fetchJson(spec: OAuth2ProviderSpec, url: string, accessToken: string, options: JsonRequestOptions = {}): Promise<unknown> {
    const fetch = this.fetchFor(this.trusted(spec));
    const target = new URL(url);
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'Basalt', ...options.headers };
    if (options.tokenIn === 'query') target.searchParams.set(options.tokenParam ?? 'access_token', accessToken);
    else headers.authorization ??= `Bearer ${accessToken}`;
    let body: string | undefined;
    if (method === 'POST' && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(target, { method, headers, body });
    if (!response.ok) throw new Error(`${method} ${target.origin}${target.pathname} answered ${response.status}`);
    return response.json();
  }

  async fetchFile(spec: OAuth2ProviderSpec, url: string, maxBytes: number): Promise<Buffer> {
    // Avatars are often on another host (a CDN): the guard still refuses private addresses
    // unless the provider's own configuration names them.
    const fetch = this.fetchFor(this.trusted(spec), maxBytes);
    let target = new URL(url);
    // The guarded fetch does not follow redirects (each hop must pass the guard): follow a few here.
    for (let hop = 0; hop <= MAX_FILE_REDIRECTS; hop++) {
      const response = await fetch(target, { headers: { 'user-agent': 'Basalt' } });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        target = new URL(location, target);
        continue;
      }
      if (!response.ok) throw new Error(`GET ${target.origin}${target.pathname} answered ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    }
    throw new Error(`more than ${MAX_FILE_REDIRECTS} redirects`);
  }
}
