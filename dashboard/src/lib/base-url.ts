/**
 * Where the API is, from where the dashboard is: the dashboard lives at `<base>/_/`, the API at
 * `<base>/api/`. `<base>` is the origin, or the origin and a sub-path when a proxy mounts Basalt
 * under one (`https://example.com/basalt/_/` → `https://example.com/basalt`).
 */
export function apiBaseUrl(location: { origin: string; pathname: string }): string {
  const at = location.pathname.lastIndexOf('/_/');
  return location.origin + (at === -1 ? '' : location.pathname.slice(0, at));
}
