/**
 * GitLab (gitlab.com by default; a self-managed instance overrides the three URLs). The user from
 * `/api/v4/user`. Its `email` is the primary address, which GitLab only lets become primary once
 * confirmed; PocketBase takes it as is. Basalt also requires `confirmed_at` (set once the account
 * is confirmed), so an instance that lets unconfirmed accounts sign in cannot hand out an
 * address nobody proved.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const gitlab: ProviderPreset = {
  name: 'gitlab',
  displayName: 'GitLab',
  authURL: 'https://gitlab.com/oauth/authorize',
  tokenURL: 'https://gitlab.com/oauth/token',
  userInfoURL: 'https://gitlab.com/api/v4/user',
  scopes: ['read_user'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    return {
      raw,
      user: {
        id: str(raw.id),
        name: str(raw.name),
        username: str(raw.username),
        email: str(raw.confirmed_at) ? str(raw.email) : '',
        avatarURL: str(raw.avatar_url),
      },
    };
  },
};
