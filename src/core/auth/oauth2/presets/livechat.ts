/**
 * LiveChat (accounts API). The scopes are chosen on the app in LiveChat's developer console, so
 * the preset asks for none. The user from `/v2/accounts/me`; the email counts only when
 * `email_verified` is true.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const livechat: ProviderPreset = {
  name: 'livechat',
  displayName: 'LiveChat',
  authURL: 'https://accounts.livechat.com/',
  tokenURL: 'https://accounts.livechat.com/token',
  userInfoURL: 'https://accounts.livechat.com/v2/accounts/me',
  scopes: [],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    return {
      raw,
      user: {
        id: str(raw.account_id),
        name: str(raw.name),
        username: '',
        email: raw.email_verified === true ? str(raw.email) : '',
        avatarURL: str(raw.avatar_url),
      },
    };
  },
};
