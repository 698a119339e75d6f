/**
 * OAuth2 outside the auth collections: the provider redirect (`/api/oauth2-redirect`, which hands
 * `{state, code, error}` to the realtime client named by `state`) and the list of known providers.
 * The browser ends on the dashboard's two pages (`/_/#/auth/oauth2-redirect-…`, routes/dashboard.ts).
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
}
