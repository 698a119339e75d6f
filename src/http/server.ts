/**
 * The HTTP server: Fastify with PocketBase-compatible request and response handling. Every
 * route lives in routes/; this file sets up body parsing, auth resolution, `fields` picking of
 * every 2xx JSON response, one log line per request and the error shape.
 */
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { ApiError } from '../core/errors.js';
import { parseJsonText } from './body.js';
import { callerOf, hasCredentials, resolveCredentials } from './context.js';
import { superuserIpRefusal } from './superuser-ips.js';
import { registerMultipart } from './multipart.js';
import { rateLimitHook, UNMATCHED_ROUTE } from './rate-limit.js';
import { restoringError, wrapRouteHandlers, type InFlight } from './route-handlers.js';
import { replicaClientsOf } from './replica-clients.js';
import { RouteIdempotency } from './idempotency.js';
import { errorHandler } from './error-handler.js';
import { parseFields, type FieldsPicker } from '../core/records/fields-picker.js';

declare module 'fastify' {
  interface FastifyRequest {
    fieldsPicker: FieldsPicker | null;
    /** A custom (hook) route's pattern, for the metrics: Fastify sees those requests as not found. */
    metricsRoute: string | null;
  }
  interface FastifyInstance {
    /** Handlers still running: a graceful shutdown waits for them before closing the database. */
    inFlight: InFlight;
  }
}
import { registerCollectionRoutes } from './routes/collections.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerApiKeyRoutes } from './routes/api-keys.js';
import { registerOAuth2Routes } from './routes/oauth2.js';
import { registerRecordAuthEmailRoutes } from './routes/record-auth-email.js';
import { registerRecordAuthRoutes } from './routes/record-auth.js';
import { registerSettingsRoutes } from './routes/settings.js';
import { registerTotpRoutes } from './routes/totp.js';
import { registerRecordRoutes } from './routes/records.js';
import { registerRealtimeRoutes } from './routes/realtime.js';
import { registerBatchRoutes } from './routes/batch.js';
import { registerFileRoutes } from './routes/files.js';
import { serveCustomRoutes, watchBuiltInRoutes } from './custom-routes.js';
import { registerCronRoutes } from './routes/crons.js';
import { registerSqlRoutes } from './routes/sql.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { registerTransitionRoutes } from './routes/transitions.js';
import { registerLogRoutes } from './routes/logs.js';
import { storeRequestLog } from './request-log.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerBackupRoutes } from './routes/backups.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { endRequestSpan, startRequestSpan } from './request-span.js';

export interface ServerOptions {
  /** Log one line per request. @default true */
  requestLog?: boolean;
}

export async function buildServer(app: App, options: ServerOptions = {}): Promise<FastifyInstance> {
  const { config, logger } = app;
  const server = Fastify({
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    logger: false,
    // Record ids and collection names are case-sensitive; trailing slashes are tolerated.
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
    // Errors raised before routing (malformed URL encoding…) keep the standard shape too.
    frameworkErrors: (_error, _request, reply) => {
      (reply as import('fastify').FastifyReply).code(400).type('application/json').send(new ApiError(400).toJSON());
    },
  });

  const idempotency = new RouteIdempotency(app);
  const replicas = app.db.replicas ? { routing: app.db.replicas, clients: (request: FastifyRequest) => replicaClientsOf(app, request) } : null;
  server.decorate('inFlight', wrapRouteHandlers(server, idempotency, app.tracing, () => app.backups.restoring, replicas));

  // JSON: an empty body is {} (the SDK sends Content-Type: application/json on body-less POSTs).
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, parseJsonText(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  await server.register(formbody, { bodyLimit: config.bodyLimit });
  registerMultipart(server);

  // Hooks use callbacks, not async functions: each async hook costs a promise per request.
  server.decorateRequest('basaltAuth', null);
  server.decorateRequest('basaltApiKey', null);
  server.decorateRequest('basaltCaller', null);
  server.decorateRequest('basaltInstaller', false);
  server.decorateRequest('idempotency', null);
  server.decorateRequest('basaltSpan', null);
  const tracing = app.tracing;

  // `fields` applies to every successful JSON response (spec §1.1). It is parsed before the
  // handler runs, so a bad value is a 400 before anything is written.
  server.decorateRequest('fieldsPicker', null);

  // One onRequest hook for everything a request needs before its handler (each hook costs every
  // request): the `fields` picker, the credentials (and the superuser IP allowlist), then the
  // rate limits. With tracing on, the request's span starts first.
  const rateLimit = rateLimitHook(app);
  server.addHook('onRequest', (request, reply, done) => {
    if (tracing) startRequestSpan(tracing, request);
    // While a backup is being restored, refused before anything reads the database (credentials
    // included); the handler wrapper checks again (route-handlers.ts).
    if (app.backups.restoring && request.routeOptions.config?.duringRestore !== true) return done(restoringError());
    const raw = (request.query as Record<string, unknown> | undefined)?.fields;
    try {
      if (typeof raw === 'string' && raw !== '') request.fieldsPicker = parseFields(raw);
    } catch (err) {
      return done(err as Error);
    }
    if (!hasCredentials(request)) return rateLimit(request, reply, done);
    resolveCredentials(app, request).then(() => {
      const refused = superuserIpRefusal(app, request, callerOf(request).can.administers);
      if (refused) return done(refused);
      rateLimit(request, reply, done);
    }, done);
  });

  // One onResponse hook for both request logs — the pino line (`--log-level`, unless turned off)
  // and the stored entry (`/api/logs`, when the log settings want one; queued, never awaited) —
  // and the metrics (when configured).
  server.decorateRequest('basaltError', null);
  server.decorateRequest('skipSuccessLog', false);
  server.decorateRequest('metricsRoute', null);
  const lineLog = options.requestLog !== false;
  const metrics = app.metrics.enabled ? app.metrics : null;
  server.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the URL: label values must stay few whatever clients send.
    if (metrics) metrics.httpRequest(request.routeOptions.url ?? request.metricsRoute ?? UNMATCHED_ROUTE, request.method, reply.statusCode, reply.elapsedTime / 1000);
    if (lineLog) {
      // Path only: query strings may carry tokens (file tokens, OAuth2 codes).
      const url = request.url;
      const q = url.indexOf('?');
      const entry = {
        method: request.method,
        path: q === -1 ? url : url.slice(0, q),
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      };
      // app.logger always has `access` (storingLogger): the line is never stored as an app log.
      logger.access!(entry);
    }
    storeRequestLog(app, request, reply);
    if (tracing) endRequestSpan(tracing, request, reply);
    done();
  });

  server.setErrorHandler(errorHandler(logger, (err) => app.db.classifyError(err)));
  const builtIns = watchBuiltInRoutes(server);
  registerHealthRoutes(server, app);
  registerCollectionRoutes(server, app);
  registerRecordRoutes(server, app);
  registerTransitionRoutes(server, app);
  registerRealtimeRoutes(server, app);
  registerBatchRoutes(server, app);
  registerRecordAuthRoutes(server, app);
  registerRecordAuthEmailRoutes(server, app);
  registerTotpRoutes(server, app);
  registerSettingsRoutes(server, app);
  registerApiKeyRoutes(server, app);
  registerOAuth2Routes(server, app);
  registerFileRoutes(server, app);
  registerCronRoutes(server, app);
  registerSqlRoutes(server, app);
  registerJobRoutes(server, app);
  registerWebhookRoutes(server, app);
  registerLogRoutes(server, app);
  registerBackupRoutes(server, app);
  registerMetricsRoutes(server, app);
  registerDashboardRoutes(server, app);
  // Last: hook code's routes are served where no built-in route matched (and never shadow one).
  serveCustomRoutes(server, app, builtIns, idempotency);
  return server;
}
