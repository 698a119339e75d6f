/**
 * Twitch. The user from Helix `/helix/users` (a `data` list with the token's user), which needs a
 * `Client-Id` header beside the token. Twitch documents `email` as the user's verified address (present only with the
 * `user:read:email` scope), so it is taken as is, like PocketBase.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const twitch: ProviderPreset = {
  name: 'twitch',
  displayName: 'Twitch',
  authURL: 'https://id.twitch.tv/oauth2/authorize',
  tokenURL: 'https://id.twitch.tv/oauth2/token',
  userInfoURL: 'https://api.twitch.tv/helix/users',
  scopes: ['user:read:email'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL, { headers: { 'Client-Id': ctx.clientId } }));
    const data = Array.isArray(raw.data) ? obj(raw.data[0]) : {};
    if (!str(data.id)) throw new Error('Twitch answered without a user');
    return {
      raw,
      user: {
        id: str(data.id),
        name: str(data.display_name),
        username: str(data.login),
        email: str(data.email),
        avatarURL: str(data.profile_image_url),
      },
    };
  },
};
