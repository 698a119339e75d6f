/**
 * Spotify. The user from `/v1/me`. Spotify documents the `email` there as unverified, so, like
 * PocketBase, the `user-read-email` scope is not asked for and no email is filled. The avatar
 * is the first of `images`. The token endpoint is documented with HTTP Basic client auth.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const spotify: ProviderPreset = {
  name: 'spotify',
  displayName: 'Spotify',
  authURL: 'https://accounts.spotify.com/authorize',
  tokenURL: 'https://accounts.spotify.com/api/token',
  userInfoURL: 'https://api.spotify.com/v1/me',
  scopes: ['user-read-private'],
  pkce: true,
  tokenAuthMethod: 'client_secret_basic',
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const images = Array.isArray(raw.images) ? raw.images.map(obj) : [];
    return {
      raw,
      user: {
        id: str(raw.id),
        name: str(raw.display_name),
        username: '',
        email: '',
        avatarURL: images.length ? str(images[0].url) : '',
      },
    };
  },
};
