/**
 * WakaTime. The user from `/api/v1/users/current` (under `data`). The email counts only when
 * `is_email_confirmed` is true (whether it is public does not matter: Basalt has its own
 * `emailVisibility`); the photo only when `photo_public` is true.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const wakatime: ProviderPreset = {
  name: 'wakatime',
  displayName: 'WakaTime',
  authURL: 'https://wakatime.com/oauth/authorize',
  tokenURL: 'https://wakatime.com/oauth/token',
  userInfoURL: 'https://wakatime.com/api/v1/users/current',
  scopes: ['email'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const data = obj(raw.data);
    return {
      raw,
      user: {
        id: str(data.id),
        name: str(data.display_name),
        username: str(data.username),
        email: data.is_email_confirmed === true ? str(data.email) : '',
        avatarURL: data.photo_public === true ? str(data.photo) : '',
      },
    };
  },
};
