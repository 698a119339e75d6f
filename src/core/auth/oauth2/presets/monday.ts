/**
 * monday.com. There is no userinfo endpoint: the user is the GraphQL `me`, refused unless
 * `enabled`. The email counts only when `is_verified` is true.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const MONDAY_ME_QUERY = 'query { me { id enabled name email is_verified photo_small } }';

export const monday: ProviderPreset = {
  name: 'monday',
  displayName: 'monday.com',
  authURL: 'https://auth.monday.com/oauth2/authorize',
  tokenURL: 'https://auth.monday.com/oauth2/token',
  userInfoURL: 'https://api.monday.com/v2',
  scopes: ['me:read'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL, { method: 'POST', body: { query: MONDAY_ME_QUERY } }));
    const me = obj(obj(raw.data).me);
    if (me.enabled !== true) throw new Error('the monday.com account is not enabled');
    return {
      raw,
      user: {
        id: str(me.id),
        name: str(me.name),
        username: '',
        email: me.is_verified === true ? str(me.email) : '',
        avatarURL: str(me.photo_small),
      },
    };
  },
};
