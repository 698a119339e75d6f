/**
 * Strava. The athlete from `/api/v3/athlete` (numeric id, `firstname`/`lastname`, `profile` as
 * the picture). Strava's API gives no email.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const strava: ProviderPreset = {
  name: 'strava',
  displayName: 'Strava',
  authURL: 'https://www.strava.com/oauth/authorize',
  tokenURL: 'https://www.strava.com/api/v3/oauth/token',
  userInfoURL: 'https://www.strava.com/api/v3/athlete',
  scopes: ['profile:read_all'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    return {
      raw,
      user: {
        id: raw.id === 0 ? '' : str(raw.id),
        name: [str(raw.firstname), str(raw.lastname)].filter(Boolean).join(' '),
        username: str(raw.username),
        email: '',
        avatarURL: str(raw.profile),
      },
    };
  },
};
