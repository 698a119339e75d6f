/**
 * Notion (public integrations). `/v1/users/me` with a user token returns the integration's bot;
 * the person who authorized it is `bot.owner.user`, and that is the account. Every API call needs
 * a `Notion-Version` header. Notion's token endpoint takes the client credentials as HTTP Basic
 * only, and its authorize URL wants `owner=user`. Notion has no verified flag: like PocketBase,
 * `person.email` is taken as is (Notion accounts sign in through that address).
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const notion: ProviderPreset = {
  name: 'notion',
  displayName: 'Notion',
  authURL: 'https://api.notion.com/v1/oauth/authorize',
  tokenURL: 'https://api.notion.com/v1/oauth/token',
  userInfoURL: 'https://api.notion.com/v1/users/me',
  scopes: [],
  pkce: true,
  tokenAuthMethod: 'client_secret_basic',
  authParams: { owner: 'user' },
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL, { headers: { 'Notion-Version': '2022-06-28' } }));
    const owner = obj(obj(obj(raw.bot).owner).user);
    return {
      raw,
      user: {
        id: str(owner.id),
        name: str(owner.name),
        username: '',
        email: str(obj(owner.person).email),
        avatarURL: str(owner.avatar_url),
      },
    };
  },
};
