/**
 * mailcow (self-hosted): there are no default URLs, the provider config must give them
 * (`https://{host}/oauth/authorize`, `/oauth/token`, `/oauth/profile`). The user from the
 * profile endpoint, refused unless `active` is 1. The email is the mailbox itself, taken as is
 * like PocketBase: the server that hosts the mailbox is the one vouching for it. mailcow user
 * names are mailbox addresses; the username is the part before `@`.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const mailcow: ProviderPreset = {
  name: 'mailcow',
  displayName: 'mailcow',
  authURL: '',
  tokenURL: '',
  userInfoURL: '',
  scopes: ['profile'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    if (!userInfoURL) throw new Error('mailcow needs the userInfoURL of its instance');
    const raw = obj(await ctx.fetchJson(userInfoURL));
    if (str(raw.active) !== '1') throw new Error('the mailcow user is not active');
    const username = str(raw.username);
    return {
      raw,
      user: {
        id: str(raw.id),
        name: str(raw.full_name),
        username: username.includes('@') ? username.slice(0, username.indexOf('@')) : username,
        email: str(raw.email),
        avatarURL: '',
      },
    };
  },
};
