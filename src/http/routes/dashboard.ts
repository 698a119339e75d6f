/**
 * The admin dashboard at `/_/` (and `/_/` only: every other path keeps the API's JSON 404).
 * `/_` redirects to `/_/`; `/_/` is its index.html; `/_/assets/*` are Vite's content-hashed
 * files, cached for a year. The dashboard routes with the URL's fragment (`/_/#/collections`),
 * so no other path needs the index: an unknown `/_/…` is a plain 404.
 *
 * Every answer carries a strict Content-Security-Policy: the dashboard loads nothing from
 * elsewhere, runs no inline script and talks to this server only (through the SDK).
 */
import { skipSuccessLog } from '../request-log.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { chooseEncoding, DashboardFiles, type DashboardFile } from '../dashboard-files.js';

/**
 * `style-src 'self'` holds too: Svelte's styles are extracted into the built CSS file, and the
 * screens set no inline `style` attribute. `img-src data: blob:` is for previews of records' files.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** An OAuth2 sign-in's popup ends on `/_/#/auth/oauth2-redirect-…`: without a dashboard it still gets a word. */
const OAUTH2_NOTE = 'If an OAuth2 sign-in opened this window, it has finished: you can close it.\n';

const NOT_BUILT = `The admin dashboard is not built. Build it with \`npm run build\` in the Basalt package (\`npm ci\` builds it too), then reload this page.\n${OAUTH2_NOTE}`;

const TURNED_OFF = `The admin dashboard is turned off on this server (--no-dashboard).\n${OAUTH2_NOTE}`;

/** Static files touch no database: served during a restore too, so the dashboard can show it. */
/**
 * Served during a restore (the page must load to show it); its successful answers are not stored
 * in the logs (every page load fetches several files: noise among the requests that matter).
 */
const ROUTE = { config: { duringRestore: true }, ...skipSuccessLog } as const;

/** What a path inside the build may look like: Vite's names are letters, digits, `-`, `_` and `.`. */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*(?:[A-Za-z0-9_-][A-Za-z0-9._-]*)?$/;

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cross-origin-opener-policy', 'same-origin');
}

function plain(reply: FastifyReply, status: number, text: string): FastifyReply {
  return securityHeaders(reply).code(status).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(text);
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: DashboardFile): FastifyReply {
  securityHeaders(reply)
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('etag', file.etag)
    .type(file.type);
  if (file.gzip || file.br) reply.header('vary', 'Accept-Encoding');
  const inm = request.headers['if-none-match'];
  if (typeof inm === 'string' && inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) return reply.code(304).send();
  const encoding = chooseEncoding(request.headers['accept-encoding'], file);
  if (encoding) reply.header('content-encoding', encoding);
  return reply.code(200).send(encoding === 'br' ? file.br : encoding === 'gzip' ? file.gzip : file.body);
}

export function registerDashboardRoutes(server: FastifyInstance, app: App): void {
  const dir = app.config.dashboardDir;
  if (dir === '') {
    // --no-dashboard: a 404, in words at `/_/` itself; any other `/_/…` is the API's JSON 404 like every unknown path.
    server.get('/_/', ROUTE, async (_request, reply) => plain(reply, 404, TURNED_OFF));
    return;
  }
  const files = new DashboardFiles(dir);

  const serve = (request: FastifyRequest, reply: FastifyReply, path: string): FastifyReply => {
    let table;
    try {
      table = files.table(Date.now());
    } catch (err) {
      app.logger.error({ err: { message: (err as Error).message } }, 'the dashboard could not be loaded');
      // The reason (a path of the server's) goes to the log, not to the client.
      return plain(reply, 503, 'The admin dashboard could not be loaded: see the server log.\n');
    }
    if (!table) return plain(reply, 503, NOT_BUILT);
    const file = table.get(path === '' ? 'index.html' : path);
    return file ? sendFile(request, reply, file) : plain(reply, 404, 'Not found.\n');
  };

  // NB: the router ignores trailing slashes: `/_` and `/_/` are one route, and the raw URL tells them apart.
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const q = request.url.indexOf('?');
    const path = q === -1 ? request.url : request.url.slice(0, q);
    // Relative, so that it stays right behind a proxy that serves Basalt under a sub-path.
    if (path === '/_') return reply.code(301).header('location', `_/${q === -1 ? '' : request.url.slice(q)}`).send();
    // The raw path, not the router's decoded one: built file names are plain, so anything
    // encoded (`%2e%2e`, `%2f`, `%00`) or unusual is no file of ours.
    const file = path.slice('/_/'.length);
    return SAFE_PATH.test(file) ? serve(request, reply, file) : plain(reply, 404, 'Not found.\n');
  };
  server.get('/_/', ROUTE, handler);
  server.get('/_/*', ROUTE, handler);
}
