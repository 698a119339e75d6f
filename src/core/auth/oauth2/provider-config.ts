/**
 * OAuth2 provider configs as an auth collection stores them (`oauth2.providers`, PocketBase's
 * shape: `{name, clientId, clientSecret, authURL, tokenURL, userInfoURL, displayName, pkce,
 * extra}`): checked when the collection is saved, and resolved against the provider's preset
 * when a client signs in.
 *
 * `clientSecret` is write-only: the API never returns it, and a save without it keeps the one
 * stored for the same provider name. Basalt's additions under `extra`: `discoveryURL` (OpenID
 * Connect discovery) and `scopes` (replacing the preset's).
 */
import { fieldError, type ErrorData, type FieldError } from '../../errors.js';
import { isLoopbackHost } from '../../net/loopback.js';
import type { OAuth2ProviderSpec } from '../../ports.js';
import type { ProviderPreset } from './provider-preset.js';
import { presetOf } from './presets/index.js';

export interface OAuth2ProviderConfig {
  name: string;
  clientId: string;
  clientSecret: string;
  authURL: string;
  tokenURL: string;
  userInfoURL: string;
  displayName: string;
  pkce: boolean | null;
  extra: Record<string, unknown>;
}

export interface ResolvedProvider {
  preset: ProviderPreset;
  config: OAuth2ProviderConfig;
  spec: OAuth2ProviderSpec;
  displayName: string;
  pkce: boolean;
  scopes: string[];
}

const URL_KEYS = ['authURL', 'tokenURL', 'userInfoURL'] as const;

/** '' or an https URL (http is accepted for loopback, for development). */
function urlError(value: unknown): FieldError | null {
  if (value === '' || value === undefined || value === null) return null;
  if (typeof value !== 'string') return fieldError('validation_invalid_url', 'Must be a URL.');
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return null;
    return fieldError('validation_invalid_url', 'Must be an https URL (http only for localhost).');
  } catch {
    return fieldError('validation_invalid_url', 'Must be a URL.');
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const stringList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : typeof v === 'string' && v !== '' ? [v] : []);

/**
 * Normalises `input` (the submitted providers) against `previous` (the stored ones, for their
 * secrets). Field errors go to `errors.oauth2.providers.N.key`; `required` says whether the
 * providers must be complete (OAuth2 enabled).
 */
export function normalizeProviders(input: unknown, previous: unknown, required: boolean, errors: ErrorData): OAuth2ProviderConfig[] {
  if (!Array.isArray(input)) {
    errors.oauth2 = { providers: fieldError('validation_invalid_value', 'Must be a list.') };
    return [];
  }
  const before = new Map((Array.isArray(previous) ? previous : []).map((p) => [text((p as Record<string, unknown>)?.name), p as Record<string, unknown>]));
  const out: OAuth2ProviderConfig[] = [];
  const providerErrors: ErrorData = {};
  const seen = new Set<string>();
  input.forEach((raw, i) => {
    const e: Record<string, FieldError> = {};
    const p = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const name = text(p.name);
    const preset = presetOf(name);
    if (!preset) e.name = fieldError('validation_invalid_provider', `Unknown OAuth2 provider "${name}".`, { name });
    else if (seen.has(name)) e.name = fieldError('validation_duplicated_provider', `The provider ${name} is already registered.`, { name });
    seen.add(name);
    const secret = text(p.clientSecret) || text(before.get(name)?.clientSecret);
    const extra = p.extra && typeof p.extra === 'object' && !Array.isArray(p.extra) ? (p.extra as Record<string, unknown>) : {};
    if (p.extra !== undefined && p.extra !== null && extra !== p.extra) e.extra = fieldError('validation_invalid_value', 'Must be an object.');
    const config: OAuth2ProviderConfig = {
      name,
      clientId: text(p.clientId),
      clientSecret: secret,
      authURL: text(p.authURL),
      tokenURL: text(p.tokenURL),
      userInfoURL: text(p.userInfoURL),
      displayName: text(p.displayName),
      pkce: typeof p.pkce === 'boolean' ? p.pkce : null,
      extra,
    };
    for (const key of URL_KEYS) {
      const err = urlError(p[key]);
      if (err) e[key] = err;
    }
    const discoveryError = urlError(extra.discoveryURL) ?? urlError(extra.jwksURL);
    if (discoveryError) e.extra = discoveryError;
    if (extra.scopes !== undefined && stringList(extra.scopes).length === 0) e.extra = fieldError('validation_invalid_value', 'extra.scopes must be a list of scopes.');
    if (required && preset) {
      if (config.clientId === '') e.clientId = fieldError('validation_required', 'Missing required value.');
      if (config.clientSecret === '') e.clientSecret = fieldError('validation_required', 'Missing required value.');
      if (preset.oidc && !preset.oidc.issuer && !text(extra.discoveryURL)) {
        // A generic OpenID Connect provider: its id_token can only be checked against a known issuer and keys.
        const manual = config.authURL && config.tokenURL && stringList(extra.issuers).length > 0 && text(extra.jwksURL);
        if (!manual) e.extra = fieldError('validation_oidc_issuer_required', 'Set extra.discoveryURL (the issuer URL), or authURL, tokenURL, extra.issuers and extra.jwksURL.');
      }
    }
    if (Object.keys(e).length > 0) providerErrors[String(i)] = e;
    out.push(config);
  });
  if (Object.keys(providerErrors).length > 0) errors.oauth2 = { providers: providerErrors };
  return out;
}

/** The preset completed by the collection's config, ready for the protocol client. */
export function resolveProvider(config: OAuth2ProviderConfig): ResolvedProvider | null {
  const preset = presetOf(config.name);
  if (!preset) return null;
  const extra = config.extra ?? {};
  const scopes = stringList(extra.scopes).length > 0 ? stringList(extra.scopes) : [...preset.scopes];
  const discoveryURL = text(extra.discoveryURL);
  const oidc = preset.oidc ? { issuer: stringList(extra.issuers)[0] ?? preset.oidc.issuer ?? '', jwksURL: text(extra.jwksURL) || preset.oidc.jwksURL || '' } : null;
  if (oidc && !scopes.includes('openid')) scopes.unshift('openid');
  return {
    preset,
    config,
    displayName: config.displayName || preset.displayName || config.name,
    pkce: config.pkce ?? preset.pkce,
    scopes,
    spec: {
      name: config.name,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      authURL: config.authURL || preset.authURL,
      tokenURL: config.tokenURL || preset.tokenURL,
      userInfoURL: config.userInfoURL || preset.userInfoURL,
      oidc,
      discoveryURL: oidc ? discoveryURL : '',
      tokenAuthMethod: preset.tokenAuthMethod ?? 'client_secret_post',
    },
  };
}
