/**
 * Yandex ID. The user from `login.yandex.ru/info`. There is no verified flag: like PocketBase,
 * `default_email` is taken as is (it is the address the account chose as its default, normally
 * its own Yandex mailbox). The avatar is built from `default_avatar_id` unless `is_avatar_empty`.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const yandex: ProviderPreset = {
  name: 'yandex',
  displayName: 'Yandex',
  authURL: 'https://oauth.yandex.com/authorize',
  tokenURL: 'https://oauth.yandex.com/token',
  userInfoURL: 'https://login.yandex.ru/info',
  scopes: ['login:email', 'login:avatar', 'login:info'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const avatarId = str(raw.default_avatar_id);
    return {
      raw,
      user: {
        id: str(raw.id),
        name: str(raw.real_name),
        username: str(raw.login),
        email: str(raw.default_email),
        avatarURL: avatarId && raw.is_avatar_empty !== true ? `https://avatars.yandex.net/get-yapic/${encodeURIComponent(avatarId)}/islands-200` : '',
      },
    };
  },
};
