/**
 * A real OpenID Connect provider on loopback (the npm `oidc-provider`), for end-to-end OAuth2
 * tests: discovery, authorization code with PKCE, signed id_tokens with the nonce, userinfo.
 * Logging in is automatic as the account named by `loginAs`; `authorize()` plays the browser,
 * following redirects (with cookies) until the provider sends it back to the redirect URL.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name?: string;
  preferred_username?: string;
  picture?: string;
}

export interface OidcServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, TestAccount>;
  /** Other pages the provider's own origin serves, by path (avatars the provider hosts itself). */
  pages: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /** The account the next authorization logs in as. */
  loginAs(sub: string): void;
  /** Plays the browser from `authURL` to the redirect; returns the redirect's query parameters. */
  authorize(authURL: string, redirectURL: string): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export async function startOidcServer(redirectURIs: string[]): Promise<OidcServer> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, TestAccount>();
  const pages: OidcServer['pages'] = new Map();
  let current = '';
  const clientId = 'basalt-test';
  const clientSecret = 'basalt-test-secret-that-is-long-enough';

  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: redirectURIs, token_endpoint_auth_method: 'client_secret_post' }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username', 'picture'] },
    scopes: ['openid', 'email', 'profile'],
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['oidc-test-cookie-key'] },
    pkce: { required: () => true },
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ ...account }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  provider.proxy = false;
  const callback = provider.callback();

  handler = (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const page = pages.get(url.pathname);
    if (page) return page(req, res);
    if (url.pathname.startsWith('/interaction/')) {
      // The "login page": log in as the chosen account and consent to what the client asked.
      void (async () => {
        try {
          const details = await provider.interactionDetails(req, res);
          const accountId = current;
          const grant = new provider.Grant({ accountId, clientId });
          grant.addOIDCScope(String(details.params.scope ?? 'openid'));
          const grantId = await grant.save();
          await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
        } catch (err) {
          res.statusCode = 500;
          res.end(String(err));
        }
      })();
      return;
    }
    callback(req, res);
  };

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    pages,
    loginAs(sub) {
      current = sub;
    },
    async authorize(authURL, redirectURL) {
      const jar = new Map<string, string>();
      let next = new URL(authURL.endsWith('&redirect_uri=') ? authURL + encodeURIComponent(redirectURL) : authURL);
      for (let hop = 0; hop < 20; hop++) {
        if (next.href.startsWith(redirectURL)) return next.searchParams;
        const res = await fetch(next, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
        for (const cookie of res.headers.getSetCookie()) {
          const [pair] = cookie.split(';');
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        const location = res.headers.get('location');
        if (!location) throw new Error(`the provider stopped at ${next.pathname} with ${res.status}: ${(await res.text()).slice(0, 300)}`);
        next = new URL(location, next);
      }
      throw new Error('too many redirects');
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
