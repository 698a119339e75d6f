/**
 * OAuth2 outside the auth collections: the provider redirect (`/api/oauth2-redirect`, which hands
 * `{state, code, error}` to the realtime client named by `state`), the list of known providers,
 * and the two pages the browser ends on.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { providerLogo } from '../../core/auth/oauth2/logos.js';
import { PROVIDER_PRESETS } from '../../core/auth/oauth2/presets/index.js';
import { readBody } from '../body.js';
import { queryOf } from '../context.js';
import { superusersOnly } from './guards.js';

const SUCCESS_PATH = '/_/#/auth/oauth2-redirect-success';
const FAILURE_PATH = '/_/#/auth/oauth2-redirect-failure';

/** The page behind `/_/`: it reads the hash the redirect left and says how the sign-in went. */
const LANDING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Basalt</title>
<style>body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;color:#222}main{max-width:28rem;padding:1.5rem;text-align:center}</style></head>
<body><main><h1 id="t">Basalt</h1><p id="m">The admin dashboard is not part of this release; the API is at <code>/api/</code>.</p></main>
<script>
var h = location.hash;
if (h === '#/auth/oauth2-redirect-success') { document.getElementById('t').textContent = 'Signed in'; document.getElementById('m').textContent = 'You can close this window and go back to the app.'; }
if (h === '#/auth/oauth2-redirect-failure') { document.getElementById('t').textContent = 'Sign-in failed'; document.getElementById('m').textContent = 'The app that started the sign-in is no longer waiting for it. Close this window and try again.'; }
</script></body></html>`;

export function registerOAuth2Routes(server: FastifyInstance, app: App): void {
  async function redirect(request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown>) {
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const message = { state: text(values.state), code: text(values.code), ...(text(values.error) ? { error: text(values.error) } : {}) };
    const delivered = await app.oauth2Redirects.deliver(message);
    // RFC 9110: 303 turns the provider's form POST into a GET; a GET keeps its method with 307.
    return reply.code(request.method === 'POST' ? 303 : 307).header('location', delivered ? SUCCESS_PATH : FAILURE_PATH).send();
  }

  server.get('/api/oauth2-redirect', async (request, reply) => redirect(request, reply, queryOf(request)));

  server.post('/api/oauth2-redirect', async (request, reply) => {
    const { data } = await readBody(request);
    return redirect(request, reply, { ...queryOf(request), ...data });
  });

  server.get('/api/collections/meta/oauth2-providers', superusersOnly, async () =>
    [...PROVIDER_PRESETS.values()].map((p) => ({ name: p.name, displayName: p.displayName, logo: providerLogo(p.name, p.displayName) })),
  );

  server.get('/_/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
      .header('cache-control', 'no-store')
      .send(LANDING_PAGE),
  );
}
