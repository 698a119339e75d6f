/**
 * Facebook (Graph API `/me` with the fields asked for in the URL). Graph has no "verified" flag:
 * like PocketBase, `email` is taken as is (Facebook returns only an address it considers valid,
 * and none when the user has no usable one). The avatar is `picture.data.url`.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const facebook: ProviderPreset = {
  name: 'facebook',
  displayName: 'Facebook',
  authURL: 'https://www.facebook.com/v3.2/dialog/oauth',
  tokenURL: 'https://graph.facebook.com/v3.2/oauth/access_token',
  userInfoURL: 'https://graph.facebook.com/me?fields=name,email,picture.type(large)',
  scopes: ['email'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    return {
      raw,
      user: {
        id: str(raw.id),
        name: str(raw.name),
        username: '',
        email: str(raw.email),
        avatarURL: str(obj(obj(raw.picture).data).url),
      },
    };
  },
};
