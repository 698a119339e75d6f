/**
 * Google (OAuth 2.0 with the v3 userinfo endpoint, not OpenID Connect: no id_token is requested).
 * The email counts only when `email_verified` is true (Google may send it as `"true"`).
 */
import { obj, str, truthy, type ProviderPreset } from '../provider-preset.js';

export const google: ProviderPreset = {
  name: 'google',
  displayName: 'Google',
  authURL: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenURL: 'https://oauth2.googleapis.com/token',
  userInfoURL: 'https://www.googleapis.com/oauth2/v3/userinfo',
  scopes: ['https://www.googleapis.com/auth/userinfo.profile', 'https://www.googleapis.com/auth/userinfo.email'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    return {
      raw,
      user: {
        id: str(raw.sub),
        name: str(raw.name),
        username: '',
        email: truthy(raw.email_verified) ? str(raw.email) : '',
        avatarURL: str(raw.picture),
      },
    };
  },
};
