/**
 * VK (ВКонтакте). The user from the `users.get` API method, which takes the token as the
 * `access_token` query parameter and needs an API version (`v`) in the URL; it answers
 * `{ response: [user] }` (an `{ error }` object, still with status 200, on failure). VK rejects
 * PKCE parameters.
 *
 * Email: VK returns it beside the token in the token response, not from the API, and never says
 * it is verified; the preset context does not carry the token response, so no email is filled.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const vk: ProviderPreset = {
  name: 'vk',
  displayName: 'ВКонтакте',
  authURL: 'https://oauth.vk.com/authorize',
  tokenURL: 'https://oauth.vk.com/access_token',
  userInfoURL: 'https://api.vk.com/method/users.get?fields=photo_max,screen_name&v=5.131',
  scopes: ['email'],
  pkce: false,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL, { tokenIn: 'query', tokenParam: 'access_token' }));
    const entry = Array.isArray(raw.response) ? obj(raw.response[0]) : {};
    if (!Object.keys(entry).length) throw new Error('VK answered without a user');
    return {
      raw,
      user: {
        id: str(entry.id),
        name: [str(entry.first_name), str(entry.last_name)].filter(Boolean).join(' '),
        username: str(entry.screen_name),
        email: '',
        avatarURL: str(entry.photo_max),
      },
    };
  },
};
