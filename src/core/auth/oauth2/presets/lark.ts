/**
 * Lark / Feishu. Two deployments share one API: feishu.cn (China) and larksuite.com (elsewhere);
 * the preset uses feishu.cn like Lark's own SDK, and larksuite.com is chosen by overriding the
 * three URLs. The user from `/authen/v1/user_info` (under `data`); the id is `union_id`, stable
 * across the apps of one developer (`open_id` is per app). No email is filled: Lark does not say
 * whether it is verified.
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const lark: ProviderPreset = {
  name: 'lark',
  displayName: 'Lark',
  authURL: 'https://accounts.feishu.cn/open-apis/authen/v1/authorize',
  tokenURL: 'https://open.feishu.cn/open-apis/authen/v2/oauth/token',
  userInfoURL: 'https://open.feishu.cn/open-apis/authen/v1/user_info',
  scopes: [],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const data = obj(raw.data);
    return {
      raw,
      user: { id: str(data.union_id), name: str(data.name), username: '', email: '', avatarURL: str(data.avatar_url) },
    };
  },
};
