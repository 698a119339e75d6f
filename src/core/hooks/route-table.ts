/**
 * Custom routes (`routerAdd`): method, path pattern in PocketBase's syntax (`/api/shop/{cart}`,
 * `{rest...}` for the remainder), handler and middlewares. http/ serves them next to the built-in
 * routes; this table is what it serves from, replaced whole when hook files reload.
 */
import type { HookHandler } from './hook.js';
import type { RouteEvent } from './hook-events.js';

export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** A middleware may carry a body limit (`bodyLimit(n)`): the body is read with the smallest one. */
export type RouteMiddleware = HookHandler<RouteEvent> & { readonly bodyLimit?: number };

export interface CustomRoute {
  method: RouteMethod;
  path: string;
  handler: (e: RouteEvent) => unknown;
  middlewares: readonly RouteMiddleware[];
  /** Where it was registered (a hook file), for error messages. */
  source: string;
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}$/;

/** Checks a route's method and path; returns the normalised method. Throws with a message naming the route. */
export function checkRoute(method: string, path: string): RouteMethod {
  const upper = String(method).toUpperCase();
  if (!(ROUTE_METHODS as readonly string[]).includes(upper)) throw new Error(`routerAdd: unsupported method "${method}" (one of ${ROUTE_METHODS.join(', ')})`);
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 1000) throw new Error(`routerAdd: the path must start with "/" (got ${JSON.stringify(path)})`);
  if (path.startsWith('/_/')) throw new Error(`routerAdd: ${path}: /_/ is reserved for the dashboard`);
  const segments = path.split('/').slice(1);
  const names = new Set<string>();
  segments.forEach((segment, i) => {
    if (!segment.includes('{') && !segment.includes('}')) return;
    const m = PARAM.exec(segment);
    if (!m) throw new Error(`routerAdd: ${path}: a path parameter must be a whole segment, {name} or {name...}`);
    if (m[2] && i !== segments.length - 1) throw new Error(`routerAdd: ${path}: {${m[1]}...} must be the last segment`);
    if (names.has(m[1]!)) throw new Error(`routerAdd: ${path}: the parameter {${m[1]}} appears twice`);
    names.add(m[1]!);
  });
  return upper as RouteMethod;
}

/** The pattern in find-my-way's syntax (`:name`, `*`), and the name of the wildcard parameter, if any. */
export function routerPattern(path: string): { pattern: string; rest: string | null } {
  let rest: string | null = null;
  const pattern = path
    .split('/')
    .map((segment) => {
      const m = PARAM.exec(segment);
      if (!m) return segment.replaceAll(':', '::');
      if (m[2]) {
        rest = m[1]!;
        return '*';
      }
      return `:${m[1]}`;
    })
    .join('/');
  return { pattern, rest };
}

/** A concrete path the pattern matches (each parameter a placeholder): to find a built-in route it would shadow. */
export function samplePath(path: string): string {
  return path
    .split('/')
    .map((segment) => (PARAM.test(segment) ? 'x_basalt_param' : segment))
    .join('/');
}
