/**
 * Generic OpenID Connect (`oidc`, `oidc2`, `oidc3`): endpoints from the config or from discovery
 * (`extra.discoveryURL`, Basalt's addition), the user from the userinfo endpoint when there is
 * one, else from the verified id_token. The email counts only when `email_verified` is true.
 */
import { obj, str, truthy, type ProviderPreset } from '../provider-preset.js';

export function oidcPreset(name: string): ProviderPreset {
  return {
    name,
    displayName: 'OIDC',
    authURL: '',
    tokenURL: '',
    userInfoURL: '',
    scopes: ['openid', 'email', 'profile'],
    pkce: true,
    oidc: {},
    async fetchUser(userInfoURL, ctx) {
      const raw = userInfoURL ? obj(await ctx.fetchJson(userInfoURL)) : { ...(ctx.idTokenClaims ?? {}) };
      // The userinfo subject must be the id_token's (OpenID Connect Core §5.3.2).
      if (userInfoURL && ctx.idTokenClaims && str(raw.sub) !== str(ctx.idTokenClaims.sub)) throw new Error('the userinfo subject differs from the id_token subject');
      return {
        raw,
        user: {
          id: str(raw.sub),
          name: str(raw.name),
          username: str(raw.preferred_username),
          email: truthy(raw.email_verified) ? str(raw.email) : '',
          avatarURL: str(raw.picture),
        },
      };
    },
  };
}
