import { describe, expect, it } from 'vitest';
import type { OAuth2UserInfo, ProviderPreset, UserInfoContext } from '../../src/core/auth/oauth2/provider-preset.js';
import { PROVIDER_PRESETS, presetOf } from '../../src/core/auth/oauth2/presets/index.js';
import { LINEAR_VIEWER_QUERY } from '../../src/core/auth/oauth2/presets/linear.js';
import { MONDAY_ME_QUERY } from '../../src/core/auth/oauth2/presets/monday.js';

type GetOptions = Parameters<UserInfoContext['fetchJson']>[1];

/** A response of the fake provider: JSON, or an Error to throw (a non-2xx answer). */
type Reply = unknown;

interface Fake {
  ctx: UserInfoContext;
  calls: { url: string; options: GetOptions }[];
}

/** A context whose `fetchJson` answers from `table` (keyed by URL) and throws for any other URL. */
function fakeContext(table: Record<string, Reply>, init: { idTokenClaims?: Record<string, unknown> | null; extra?: Record<string, unknown>; clientId?: string } = {}): Fake {
  const calls: Fake['calls'] = [];
  const ctx: UserInfoContext = {
    accessToken: 'test-access-token',
    idTokenClaims: init.idTokenClaims ?? null,
    extra: init.extra ?? {},
    clientId: init.clientId ?? 'test-client-id',
    async fetchJson(url, options) {
      calls.push({ url, options });
      if (!Object.prototype.hasOwnProperty.call(table, url)) throw new Error(`unexpected URL: ${url}`);
      const reply = table[url];
      if (reply instanceof Error) throw reply;
      return structuredClone(reply);
    },
  };
  return { ctx, calls };
}

function preset(name: string): ProviderPreset {
  const p = presetOf(name);
  if (!p) throw new Error(`no preset ${name}`);
  return p;
}

async function run(name: string, table: Record<string, Reply>, init?: Parameters<typeof fakeContext>[1], url?: string) {
  const p = preset(name);
  const fake = fakeContext(table, init);
  const result = await p.fetchUser(url ?? (p.userInfoURL || ''), fake.ctx);
  return { ...result, calls: fake.calls };
}

const user = (u: Partial<OAuth2UserInfo>): OAuth2UserInfo => ({ id: '', name: '', username: '', email: '', avatarURL: '', ...u });

const PROVIDERS = [
  'google', 'microsoft', 'apple', 'gitlab', 'discord', 'facebook', 'instagram', 'bitbucket', 'gitee', 'gitea', 'twitter', 'kakao', 'vk', 'yandex',
  'spotify', 'twitch', 'strava', 'patreon', 'livechat', 'mailcow', 'planningcenter', 'linear', 'notion', 'monday', 'box', 'lark', 'trakt', 'wakatime',
];
const OIDC = ['oidc', 'oidc2', 'oidc3'];

const LINEAR_URL = 'https://api.linear.app/graphql';
const MONDAY_URL = 'https://api.monday.com/v2';
const MAILCOW_URL = 'https://mail.example.com/oauth/profile';

describe('OAuth2 preset registry', () => {
  it('has every PocketBase provider name, plus github and the three oidc slots', () => {
    for (const name of [...PROVIDERS, 'github', ...OIDC]) expect(PROVIDER_PRESETS.has(name), name).toBe(true);
    expect(PROVIDER_PRESETS.size).toBe(PROVIDERS.length + 1 + OIDC.length);
    expect(presetOf('nope')).toBeUndefined();
  });

  it('keys each preset by its own name, with a display name, scopes and https endpoints', () => {
    for (const [key, p] of PROVIDER_PRESETS) {
      expect(p.name, key).toBe(key);
      expect(p.displayName.trim(), key).not.toBe('');
      expect(Array.isArray(p.scopes), key).toBe(true);
      for (const s of p.scopes) expect(typeof s, key).toBe('string');
      expect(typeof p.pkce, key).toBe('boolean');
      expect(typeof p.fetchUser, key).toBe('function');
      const urls = { authURL: p.authURL, tokenURL: p.tokenURL, userInfoURL: p.userInfoURL };
      for (const [field, value] of Object.entries(urls)) {
        if (OIDC.includes(key)) expect(value, `${key}.${field}`).toBe('');
        // Self-hosted only: the provider config must give its URLs.
        else if (key === 'mailcow') expect(value, `${key}.${field}`).toBe('');
        // Apple has no userinfo endpoint (the user comes from the id_token).
        else if (key === 'apple' && field === 'userInfoURL') expect(value).toBe('');
        else expect(value, `${key}.${field}`).toMatch(/^https:\/\/[^/\s]+/);
      }
      if (p.tokenAuthMethod !== undefined) expect(['client_secret_post', 'client_secret_basic'], key).toContain(p.tokenAuthMethod);
    }
  });

  it('carries the provider specifics that the flow needs', () => {
    expect(preset('apple').oidc).toEqual({ issuer: 'https://appleid.apple.com', jwksURL: 'https://appleid.apple.com/auth/keys' });
    expect(preset('apple').authParams).toEqual({ response_mode: 'form_post' });
    expect(preset('apple').scopes).toEqual(['name', 'email']);
    expect(preset('twitter').pkce).toBe(true);
    expect(preset('twitter').tokenAuthMethod).toBe('client_secret_basic');
    expect(preset('notion').tokenAuthMethod).toBe('client_secret_basic');
    expect(preset('microsoft').authURL).toBe('https://login.microsoftonline.com/common/oauth2/v2.0/authorize');
    expect(preset('microsoft').tokenURL).toBe('https://login.microsoftonline.com/common/oauth2/v2.0/token');
    expect(preset('microsoft').userInfoURL).toBe('https://graph.microsoft.com/v1.0/me');
    expect(preset('vk').userInfoURL).toContain('v=5.131');
    for (const name of ['vk', 'linear', 'bitbucket']) expect(preset(name).pkce, name).toBe(false);
    for (const name of OIDC) expect(preset(name).oidc, name).toEqual({});
  });
});

describe('OAuth2 presets map the provider user', () => {
  it('github: primary verified email from /user/emails', async () => {
    const r = await run('github', {
      'https://api.github.com/user': { id: 583231, login: 'octocat', name: 'The Octocat', email: 'public@example.com', avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4' },
      'https://api.github.com/user/emails': [
        { email: 'other@example.com', primary: false, verified: true },
        { email: 'octocat@github.com', primary: true, verified: true },
      ],
    });
    expect(r.user).toEqual(user({ id: '583231', name: 'The Octocat', username: 'octocat', email: 'octocat@github.com', avatarURL: 'https://avatars.githubusercontent.com/u/583231?v=4' }));
  });

  it('google', async () => {
    const sample = { sub: '110169484474386276334', name: 'Ann Lee', given_name: 'Ann', picture: 'https://lh3.googleusercontent.com/a/photo', email: 'ann@gmail.com', email_verified: true };
    const r = await run('google', { 'https://www.googleapis.com/oauth2/v3/userinfo': sample });
    expect(r.user).toEqual(user({ id: '110169484474386276334', name: 'Ann Lee', email: 'ann@gmail.com', avatarURL: 'https://lh3.googleusercontent.com/a/photo' }));
    expect(r.raw).toEqual(sample);
    const asString = await run('google', { 'https://www.googleapis.com/oauth2/v3/userinfo': { ...sample, email_verified: 'true' } });
    expect(asString.user.email).toBe('ann@gmail.com');
    const unverified = await run('google', { 'https://www.googleapis.com/oauth2/v3/userinfo': { ...sample, email_verified: false } });
    expect(unverified.user.email).toBe('');
    const noFlag = await run('google', { 'https://www.googleapis.com/oauth2/v3/userinfo': { sub: '1', email: 'x@gmail.com' } });
    expect(noFlag.user).toEqual(user({ id: '1' }));
  });

  it('microsoft: Graph /me, email from `mail`', async () => {
    const sample = { id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', displayName: 'Adele Vance', userPrincipalName: 'AdeleV@contoso.com', mail: 'AdeleV@contoso.com', givenName: 'Adele' };
    const r = await run('microsoft', { 'https://graph.microsoft.com/v1.0/me': sample });
    expect(r.user).toEqual(user({ id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', name: 'Adele Vance', email: 'AdeleV@contoso.com' }));
    const noMail = await run('microsoft', { 'https://graph.microsoft.com/v1.0/me': { ...sample, mail: null } });
    expect(noMail.user.email).toBe('');
  });

  it('apple: from the id_token claims, never a URL', async () => {
    const claims = { iss: 'https://appleid.apple.com', aud: 'com.example.app', sub: '001234.abcdef0123456789.0123', email: 'x1y2@privaterelay.appleid.com', email_verified: 'true', is_private_email: 'true' };
    const r = await run('apple', {}, { idTokenClaims: claims });
    expect(r.user).toEqual(user({ id: '001234.abcdef0123456789.0123', email: 'x1y2@privaterelay.appleid.com' }));
    expect(r.raw).toEqual(claims);
    expect(r.calls).toEqual([]);
    const withUser = await run('apple', {}, { idTokenClaims: { ...claims, email_verified: true, user: { name: { firstName: 'Ann', lastName: 'Lee' }, email: 'x1y2@privaterelay.appleid.com' } } });
    expect(withUser.user.name).toBe('Ann Lee');
    const unverified = await run('apple', {}, { idTokenClaims: { ...claims, email_verified: 'false' } });
    expect(unverified.user.email).toBe('');
    await expect(run('apple', {}, { idTokenClaims: null })).rejects.toThrow();
  });

  it('gitlab: email only once the account is confirmed', async () => {
    const sample = { id: 1234567, username: 'jdoe', name: 'Jane Doe', state: 'active', avatar_url: 'https://gitlab.com/uploads/-/system/user/avatar/1234567/avatar.png', email: 'jane@example.com', confirmed_at: '2021-03-04T05:06:07.000Z' };
    const r = await run('gitlab', { 'https://gitlab.com/api/v4/user': sample });
    expect(r.user).toEqual(user({ id: '1234567', name: 'Jane Doe', username: 'jdoe', email: 'jane@example.com', avatarURL: 'https://gitlab.com/uploads/-/system/user/avatar/1234567/avatar.png' }));
    const unconfirmed = await run('gitlab', { 'https://gitlab.com/api/v4/user': { ...sample, confirmed_at: null } });
    expect(unconfirmed.user.email).toBe('');
  });

  it('discord: verified email, CDN avatar from the hash', async () => {
    const sample = { id: '80351110224678912', username: 'nelly', discriminator: '1337', global_name: null, avatar: '8342729096ea3675442027381ff50dfe', email: 'nelly@discord.com', verified: true };
    const r = await run('discord', { 'https://discord.com/api/users/@me': sample });
    expect(r.user).toEqual(user({
      id: '80351110224678912',
      name: 'nelly#1337',
      username: 'nelly',
      email: 'nelly@discord.com',
      avatarURL: 'https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png',
    }));
    const modern = await run('discord', { 'https://discord.com/api/users/@me': { ...sample, discriminator: '0', global_name: 'Nelly', avatar: null, verified: false } });
    expect(modern.user).toEqual(user({ id: '80351110224678912', name: 'Nelly', username: 'nelly' }));
    const noGlobal = await run('discord', { 'https://discord.com/api/users/@me': { ...sample, discriminator: '0' } });
    expect(noGlobal.user.name).toBe('nelly');
  });

  it('facebook', async () => {
    const sample = { id: '10158000000000001', name: 'Ann Lee', email: 'ann@example.com', picture: { data: { height: 200, is_silhouette: false, url: 'https://platform-lookaside.fbsbx.com/photo', width: 200 } } };
    const r = await run('facebook', { 'https://graph.facebook.com/me?fields=name,email,picture.type(large)': sample });
    expect(r.user).toEqual(user({ id: '10158000000000001', name: 'Ann Lee', email: 'ann@example.com', avatarURL: 'https://platform-lookaside.fbsbx.com/photo' }));
    const noPicture = await run('facebook', { 'https://graph.facebook.com/me?fields=name,email,picture.type(large)': { id: '1', picture: 'nope' } });
    expect(noPicture.user).toEqual(user({ id: '1' }));
  });

  it('instagram: the id is user_id, no email', async () => {
    const url = preset('instagram').userInfoURL;
    const sample = { id: '7590000000000001', user_id: '17841400000000001', username: 'ann.lee', name: 'Ann Lee', account_type: 'BUSINESS', profile_picture_url: 'https://scontent.cdninstagram.com/p.jpg', email: 'ann@example.com' };
    const r = await run('instagram', { [url]: sample });
    expect(r.user).toEqual(user({ id: '17841400000000001', name: 'Ann Lee', username: 'ann.lee', avatarURL: 'https://scontent.cdninstagram.com/p.jpg' }));
  });

  it('bitbucket: confirmed primary email, active accounts only', async () => {
    const sample = {
      uuid: '{d301aafa-d676-4ee0-88be-962be7417567}',
      username: 'tutorials',
      display_name: 'Tutorials Account',
      account_status: 'active',
      links: { avatar: { href: 'https://bitbucket.org/account/tutorials/avatar/' } },
    };
    const emails = {
      values: [
        { email: 'old@example.com', is_primary: false, is_confirmed: true },
        { email: 'tutorials@example.com', is_primary: true, is_confirmed: true },
      ],
    };
    const r = await run('bitbucket', { 'https://api.bitbucket.org/2.0/user': sample, 'https://api.bitbucket.org/2.0/user/emails': emails });
    expect(r.user).toEqual(user({ id: '{d301aafa-d676-4ee0-88be-962be7417567}', name: 'Tutorials Account', username: 'tutorials', email: 'tutorials@example.com', avatarURL: 'https://bitbucket.org/account/tutorials/avatar/' }));
    const unconfirmed = await run('bitbucket', {
      'https://api.bitbucket.org/2.0/user': sample,
      'https://api.bitbucket.org/2.0/user/emails': { values: [{ email: 'tutorials@example.com', is_primary: true, is_confirmed: false }] },
    });
    expect(unconfirmed.user.email).toBe('');
    const forbidden = await run('bitbucket', { 'https://api.bitbucket.org/2.0/user': sample, 'https://api.bitbucket.org/2.0/user/emails': new Error('403') });
    expect(forbidden.user.email).toBe('');
    await expect(run('bitbucket', { 'https://api.bitbucket.org/2.0/user': { ...sample, account_status: 'inactive' } })).rejects.toThrow(/not active/);
  });

  it('gitee: confirmed primary email from /emails', async () => {
    const sample = { id: 12285415, login: 'ann', name: 'Ann', avatar_url: 'https://foruda.gitee.com/avatar/ann.png', email: 'public@example.com' };
    const r = await run('gitee', {
      'https://gitee.com/api/v5/user': sample,
      'https://gitee.com/api/v5/emails': [
        { email: 'second@example.com', state: 'confirmed', scope: ['committed'] },
        { email: 'ann@example.com', state: 'confirmed', scope: ['committed', 'primary'] },
      ],
    });
    expect(r.user).toEqual(user({ id: '12285415', name: 'Ann', username: 'ann', email: 'ann@example.com', avatarURL: 'https://foruda.gitee.com/avatar/ann.png' }));
    const unconfirmed = await run('gitee', { 'https://gitee.com/api/v5/user': sample, 'https://gitee.com/api/v5/emails': [{ email: 'ann@example.com', state: 'unconfirmed', scope: ['primary'] }] });
    expect(unconfirmed.user.email).toBe('');
    const privateEmail = await run('gitee', { 'https://gitee.com/api/v5/user': sample, 'https://gitee.com/api/v5/emails': { email: '12285415+ann@user.noreply.gitee.com' } });
    expect(privateEmail.user.email).toBe('');
  });

  it('gitea: verified primary email from /user/emails', async () => {
    const sample = { id: 42, login: 'ann', full_name: 'Ann Lee', email: 'ann@example.com', avatar_url: 'https://gitea.com/avatars/abc' };
    const r = await run('gitea', {
      'https://gitea.com/api/v1/user': sample,
      'https://gitea.com/api/v1/user/emails': [{ email: 'ann@example.com', verified: true, primary: true }],
    });
    expect(r.user).toEqual(user({ id: '42', name: 'Ann Lee', username: 'ann', email: 'ann@example.com', avatarURL: 'https://gitea.com/avatars/abc' }));
    const unverified = await run('gitea', { 'https://gitea.com/api/v1/user': sample, 'https://gitea.com/api/v1/user/emails': [{ email: 'ann@example.com', verified: false, primary: true }] });
    expect(unverified.user.email).toBe('');
    const failing = await run('gitea', { 'https://gitea.com/api/v1/user': sample, 'https://gitea.com/api/v1/user/emails': new Error('404') });
    expect(failing.user.email).toBe('');
  });

  it('twitter: the user is under `data`', async () => {
    const sample = { data: { id: '2244994945', name: 'X Dev', username: 'XDevelopers', profile_image_url: 'https://pbs.twimg.com/profile_images/x_normal.jpg' } };
    const r = await run('twitter', { 'https://api.twitter.com/2/users/me?user.fields=id,name,username,profile_image_url': sample });
    expect(r.user).toEqual(user({ id: '2244994945', name: 'X Dev', username: 'XDevelopers', avatarURL: 'https://pbs.twimg.com/profile_images/x_normal.jpg' }));
    expect(r.raw).toEqual(sample);
  });

  it('kakao: email only when valid and verified', async () => {
    const sample = {
      id: 123456789,
      properties: { nickname: '홍길동', profile_image: 'http://k.kakaocdn.net/dn/profile.jpg' },
      kakao_account: { email: 'hong@kakao.com', is_email_valid: true, is_email_verified: true, profile: { nickname: '홍길동' } },
    };
    const r = await run('kakao', { 'https://kapi.kakao.com/v2/user/me': sample });
    expect(r.user).toEqual(user({ id: '123456789', username: '홍길동', email: 'hong@kakao.com', avatarURL: 'http://k.kakaocdn.net/dn/profile.jpg' }));
    const unverified = await run('kakao', { 'https://kapi.kakao.com/v2/user/me': { ...sample, kakao_account: { ...sample.kakao_account, is_email_verified: false } } });
    expect(unverified.user.email).toBe('');
    const invalid = await run('kakao', { 'https://kapi.kakao.com/v2/user/me': { ...sample, kakao_account: { ...sample.kakao_account, is_email_valid: false } } });
    expect(invalid.user.email).toBe('');
  });

  it('vk: token in the query string, versioned URL, `response` list', async () => {
    const url = 'https://api.vk.com/method/users.get?fields=photo_max,screen_name&v=5.131';
    const sample = { response: [{ id: 210700286, first_name: 'Lindsey', last_name: 'Stirling', screen_name: 'lindseystirling', photo_max: 'https://sun1.userapi.com/photo.jpg' }] };
    const r = await run('vk', { [url]: sample });
    expect(r.user).toEqual(user({ id: '210700286', name: 'Lindsey Stirling', username: 'lindseystirling', avatarURL: 'https://sun1.userapi.com/photo.jpg' }));
    expect(r.calls[0].options).toMatchObject({ tokenIn: 'query', tokenParam: 'access_token' });
    await expect(run('vk', { [url]: { error: { error_code: 5, error_msg: 'User authorization failed' } } })).rejects.toThrow();
    await expect(run('vk', { [url]: { response: [] } })).rejects.toThrow();
  });

  it('yandex: avatar built from its id', async () => {
    const sample = { id: '1000034426', login: 'ivan', real_name: 'Ivan Ivanov', default_email: 'ivan@yandex.ru', default_avatar_id: '131652443', is_avatar_empty: false };
    const r = await run('yandex', { 'https://login.yandex.ru/info': sample });
    expect(r.user).toEqual(user({ id: '1000034426', name: 'Ivan Ivanov', username: 'ivan', email: 'ivan@yandex.ru', avatarURL: 'https://avatars.yandex.net/get-yapic/131652443/islands-200' }));
    const empty = await run('yandex', { 'https://login.yandex.ru/info': { ...sample, is_avatar_empty: true } });
    expect(empty.user.avatarURL).toBe('');
  });

  it('spotify: first image, never the (unverified) email', async () => {
    const sample = { id: 'wizzler', display_name: 'JM Wizzler', email: 'email@example.com', images: [{ url: 'https://i.scdn.co/image/ab67', height: 300, width: 300 }] };
    const r = await run('spotify', { 'https://api.spotify.com/v1/me': sample });
    expect(r.user).toEqual(user({ id: 'wizzler', name: 'JM Wizzler', avatarURL: 'https://i.scdn.co/image/ab67' }));
    const noImages = await run('spotify', { 'https://api.spotify.com/v1/me': { ...sample, images: [] } });
    expect(noImages.user.avatarURL).toBe('');
  });

  it('twitch: the app Client-Id header beside the token', async () => {
    const sample = { data: [{ id: '141981764', login: 'twitchdev', display_name: 'TwitchDev', email: 'dev@twitch.tv', profile_image_url: 'https://static-cdn.jtvnw.net/p.png' }] };
    const r = await run('twitch', { 'https://api.twitch.tv/helix/users': sample }, { clientId: 'wbmytr93xzw8zbg0p1izqyzzc5mbiz' });
    expect(r.user).toEqual(user({ id: '141981764', name: 'TwitchDev', username: 'twitchdev', email: 'dev@twitch.tv', avatarURL: 'https://static-cdn.jtvnw.net/p.png' }));
    expect(r.calls[0].options?.headers).toEqual({ 'Client-Id': 'wbmytr93xzw8zbg0p1izqyzzc5mbiz' });
    await expect(run('twitch', { 'https://api.twitch.tv/helix/users': { data: [] } })).rejects.toThrow();
  });

  it('strava', async () => {
    const sample = { id: 1234567890987654, username: 'marianne_t', firstname: 'Marianne', lastname: 'Teutenberg', profile: 'https://dgalywyr863hv.cloudfront.net/pictures/athletes/large.jpg' };
    const r = await run('strava', { 'https://www.strava.com/api/v3/athlete': sample });
    expect(r.user).toEqual(user({ id: '1234567890987654', name: 'Marianne Teutenberg', username: 'marianne_t', avatarURL: 'https://dgalywyr863hv.cloudfront.net/pictures/athletes/large.jpg' }));
    const partial = await run('strava', { 'https://www.strava.com/api/v3/athlete': { id: 7, firstname: 'Ann', lastname: null, username: null } });
    expect(partial.user).toEqual(user({ id: '7', name: 'Ann' }));
  });

  it('patreon: JSON:API attributes, verified email', async () => {
    const url = preset('patreon').userInfoURL;
    const sample = {
      data: { id: '12345', type: 'user', attributes: { full_name: 'Corgi The Dev', vanity: 'corgi', email: 'corgi@example.com', image_url: 'https://c8.patreon.com/2/200/12345', is_email_verified: true } },
      links: { self: 'https://www.patreon.com/api/oauth2/v2/user/12345' },
    };
    const r = await run('patreon', { [url]: sample });
    expect(r.user).toEqual(user({ id: '12345', name: 'Corgi The Dev', username: 'corgi', email: 'corgi@example.com', avatarURL: 'https://c8.patreon.com/2/200/12345' }));
    const unverified = await run('patreon', { [url]: { data: { ...sample.data, attributes: { ...sample.data.attributes, is_email_verified: false } } } });
    expect(unverified.user.email).toBe('');
  });

  it('livechat', async () => {
    const sample = { account_id: 'd24e6a69-8c7d-4e0c-a4a3-3c0e5b3a8fbe', name: 'Ann Lee', email: 'ann@example.com', email_verified: true, avatar_url: 'https://cdn.livechat-files.com/api/file/avatar.png' };
    const r = await run('livechat', { 'https://accounts.livechat.com/v2/accounts/me': sample });
    expect(r.user).toEqual(user({ id: 'd24e6a69-8c7d-4e0c-a4a3-3c0e5b3a8fbe', name: 'Ann Lee', email: 'ann@example.com', avatarURL: 'https://cdn.livechat-files.com/api/file/avatar.png' }));
    const unverified = await run('livechat', { 'https://accounts.livechat.com/v2/accounts/me': { ...sample, email_verified: false } });
    expect(unverified.user.email).toBe('');
  });

  it('mailcow: configured URL, active users only, username before @', async () => {
    const sample = { success: true, id: 'ann@mail.example.com', identifier: 'ann@mail.example.com', username: 'ann@mail.example.com', full_name: 'Ann Lee', email: 'ann@mail.example.com', active: 1, created: '2024-01-01 00:00:00' };
    const r = await run('mailcow', { [MAILCOW_URL]: sample }, {}, MAILCOW_URL);
    expect(r.user).toEqual(user({ id: 'ann@mail.example.com', name: 'Ann Lee', username: 'ann', email: 'ann@mail.example.com' }));
    await expect(run('mailcow', { [MAILCOW_URL]: { ...sample, active: 0 } }, {}, MAILCOW_URL)).rejects.toThrow(/not active/);
    await expect(run('mailcow', {})).rejects.toThrow();
  });

  it('planningcenter: active people only, no email', async () => {
    const sample = { data: { type: 'Person', id: '25253', attributes: { name: 'Ann Lee', status: 'active', avatar: 'https://avatars.planningcenteronline.com/uploads/initials/AL.png' } } };
    const r = await run('planningcenter', { 'https://api.planningcenteronline.com/people/v2/me': sample });
    expect(r.user).toEqual(user({ id: '25253', name: 'Ann Lee', avatarURL: 'https://avatars.planningcenteronline.com/uploads/initials/AL.png' }));
    await expect(
      run('planningcenter', { 'https://api.planningcenteronline.com/people/v2/me': { data: { ...sample.data, attributes: { ...sample.data.attributes, status: 'inactive' } } } }),
    ).rejects.toThrow(/not active/);
  });

  it('linear: GraphQL viewer', async () => {
    const viewer = { id: '9cfb482a-81e3-4154-b5b9-2c805e70a02d', displayName: 'ann', name: 'Ann Lee', email: 'ann@example.com', avatarUrl: 'https://public.linear.app/avatar.png', active: true };
    const r = await run('linear', { [LINEAR_URL]: { data: { viewer } } });
    expect(r.calls[0].options).toMatchObject({ method: 'POST', body: { query: LINEAR_VIEWER_QUERY } });
    expect(r.user).toEqual(user({ id: '9cfb482a-81e3-4154-b5b9-2c805e70a02d', name: 'Ann Lee', username: 'ann', email: 'ann@example.com', avatarURL: 'https://public.linear.app/avatar.png' }));
    await expect(run('linear', { [LINEAR_URL]: { data: { viewer: { ...viewer, active: false } } } })).rejects.toThrow(/not active/);
    await expect(run('linear', { [LINEAR_URL]: { errors: [{ message: 'Authentication required' }] } })).rejects.toThrow();
  });

  it('notion: the bot owner, with the Notion-Version header', async () => {
    const sample = {
      object: 'user',
      id: '16d84278-ab0e-484c-9bdd-b35da3bd8905',
      name: 'Basalt integration',
      type: 'bot',
      bot: {
        owner: { type: 'user', user: { object: 'user', id: 'e79a0b74-3aba-4149-9f74-0bb5791a6ee6', name: 'Ann Lee', avatar_url: 'https://s3-us-west-2.amazonaws.com/public.notion-static.com/a.png', type: 'person', person: { email: 'ann@example.com' } } },
        workspace_name: "Ann's Notion",
      },
    };
    const r = await run('notion', { 'https://api.notion.com/v1/users/me': sample });
    expect(r.user).toEqual(user({ id: 'e79a0b74-3aba-4149-9f74-0bb5791a6ee6', name: 'Ann Lee', email: 'ann@example.com', avatarURL: 'https://s3-us-west-2.amazonaws.com/public.notion-static.com/a.png' }));
    expect(r.calls[0].options?.headers).toEqual({ 'Notion-Version': '2022-06-28' });
  });

  it('monday: GraphQL me, verified email, enabled accounts only', async () => {
    const me = { id: '12345678', enabled: true, name: 'Ann Lee', email: 'ann@example.com', is_verified: true, photo_small: 'https://files.monday.com/photos/small.png' };
    const r = await run('monday', { [MONDAY_URL]: { data: { me }, account_id: 1234 } });
    expect(r.calls[0].options).toMatchObject({ method: 'POST', body: { query: MONDAY_ME_QUERY } });
    expect(r.user).toEqual(user({ id: '12345678', name: 'Ann Lee', email: 'ann@example.com', avatarURL: 'https://files.monday.com/photos/small.png' }));
    const unverified = await run('monday', { [MONDAY_URL]: { data: { me: { ...me, is_verified: false } } } });
    expect(unverified.user.email).toBe('');
    await expect(run('monday', { [MONDAY_URL]: { data: { me: { ...me, enabled: false } } } })).rejects.toThrow(/not enabled/);
  });

  it('box: login is the email, active accounts only', async () => {
    const sample = { type: 'user', id: '11446498', name: 'Aaron Levie', login: 'ceo@example.com', status: 'active', avatar_url: 'https://www.box.com/api/avatar/large/181224' };
    const r = await run('box', { 'https://api.box.com/2.0/users/me': sample });
    expect(r.user).toEqual(user({ id: '11446498', name: 'Aaron Levie', email: 'ceo@example.com', avatarURL: 'https://www.box.com/api/avatar/large/181224' }));
    await expect(run('box', { 'https://api.box.com/2.0/users/me': { ...sample, status: 'inactive' } })).rejects.toThrow(/not active/);
  });

  it('lark: union_id under `data`', async () => {
    const sample = { code: 0, msg: 'success', data: { name: 'zhangsan', en_name: 'San Zhang', avatar_url: 'https://s1-imfile.feishucdn.com/avatar.jpg', open_id: 'ou_d1f1b0e4', union_id: 'on_98e5c4e2', email: 'zhangsan@example.com' } };
    const r = await run('lark', { 'https://open.feishu.cn/open-apis/authen/v1/user_info': sample });
    expect(r.user).toEqual(user({ id: 'on_98e5c4e2', name: 'zhangsan', avatarURL: 'https://s1-imfile.feishucdn.com/avatar.jpg' }));
  });

  it('trakt: required headers, with the app client id', async () => {
    const sample = {
      user: { username: 'sean', private: false, name: 'Sean Rudford', vip: true, ids: { slug: 'sean', uuid: 'b6589fc6ab0dc82cf12099d1c2d40ab994e8410c' }, images: { avatar: { full: 'https://walter.trakt.tv/images/users/000/000/001/avatars/large/cf7f.jpg' } } },
      account: { timezone: 'America/Los_Angeles' },
    };
    const r = await run('trakt', { 'https://api.trakt.tv/users/settings': sample }, { clientId: 'my-client-id' });
    expect(r.user).toEqual(user({ id: 'b6589fc6ab0dc82cf12099d1c2d40ab994e8410c', name: 'Sean Rudford', username: 'sean', avatarURL: 'https://walter.trakt.tv/images/users/000/000/001/avatars/large/cf7f.jpg' }));
    expect(r.calls[0].options?.headers).toMatchObject({ 'trakt-api-key': 'my-client-id', 'trakt-api-version': '2' });
  });

  it('wakatime: confirmed email, public photo', async () => {
    const sample = { data: { id: 'b0e5a0c2-58d5-4b3b-9e7c-6d0b2a7f1e55', display_name: 'Ann Lee', username: 'ann', email: 'ann@example.com', is_email_confirmed: true, is_email_public: false, photo: 'https://wakatime.com/photo/ann', photo_public: true } };
    const r = await run('wakatime', { 'https://wakatime.com/api/v1/users/current': sample });
    expect(r.user).toEqual(user({ id: 'b0e5a0c2-58d5-4b3b-9e7c-6d0b2a7f1e55', name: 'Ann Lee', username: 'ann', email: 'ann@example.com', avatarURL: 'https://wakatime.com/photo/ann' }));
    const hidden = await run('wakatime', { 'https://wakatime.com/api/v1/users/current': { data: { ...sample.data, is_email_confirmed: false, photo_public: false } } });
    expect(hidden.user.email).toBe('');
    expect(hidden.user.avatarURL).toBe('');
  });

  it('oidc: userinfo with a matching subject, else the id_token claims', async () => {
    const claims = { sub: 'abc', name: 'Ann', preferred_username: 'ann', email: 'ann@example.com', email_verified: true, picture: 'https://idp.example.com/a.png' };
    const fromClaims = await run('oidc', {}, { idTokenClaims: claims });
    expect(fromClaims.user).toEqual(user({ id: 'abc', name: 'Ann', username: 'ann', email: 'ann@example.com', avatarURL: 'https://idp.example.com/a.png' }));
    const fromUserInfo = await run('oidc2', { 'https://idp.example.com/userinfo': { ...claims, email_verified: false } }, { idTokenClaims: claims }, 'https://idp.example.com/userinfo');
    expect(fromUserInfo.user.email).toBe('');
    await expect(run('oidc3', { 'https://idp.example.com/userinfo': { ...claims, sub: 'other' } }, { idTokenClaims: claims }, 'https://idp.example.com/userinfo')).rejects.toThrow();
  });
});

describe('OAuth2 presets read untrusted JSON defensively', () => {
  /** A context answering `reply` for any URL, so only the mapping is under test. */
  function permissive(reply: unknown): UserInfoContext {
    return {
      accessToken: 'test-access-token',
      idTokenClaims: obj(reply),
      extra: {},
      clientId: 'client',
      async fetchJson() {
        return structuredClone(reply);
      },
    };
  }
  const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

  const hostile: unknown[] = [
    {},
    null,
    [],
    'not json',
    { id: null, data: null, user: null, response: null, viewer: null, me: null },
    { id: { nested: true }, name: ['x'], email: 42, verified: 'yes', email_verified: 'yes', data: [1], response: [null], picture: 7 },
  ];

  it('every field is a string (never undefined) or the preset refuses the answer', async () => {
    for (const [name, p] of PROVIDER_PRESETS) {
      for (const reply of hostile) {
        const url = p.userInfoURL || 'https://idp.example.com/userinfo';
        let result: Awaited<ReturnType<ProviderPreset['fetchUser']>> | undefined;
        try {
          result = await p.fetchUser(url, permissive(reply));
        } catch (err) {
          expect(err, `${name} ${JSON.stringify(reply)}`).toBeInstanceOf(Error);
          continue;
        }
        for (const field of ['id', 'name', 'username', 'email', 'avatarURL'] as const) {
          expect(typeof result.user[field], `${name}.${field} for ${JSON.stringify(reply)}`).toBe('string');
        }
        expect(typeof result.raw, name).toBe('object');
        expect(Array.isArray(result.raw), name).toBe(false);
      }
    }
  });

  it('numeric ids become strings', async () => {
    const numeric: [string, Record<string, Reply>][] = [
      ['gitlab', { 'https://gitlab.com/api/v4/user': { id: 77 } }],
      ['gitea', { 'https://gitea.com/api/v1/user': { id: 77 }, 'https://gitea.com/api/v1/user/emails': [] }],
      ['gitee', { 'https://gitee.com/api/v5/user': { id: 77 }, 'https://gitee.com/api/v5/emails': [] }],
      ['kakao', { 'https://kapi.kakao.com/v2/user/me': { id: 77 } }],
      ['strava', { 'https://www.strava.com/api/v3/athlete': { id: 77 } }],
      ['vk', { 'https://api.vk.com/method/users.get?fields=photo_max,screen_name&v=5.131': { response: [{ id: 77 }] } }],
      ['box', { 'https://api.box.com/2.0/users/me': { id: 77, status: 'active' } }],
      ['microsoft', { 'https://graph.microsoft.com/v1.0/me': { id: 77 } }],
      ['github', { 'https://api.github.com/user': { id: 77 }, 'https://api.github.com/user/emails': [] }],
    ];
    for (const [name, table] of numeric) {
      const r = await run(name, table);
      expect(r.user.id, name).toBe('77');
      expect(r.user, name).toEqual(user({ id: '77' }));
    }
  });
});
