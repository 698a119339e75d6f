/**
 * Sign in with Apple. Apple has no userinfo endpoint: the user is read from the verified
 * id_token claims (issuer `https://appleid.apple.com`, keys from Apple's JWKS). Requesting the
 * `name`/`email` scopes makes Apple answer with `response_mode=form_post`.
 *
 * The email counts only when `email_verified` is true (Apple sends it as a string or a boolean;
 * private-relay addresses are verified too). Apple sends the name only once, on the first
 * authorization, as a `user` JSON form field beside the code, not in the id_token: the name is
 * filled only if the flow merged that object into the claims as `user` (as PocketBase does).
 */
import { obj, str, truthy, type ProviderPreset } from '../provider-preset.js';

export const apple: ProviderPreset = {
  name: 'apple',
  displayName: 'Apple',
  authURL: 'https://appleid.apple.com/auth/authorize',
  tokenURL: 'https://appleid.apple.com/auth/token',
  userInfoURL: '',
  scopes: ['name', 'email'],
  pkce: true,
  oidc: { issuer: 'https://appleid.apple.com', jwksURL: 'https://appleid.apple.com/auth/keys' },
  authParams: { response_mode: 'form_post' },
  async fetchUser(_userInfoURL, ctx) {
    if (!ctx.idTokenClaims) throw new Error('Apple sent no id_token');
    const raw: Record<string, unknown> = { ...ctx.idTokenClaims };
    const fullName = obj(obj(raw.user).name);
    const name = str(raw.name) || [str(fullName.firstName), str(fullName.lastName)].filter(Boolean).join(' ');
    return {
      raw,
      user: {
        id: str(raw.sub),
        name,
        username: '',
        email: truthy(raw.email_verified) ? str(raw.email) : '',
        avatarURL: '',
      },
    };
  },
};
