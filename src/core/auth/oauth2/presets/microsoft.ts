/**
 * Microsoft (Entra ID / Azure AD v2 endpoints, tenant `common`: work, school and personal
 * accounts). A single tenant is chosen by overriding authURL/tokenURL in the provider config
 * (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/…`). The user comes from Microsoft
 * Graph `/me`.
 *
 * Email: Graph has no "verified" flag, and `mail` is an attribute any tenant's administrator can
 * set to any address. It fills the email of a new record but never finds an existing account
 * (`emailTrust: 'signup-only'`, unlike PocketBase); a provider config pinned to one trusted
 * tenant can set `extra.trustEmail: true`. `userPrincipalName` is not used as an email.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const microsoft: ProviderPreset = {
  name: 'microsoft',
  displayName: 'Microsoft',
  authURL: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
  tokenURL: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
  userInfoURL: 'https://graph.microsoft.com/v1.0/me',
  scopes: ['User.Read'],
  pkce: true,
  emailTrust: 'signup-only',
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    return {
      raw,
      user: { id: str(raw.id), name: str(raw.displayName), username: '', email: str(raw.mail), avatarURL: '' },
    };
  },
};
