/**
 * Discord. The user from `/users/@me`; the email counts only when `verified` is true. Discord
 * gives the avatar as a hash: the URL is built on its CDN (`/avatars/{id}/{hash}.png`), and left
 * empty without a hash. The name is the display name (`global_name`) when set, else the legacy
 * `username#discriminator` (just `username` for the new, discriminator-less usernames).
 */
import { obj, str, type ProviderPreset } from '../provider-preset.js';

export const discord: ProviderPreset = {
  name: 'discord',
  displayName: 'Discord',
  authURL: 'https://discord.com/api/oauth2/authorize',
  tokenURL: 'https://discord.com/api/oauth2/token',
  userInfoURL: 'https://discord.com/api/users/@me',
  scopes: ['identify', 'email'],
  pkce: true,
  async fetchUser(userInfoURL, ctx) {
    const raw = obj(await ctx.fetchJson(userInfoURL));
    const id = str(raw.id);
    const username = str(raw.username);
    const discriminator = str(raw.discriminator);
    const avatar = str(raw.avatar);
    const legacyName = username && discriminator && discriminator !== '0' ? `${username}#${discriminator}` : username;
    return {
      raw,
      user: {
        id,
        name: str(raw.global_name) || legacyName,
        username,
        email: raw.verified === true ? str(raw.email) : '',
        avatarURL: id && avatar ? `https://cdn.discordapp.com/avatars/${encodeURIComponent(id)}/${encodeURIComponent(avatar)}.png` : '',
      },
    };
  },
};
