/**
 * Patreon (API v2). The user from `/api/oauth2/v2/identity` with the user fields asked for in the
 * URL; a JSON:API document, so the values are under `data.attributes`. The email counts only when
 * `is_email_verified` is true.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const patreon: ProviderPreset = {
  name: 'patreon',
  displayName: 'Patreon',
  authURL: 'https://www.patreon.com/oauth2/authorize',
  tokenURL: 'https://www.patreon.com/api/oauth2/token',
  userInfoURL: 'https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=full_name,email,vanity,image_url,is_email_verified',
  scopes: ['identity', 'identity[email]'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const data = obj(raw.data);
    const attributes = obj(data.attributes);
    return {
      raw,
      user: {
        id: str(data.id),
        name: str(attributes.full_name),
        username: str(attributes.vanity),
        email: attributes.is_email_verified === true ? str(attributes.email) : '',
        avatarURL: str(attributes.image_url),
      },
    };
  },
};
