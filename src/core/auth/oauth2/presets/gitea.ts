/**
 * Gitea (gitea.com by default; a self-hosted instance overrides the three URLs). The user from
 * `/api/v1/user`. That `email` carries no verified flag and an instance may not require email
 * confirmation, so, as for GitHub, the email comes from `/api/v1/user/emails`: the primary
 * address, only if `verified` (PocketBase takes the profile `email` as is). A failing emails call
 * gives no email rather than an error.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const gitea: ProviderPreset = {
  name: 'gitea',
  displayName: 'Gitea',
  authURL: 'https://gitea.com/login/oauth/authorize',
  tokenURL: 'https://gitea.com/login/oauth/access_token',
  userInfoURL: 'https://gitea.com/api/v1/user',
  scopes: ['read:user', 'user:email'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const emails = await ctx.fetchJson(userInfoURL.replace(/\/+$/, '') + '/emails').catch(() => []);
    const primary = Array.isArray(emails) ? emails.map(obj).find((e) => e.primary === true && e.verified === true) : undefined;
    return {
      raw,
      user: {
        id: str(raw.id),
        name: str(raw.full_name),
        username: str(raw.login),
        email: primary ? str(primary.email) : '',
        avatarURL: str(raw.avatar_url),
      },
    };
  },
};
