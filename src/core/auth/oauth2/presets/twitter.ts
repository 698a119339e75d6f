/**
 * Twitter / X (OAuth 2.0 authorization code with PKCE; confidential clients must authenticate
 * with HTTP Basic at the token endpoint). The user from `/2/users/me`, nested under `data`.
 * `tweet.read` is not used but `/2/users/me` requires it. The OAuth 2.0 API gives no email.
 * The twitter.com hosts are the ones PocketBase uses; x.com serves the same endpoints.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const twitter: ProviderPreset = {
  name: 'twitter',
  displayName: 'Twitter',
  authURL: 'https://twitter.com/i/oauth2/authorize',
  tokenURL: 'https://api.twitter.com/2/oauth2/token',
  userInfoURL: 'https://api.twitter.com/2/users/me?user.fields=id,name,username,profile_image_url',
  scopes: ['users.read', 'tweet.read'],
  pkce: true,
  tokenAuthMethod: 'client_secret_basic',
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const data = obj(raw.data);
    return {
      raw,
      user: {
        id: str(data.id),
        name: str(data.name),
        username: str(data.username),
        email: '',
        avatarURL: str(data.profile_image_url),
      },
    };
  },
};
