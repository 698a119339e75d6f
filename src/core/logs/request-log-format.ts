/**
 * The stored entry of a request (PocketBase's activity logger, apis/middlewares.go), formatted
 * from what the request path captured (log-batch.ts): level info, or error when the answer is
 * ≥ 400; message `METHOD url`; data `type: "request"`, `url`, `method`, `status`, `execTime` (ms),
 * `referer`, `userAgent`, `auth` (the collection of the signed-in record, "" for a guest),
 * `authId` (with `logs.logAuthId`), `userIP` and `remoteIP` (with `logs.logIP`), and
 * `error`/`details` of a failed request.
 *
 * This runs where the batch is written (the log writer's worker thread on SQLite), not on the
 * request path: a request only copies its raw fields into the write buffer.
 *
 * Unlike PocketBase, the URL keeps no secret: the values of query parameters that carry one
 * (file tokens, OAuth2 codes and states, passwords, keys) are dropped, their names kept.
 */

/** What the request path captures for a request's entry (http/request-log.ts), raw. */
export interface CapturedRequest {
  /** The app Clock's time the request ended, ms (set by LogService). */
  time: number;
  level: number;
  status: number;
  /** ms; NaN when unknown. */
  execTime: number;
  method: string;
  url: string;
  referer: string;
  userAgent: string;
  /** The signed-in record's collection name, "" for a guest. */
  auth: string;
  /** null: not logged (`logs.logAuthId` off, or a guest). */
  authId: string | null;
  /** null: not logged (`logs.logIP` off); both are logged or neither. */
  userIP: string | null;
  remoteIP: string | null;
  /** The error a failed request was answered with, or null. */
  error: string | null;
  /** JSON text of the error's details, or null. */
  details: string | null;
}

const SECRET_PARAM = /token|secret|passw|signature|api[_-]?key|^(?:code|state|key|sig|otp|otpid|mfaid)$/i;

/** Longest URL, method, referer and user agent stored (PocketBase's limits). */
export const cut = (value: string, max: number): string => (value.length > max ? value.slice(0, max) + '...' : value);

/** `url` with the values of secret-bearing query parameters removed (`?token=` stays, its value goes). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const parts = url.slice(q + 1).split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    const rawName = eq === -1 ? parts[i] : parts[i].slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      // A malformed name is kept as it is and still checked.
    }
    if (eq !== -1 && SECRET_PARAM.test(name)) {
      parts[i] = rawName + '=';
      changed = true;
    }
  }
  return changed ? url.slice(0, q + 1) + parts.join('&') : url;
}

/** Characters JSON.stringify escapes in a string, and surrogates (left to it, paired or not). */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A string as JSON text, as JSON.stringify writes it, without the ~80 ns its generic entry costs
 * on the common plain string (a stored request log makes about ten of these).
 */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** The message and the JSON text of `data` of a captured request's entry. */
export function formatRequest(r: CapturedRequest): { message: string; data: string } {
  const method = cut(r.method.toUpperCase(), 50);
  const url = cut(redactUrl(r.url), 3000);
  // The JSON text is written out key by key: this runs for every request stored.
  const q = jsonString;
  let data = `{"type":"request","execTime":${Number.isFinite(r.execTime) ? String(r.execTime) : 'null'},"url":${q(url)},"method":${q(method)},"status":${r.status}`;
  data += `,"referer":${q(cut(redactUrl(r.referer), 2000))},"userAgent":${q(cut(r.userAgent, 2000))}`;
  if (r.error !== null) {
    data += `,"error":${q(r.error)}`;
    if (r.details !== null) data += `,"details":${r.details}`;
  }
  data += `,"auth":${q(r.auth)}`;
  if (r.authId !== null) data += `,"authId":${q(r.authId)}`;
  // userIP is the client's address under the trusted-proxy settings (PocketBase's RealIP), remoteIP the socket's.
  if (r.userIP !== null) data += `,"userIP":${q(r.userIP)},"remoteIP":${q(r.remoteIP ?? '')}`;
  data += '}';
  let path = url;
  try {
    path = decodeURI(url);
  } catch {
    // PocketBase keeps the escaped URL when it cannot be unescaped.
  }
  return { message: `${method} ${path}`, data };
}
