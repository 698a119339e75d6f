/**
 * Kakao. The user from `/v2/user/me`: a numeric id, the nickname and image in `properties`
 * (`kakao_account.profile` as a fallback). The email in `kakao_account` counts only when both
 * `is_email_valid` and `is_email_verified` are true.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const kakao: ProviderPreset = {
  name: 'kakao',
  displayName: 'Kakao',
  authURL: 'https://kauth.kakao.com/oauth/authorize',
  tokenURL: 'https://kauth.kakao.com/oauth/token',
  userInfoURL: 'https://kapi.kakao.com/v2/user/me',
  scopes: ['account_email', 'profile_nickname', 'profile_image'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const properties = obj(raw.properties);
    const account = obj(raw.kakao_account);
    const profile = obj(account.profile);
    return {
      raw,
      user: {
        id: str(raw.id),
        name: '',
        username: str(properties.nickname) || str(profile.nickname),
        email: account.is_email_valid === true && account.is_email_verified === true ? str(account.email) : '',
        avatarURL: str(properties.profile_image) || str(profile.profile_image_url),
      },
    };
  },
};
