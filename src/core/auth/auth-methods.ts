/** `GET /api/collections/{c}/auth-methods` (spec §1.3): which sign-in methods a collection offers. */
import type { CollectionModel } from '../model/collection-model.js';

/** One OAuth2 provider as the client needs it to start the flow. */
export interface OAuth2ProviderAuthInfo {
  name: string;
  displayName: string;
  state: string;
  authURL: string;
  /** Legacy spelling (SDK < 0.23). */
  authUrl: string;
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  logo: string;
}

export function authMethods(collection: CollectionModel, providers: OAuth2ProviderAuthInfo[]): Record<string, unknown> {
  const c = collection.data;
  const password = { enabled: Boolean(c.passwordAuth?.enabled), identityFields: c.passwordAuth?.identityFields ?? [] };
  const oauth2Enabled = Boolean(c.oauth2?.enabled) && providers.length > 0;
  return {
    password,
    oauth2: { enabled: oauth2Enabled, providers: oauth2Enabled ? providers : [] },
    mfa: { enabled: Boolean(c.mfa?.enabled), duration: c.mfa?.enabled ? c.mfa.duration : 0 },
    otp: { enabled: Boolean(c.otp?.enabled), duration: c.otp?.enabled ? c.otp.duration : 0 },
    // Basalt: every record of an auth collection may enrol an authenticator app as a second factor.
    totp: { enabled: true },
    // Legacy fields (SDK < 0.23 and older clients).
    authProviders: oauth2Enabled ? providers : [],
    usernamePassword: password.enabled && password.identityFields.includes('username'),
    emailPassword: password.enabled && password.identityFields.includes('email'),
  };
}
