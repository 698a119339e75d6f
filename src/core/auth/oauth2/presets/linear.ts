/**
 * Linear. There is no userinfo endpoint: the user is the GraphQL `viewer`, refused unless
 * `active`. Linear rejects PKCE parameters. There is no verified flag; like PocketBase the
 * `email` is taken as is (Linear accounts sign in through that address, by magic link or SSO).
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const LINEAR_VIEWER_QUERY = 'query Me { viewer { id displayName name email avatarUrl active } }';

export const linear: ProviderPreset = {
  name: 'linear',
  displayName: 'Linear',
  authURL: 'https://linear.app/oauth/authorize',
  tokenURL: 'https://api.linear.app/oauth/token',
  userInfoURL: 'https://api.linear.app/graphql',
  scopes: ['read'],
  pkce: false,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL, { method: 'POST', body: { query: LINEAR_VIEWER_QUERY } }));
    const viewer = obj(obj(raw.data).viewer);
    if (viewer.active !== true) throw new Error('the Linear account is not active');
    return {
      raw,
      user: {
        id: str(viewer.id),
        name: str(viewer.name),
        username: str(viewer.displayName),
        email: str(viewer.email),
        avatarURL: str(viewer.avatarUrl),
      },
    };
  },
};
