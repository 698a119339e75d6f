/**
 * Gitee. The user from `/api/v5/user`; the email from `/api/v5/emails`: the first address whose
 * `state` is `confirmed` and whose `scope` contains `primary`. PocketBase first takes the
 * profile's public `email` when it looks like an address, but nothing says that one is confirmed,
 * so Basalt uses only the confirmed primary. With "keep my email private" Gitee answers the
 * emails call with an object instead of a list: no email then, as when the call fails.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const gitee: ProviderPreset = {
  name: 'gitee',
  displayName: 'Gitee',
  authURL: 'https://gitee.com/oauth/authorize',
  tokenURL: 'https://gitee.com/oauth/token',
  userInfoURL: 'https://gitee.com/api/v5/user',
  scopes: ['user_info', 'emails'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const emailsURL = userInfoURL.replace(/\/user\/*$/, '/emails');
    const emails = emailsURL === userInfoURL ? [] : await ctx.fetchJson(emailsURL).catch(() => []);
    const primary = Array.isArray(emails)
      ? emails.map(obj).find((e) => str(e.state) === 'confirmed' && Array.isArray(e.scope) && e.scope.includes('primary') && str(e.email).includes('@'))
      : undefined;
    return {
      raw,
      user: {
        id: str(raw.id),
        name: str(raw.name),
        username: str(raw.login),
        email: primary ? str(primary.email) : '',
        avatarURL: str(raw.avatar_url),
      },
    };
  },
};
