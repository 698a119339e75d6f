/**
 * GitHub (OAuth apps). The user from `/user`; the email from `/user/emails` (the primary one,
 * if verified), since `/user` shows only a public email and never says whether it is verified.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const github: ProviderPreset = {
  name: 'github',
  displayName: 'GitHub',
  authURL: 'https://github.com/login/oauth/authorize',
  tokenURL: 'https://github.com/login/oauth/access_token',
  userInfoURL: 'https://api.github.com/user',
  scopes: ['read:user', 'user:email'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const headers = { accept: 'application/vnd.github+json' };
    const raw = obj(await ctx.fetchJson(userInfoURL, { headers }));
    let email = '';
    const emails = await ctx.fetchJson(userInfoURL.replace(/\/+$/, '') + '/emails', { headers }).catch(() => []);
    if (Array.isArray(emails)) {
      const primary = emails.map(obj).find((e) => e.primary === true && e.verified === true);
      email = primary ? str(primary.email) : '';
    }
    return {
      raw,
      user: { id: str(raw.id), name: str(raw.name), username: str(raw.login), email, avatarURL: str(raw.avatar_url) },
    };
  },
};
