/**
 * Instagram, through the "Instagram API with Instagram Login" (business and creator accounts;
 * the older Basic Display API is gone — PocketBase names this provider `instagram2`, Basalt
 * keeps the name `instagram`). The id is `user_id`, the account's Instagram id, not the
 * app-scoped `id`. Instagram gives no email.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const instagram: ProviderPreset = {
  name: 'instagram',
  displayName: 'Instagram',
  authURL: 'https://www.instagram.com/oauth/authorize',
  tokenURL: 'https://api.instagram.com/oauth/access_token',
  userInfoURL: 'https://graph.instagram.com/me?fields=id,username,account_type,user_id,name,profile_picture_url,followers_count,follows_count,media_count',
  scopes: ['instagram_business_basic'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    return {
      raw,
      user: {
        id: str(raw.user_id),
        name: str(raw.name),
        username: str(raw.username),
        email: '',
        avatarURL: str(raw.profile_picture_url),
      },
    };
  },
};
