/**
 * Box. The user from `/2.0/users/me`, refused unless `status` is `active`. Box's `login` is the
 * account's email address; Box requires it verified before an OAuth authorization, so, like
 * PocketBase, it is taken as the email.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const box: ProviderPreset = {
  name: 'box',
  displayName: 'Box',
  authURL: 'https://account.box.com/api/oauth2/authorize',
  tokenURL: 'https://api.box.com/oauth2/token',
  userInfoURL: 'https://api.box.com/2.0/users/me',
  scopes: ['root_readonly'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    if (str(raw.status) !== 'active') throw new Error('the Box account is not active');
    return {
      raw,
      user: { id: str(raw.id), name: str(raw.name), username: '', email: str(raw.login), avatarURL: str(raw.avatar_url) },
    };
  },
};
