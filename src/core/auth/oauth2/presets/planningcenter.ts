/**
 * Planning Center. The person from People `/people/v2/me` (JSON:API: `data.attributes`), refused
 * unless its `status` is `active`. A person may have several emails and none is said to be
 * verified, so, like PocketBase, no email is filled.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const planningcenter: ProviderPreset = {
  name: 'planningcenter',
  displayName: 'Planning Center',
  authURL: 'https://api.planningcenteronline.com/oauth/authorize',
  tokenURL: 'https://api.planningcenteronline.com/oauth/token',
  userInfoURL: 'https://api.planningcenteronline.com/people/v2/me',
  scopes: ['people'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const data = obj(raw.data);
    const attributes = obj(data.attributes);
    if (str(attributes.status) !== 'active') throw new Error('the Planning Center person is not active');
    return {
      raw,
      user: {
        id: str(data.id),
        name: str(attributes.name),
        username: '',
        email: '',
        avatarURL: str(attributes.avatar),
      },
    };
  },
};
