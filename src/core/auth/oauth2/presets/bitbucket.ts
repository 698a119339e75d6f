/**
 * Bitbucket Cloud. The user from `/2.0/user` (refused unless `account_status` is `active`); the
 * email from `/2.0/user/emails`: the primary address, and only if `is_confirmed` (PocketBase
 * checks only `is_primary`; Basalt also wants the confirmation Bitbucket reports). A failing
 * emails call (e.g. the `email` scope not granted) gives no email rather than an error.
 * Bitbucket documents HTTP Basic client authentication at its token endpoint and rejects PKCE.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const bitbucket: ProviderPreset = {
  name: 'bitbucket',
  displayName: 'Bitbucket',
  authURL: 'https://bitbucket.org/site/oauth2/authorize',
  tokenURL: 'https://bitbucket.org/site/oauth2/access_token',
  userInfoURL: 'https://api.bitbucket.org/2.0/user',
  scopes: ['account'],
  pkce: false,
  tokenAuthMethod: 'client_secret_basic',
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    if (str(raw.account_status) !== 'active') throw new Error('the Bitbucket account is not active');
    const emails = obj(await ctx.fetchJson(userInfoURL.replace(/\/+$/, '') + '/emails').catch(() => ({})));
    const values = Array.isArray(emails.values) ? emails.values.map(obj) : [];
    const primary = values.find((e) => e.is_primary === true && e.is_confirmed === true);
    return {
      raw,
      user: {
        id: str(raw.uuid),
        name: str(raw.display_name),
        username: str(raw.username),
        email: primary ? str(primary.email) : '',
        avatarURL: str(obj(obj(raw.links).avatar).href),
      },
    };
  },
};
