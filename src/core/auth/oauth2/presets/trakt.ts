/**
 * Trakt. The user from `/users/settings` (under `user`; the id is `ids.uuid`, stable, unlike
 * the slug). Every Trakt API call needs `trakt-api-version: 2` and `trakt-api-key`, which is the
 * app's client id. Trakt gives no email.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const trakt: ProviderPreset = {
  name: 'trakt',
  displayName: 'Trakt',
  authURL: 'https://trakt.tv/oauth/authorize',
  tokenURL: 'https://api.trakt.tv/oauth/token',
  userInfoURL: 'https://api.trakt.tv/users/settings',
  scopes: [],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const headers = { 'content-type': 'application/json', 'trakt-api-key': ctx.clientId, 'trakt-api-version': '2' };
    const raw = obj(await ctx.fetchJson(userInfoURL, { headers }));
    const user = obj(raw.user);
    return {
      raw,
      user: {
        id: str(obj(user.ids).uuid),
        name: str(user.name),
        username: str(user.username),
        email: '',
        avatarURL: str(obj(obj(user.images).avatar).full),
      },
    };
  },
};
