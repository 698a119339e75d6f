/**
 * The server's field errors of a nested body (settings: `{meta: {appName: {code, message}}}`,
 * rate-limit rules by index) as flat dotted paths (`meta.appName`, `rateLimits.rules.0.label`),
 * so a form can put each one next to its input. `errors.ts`'s `fieldErrors` reads only the top level.
 */
import { ClientResponseError } from 'pocketbase';

/** `{path: message}` of every `{code, message}` leaf under `data`. */
export function flattenErrors(data: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (!data || typeof data !== 'object') return out;
  const node = data as Record<string, unknown>;
  // A leaf: PocketBase's {code, message} (with optional params), not a section that has a field named "message".
  if (typeof node.message === 'string' && typeof node.code === 'string') {
    out[prefix] = node.message;
    return out;
  }
  for (const [key, value] of Object.entries(node)) Object.assign(out, flattenErrors(value, prefix === '' ? key : `${prefix}.${key}`));
  return out;
}

/** The flattened field errors of a request's error, or `{}` for anything but a server answer. */
export function nestedFieldErrors(err: unknown): Record<string, string> {
  if (!(err instanceof ClientResponseError)) return {};
  return flattenErrors(err.response?.data);
}
