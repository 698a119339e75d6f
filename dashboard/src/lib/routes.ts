/**
 * The dashboard's routes, in the URL's fragment (`/_/#/collections/posts?page=2`): the server
 * serves one page and never needs to know them.
 */
export type RouteName =
  | 'home'
  | 'installer'
  | 'signIn'
  | 'collections'
  | 'logs'
  | 'settings'
  | 'apiKeys'
  | 'jobs'
  | 'webhooks'
  | 'workflow'
  | 'collectionNew'
  | 'collectionEdit'
  | 'collectionsImportExport'
  | 'collectionApi'
  | 'oauth2Success'
  | 'oauth2Failure'
  | 'notFound';

export interface Route {
  readonly name: RouteName;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The fragment's path, without `#` and query. */
  readonly path: string;
}

/** Who may open a route: signed-in superusers, guests only (signing in), or anyone. */
export type Access = 'superuser' | 'guest' | 'anyone';

const TABLE: { pattern: RegExp; name: RouteName; keys: string[]; access: Access }[] = [
  { pattern: /^\/?$/, name: 'home', keys: [], access: 'anyone' },
  // PocketBase prints `pbinstal` (≤ 0.3x) and its newer dashboard reads `pbinstall`: both work.
  { pattern: /^\/pbinstall?\/([^/]+)$/, name: 'installer', keys: ['token'], access: 'guest' },
  { pattern: /^\/login$/, name: 'signIn', keys: [], access: 'guest' },
  { pattern: /^\/collections(?:\/([^/]+))?$/, name: 'collections', keys: ['collection'], access: 'superuser' },
  { pattern: /^\/logs$/, name: 'logs', keys: [], access: 'superuser' },
  { pattern: /^\/settings(?:\/([^/]+))?$/, name: 'settings', keys: ['section'], access: 'superuser' },
  { pattern: /^\/api-keys$/, name: 'apiKeys', keys: [], access: 'superuser' },
  { pattern: /^\/jobs$/, name: 'jobs', keys: [], access: 'superuser' },
  { pattern: /^\/webhooks$/, name: 'webhooks', keys: [], access: 'superuser' },
  { pattern: /^\/collections\/([^/]+)\/workflow$/, name: 'workflow', keys: ['collection'], access: 'superuser' },
  // Not `/collections/new`: a collection may be called "new".
  { pattern: /^\/new-collection$/, name: 'collectionNew', keys: [], access: 'superuser' },
  { pattern: /^\/collections\/([^/]+)\/edit$/, name: 'collectionEdit', keys: ['collection'], access: 'superuser' },
  { pattern: /^\/collections\/([^/]+)\/api$/, name: 'collectionApi', keys: ['collection'], access: 'superuser' },
  { pattern: /^\/import-export$/, name: 'collectionsImportExport', keys: [], access: 'superuser' },
  { pattern: /^\/auth\/oauth2-redirect-success$/, name: 'oauth2Success', keys: [], access: 'anyone' },
  { pattern: /^\/auth\/oauth2-redirect-failure$/, name: 'oauth2Failure', keys: [], access: 'anyone' },
];

export function accessOf(name: RouteName): Access {
  return TABLE.find((r) => r.name === name)?.access ?? 'anyone';
}

/** The route of a `location.hash` (`#/collections/posts?filter=…`). */
export function matchRoute(hash: string): Route {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = text.indexOf('?');
  const path = q === -1 ? text : text.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : text.slice(q + 1));
  for (const r of TABLE) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((key, i) => {
      const value = m[i + 1];
      if (value !== undefined) params[key] = safeDecode(value);
    });
    return { name: r.name, params, query, path };
  }
  return { name: 'notFound', params: {}, query, path };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `#/path?query` for links; empty query values are left out. */
export function hrefOf(path: string, query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}
