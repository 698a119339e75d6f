/**
 * Serves the routes hook code adds (`routerAdd`) next to the built-in ones. Built-in routes
 * always win: a custom route is looked up only for requests no built-in route matched, and one
 * whose path a built-in route already serves is refused when it is registered. The table can
 * change at run time (hook files reloading in `--dev`); requests already running keep theirs.
 * Custom routes get what the built-in ones get: the caller's auth, rate limits, the request log,
 * the standard error shape. Webhook receivers (`app.webhooks.receive`) are POST routes of the
 * same table whose body is read raw (http/webhook-receivers.ts).
 */
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { App } from '../core/app.js';
import { ApiError } from '../core/errors.js';
import { RouteEvent } from '../core/hooks/hook-events.js';
import { Hook } from '../core/hooks/hook.js';
import { routerPattern, samplePath, type CustomRoute } from '../core/hooks/route-table.js';
import { isReceiverRoute } from '../core/webhooks/webhook-receiver.js';
import { readBody } from './body.js';
import { originOf, sendHookResponse } from './request-origin.js';
import { readReceiverBodies, runReceiver } from './webhook-receivers.js';
import type { RouteIdempotency } from './idempotency.js';
import { IDEMPOTENCY_HEADER } from '../core/idempotency/idempotency-key.js';
import { runInRequestSpan } from './request-span.js';

interface Matched {
  route: CustomRoute;
  rest: string | null;
}

type Router = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

const noop = () => {};
/** Methods whose custom routes take an Idempotency-Key. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const tooLarge = () => new ApiError(413, 'Request entity too large.');

/** Call before the built-in routes are registered: it records them, to refuse custom routes that collide. */
export function watchBuiltInRoutes(server: FastifyInstance): Router {
  const builtIns: Router = FindMyWay({ ignoreTrailingSlash: true });
  server.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) builtIns.on(method as HTTPMethod, route.url, noop);
  });
  return builtIns;
}

/** Call after the built-in routes: guards the route table and serves it from the not-found handler. */
export function serveCustomRoutes(server: FastifyInstance, app: App, builtIns: Router, idempotency: RouteIdempotency): void {
  app.hooks.setRouteGuard((routes) => {
    for (const r of routes) {
      const what = isReceiverRoute(r) ? 'webhooks.receive' : 'routerAdd';
      if (builtIns.find(r.method, samplePath(r.path))) throw new Error(`${what} ${r.method} ${r.path} (${r.source}): a built-in route already serves this path`);
    }
  });

  let version = -1;
  let router: Router = FindMyWay();
  const current = (): Router => {
    if (version === app.hooks.routesVersion) return router;
    const next: Router = FindMyWay({ ignoreTrailingSlash: true });
    for (const route of app.hooks.routes) {
      const { pattern, rest } = routerPattern(route.path);
      next.on(route.method, pattern, noop, { route, rest } satisfies Matched);
    }
    router = next;
    version = app.hooks.routesVersion;
    return router;
  };

  const lookup = (request: FastifyRequest) => {
    const q = request.url.indexOf('?');
    return current().find(request.method as HTTPMethod, q === -1 ? request.url : request.url.slice(0, q));
  };
  server.decorateRequest('webhookDelivery', null);
  const readReceivers = readReceiverBodies(app, (request) => {
    const route = (lookup(request)?.store as Matched | undefined)?.route;
    return route && isReceiverRoute(route) ? route.receiver : null;
  });

  // NB: Fastify runs every lifecycle hook given here on the not-found context (its types list only
  // preValidation and preHandler): the raw-body reader then costs the requests of custom routes only.
  const notFoundOptions = { preParsing: readReceivers } as object as Parameters<FastifyInstance['setNotFoundHandler']>[0];
  server.setNotFoundHandler(notFoundOptions, async (request: FastifyRequest, reply: FastifyReply) => {
    // A delivery read for a receiver is answered by it, even if a --dev reload replaced the table since.
    const delivery = request.webhookDelivery;
    if (delivery) return server.inFlight.track(() => runInRequestSpan(app.tracing, request, null, () => runReceiver(app, delivery, request, reply)), request);
    const found = lookup(request);
    if (!found) return reply.code(404).send(new ApiError(404).toJSON());
    const { route, rest } = found.store as Matched;
    request.metricsRoute = route.path;
    // The table changed between reading the body and now: the sender retries.
    if (isReceiverRoute(route)) return reply.code(503).send(new ApiError(503).toJSON());
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(found.params)) {
      if (v === undefined) continue;
      params[k === '*' && rest ? rest : k] = v;
    }
    // Counted like the built-in handlers: a shutdown waits for it before closing the database.
    // Writes take an Idempotency-Key, as the built-in record routes do.
    if (WRITE_METHODS.has(request.method) && request.headers[IDEMPOTENCY_HEADER] !== undefined) {
      return server.inFlight.track(() => runInRequestSpan(app.tracing, request, route.path, () => idempotency.run(request, reply, () => runRoute(app, route, params, request, reply, idempotency), true)), request);
    }
    return server.inFlight.track(() => runInRequestSpan(app.tracing, request, route.path, () => runRoute(app, route, params, request, reply)), request);
  });
}

async function bodyOf(route: CustomRoute, request: FastifyRequest, app: App): Promise<unknown> {
  const limits = route.middlewares.map((m) => m.bodyLimit).filter((n): n is number => typeof n === 'number');
  const limit = Math.min(app.config.bodyLimit, ...limits);
  const length = Number(request.headers['content-length'] ?? 0);
  if (length > limit) throw tooLarge();
  if (request.multipartPending) {
    const { data, files } = await readBody(request, { limit });
    return { ...data, files };
  }
  return request.body ?? {};
}

async function runRoute(app: App, route: CustomRoute, params: Record<string, string>, request: FastifyRequest, reply: FastifyReply, idempotency?: RouteIdempotency): Promise<unknown> {
  const origin = originOf(app, request, params);
  const event = new RouteEvent(app.hookApp(null), origin, await bodyOf(route, request, app));
  let result: unknown;
  const chain = new Hook<RouteEvent>();
  for (const mw of route.middlewares) chain.bind(mw);
  await chain.trigger(event, async (e) => {
    result = await route.handler(e);
  });
  // The answer is stored before it is sent (custom routes have no route-level onSend hook).
  if (idempotency && request.idempotency?.claim) {
    return idempotency.sendCustomAnswer(request, reply, origin.response ?? (result === undefined ? { status: 204, body: undefined } : { status: 200, body: result }));
  }
  if (sendHookResponse(origin, reply)) return reply;
  // A plain return value is the JSON answer; nothing at all, a 204.
  if (result === undefined) return reply.code(204).send();
  return result;
}
