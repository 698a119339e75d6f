/**
 * Outgoing HTTP requests that cannot be turned against the machine's own network (SSRF): a host
 * must resolve to public unicast addresses only (`public-address.ts`), unless it is a host and
 * port a superuser configured explicitly (`trustedHosts`: an identity provider on the intranet,
 * or loopback in development). The check runs when each connection is made (undici's
 * `connect.lookup`), so a DNS answer that changes between check and connect (rebinding) is
 * caught too; redirects are not followed. Plain http is allowed only to loopback. Bodies are
 * capped and requests time out.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, fetch as undiciFetch, request as undiciRequest } from 'undici';
import { isLoopbackHost } from '../core/net/loopback.js';
import { isPublicAddress } from './public-address.js';
import type { Span, Tracing } from '../core/tracing/tracing.js';

export { isLoopbackHost, isPublicAddress };

/** Whether an IP address is anything but public unicast (loopback, private, link-local, reserved…). */
export const isPrivateAddress = (address: string): boolean => !isPublicAddress(address);

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * The `host:port` a URL connects to (lowercase, IPv6 in brackets, the scheme's default port when
 * none is written): the unit of trust, so trusting `idp.internal` for its https endpoints does not
 * open its other services (`idp.internal:6379`) to a URL a provider or user supplies.
 */
export function hostAndPort(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.hostname.toLowerCase()}:${u.port || DEFAULT_PORTS[u.protocol] || ''}`;
}

export class OutgoingRequestRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutgoingRequestRefused';
  }
}

export interface GuardOptions {
  /** `host:port` pairs (see {@link hostAndPort}) that may resolve to private addresses. */
  trustedHosts: ReadonlySet<string>;
  /** @default 15000 */
  timeoutMs?: number;
  /** Largest response body read. @default 1 MiB */
  maxBytes?: number;
  /** Past `maxBytes`, keep the first `maxBytes` and stop reading instead of failing (a delivery log keeps the start of an answer). @default false */
  truncate?: boolean;
  /** Plain http is also allowed to the trusted hosts (intranet webhook receivers), not only to loopback. @default false */
  httpToTrusted?: boolean;
  /**
   * A CLIENT span per request, child of the active span, with the W3C `traceparent` sent along
   * (README "Tracing"). @default null (tracing off)
   */
  tracing?: Tracing | null;
}

/**
 * Runs `send` in a CLIENT span (HTTP semantic conventions) with `traceparent` injected in
 * `headers`; the URL is recorded without its query string (it may carry codes or secrets).
 */
function traced<T extends { status: number }>(tracing: Tracing, method: string, url: URL, headers: Record<string, string>, send: () => Promise<T>): Promise<T> {
  const attributes = {
    'http.request.method': method,
    'server.address': url.hostname,
    'server.port': Number(url.port || DEFAULT_PORTS[url.protocol] || 0),
    'url.full': `${url.protocol}//${url.host}${url.pathname}`,
  };
  return tracing.inSpan(method, { kind: 'client', attributes }, async (span: Span) => {
    tracing.inject(headers);
    const answer = await send();
    span.setAttribute('http.response.status_code', answer.status);
    if (answer.status >= 400) {
      span.setAttribute('error.type', String(answer.status));
      tracing.fail(span);
    }
    return answer;
  });
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A lookup that refuses names resolving to any non-public address (all of them are checked, not the first). */
function publicOnlyLookup(hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void {
  dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    if (list.some((a) => !isPublicAddress(a.address))) {
      return callback(Object.assign(new OutgoingRequestRefused(`refusing to connect to ${hostname}: it resolves to a private or reserved address`), { code: 'EREFUSED_PRIVATE' }), []);
    }
    if (options.all) return callback(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
}

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The SSRF guard of one set of options: checks a URL and gives the dispatcher (connection pool) that applies its trust. */
function createGuard(options: GuardOptions): (url: URL) => Agent {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const agentOptions = { headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
  // NB: two pools. The lookup sees only a host name, not the port, so trust is decided per
  // request and the request goes to the pool that applies it; pools are keyed by origin, so a
  // connection made for a trusted host:port is never reused for another port.
  const guarded = new Agent({ connect: { lookup: publicOnlyLookup as never, timeout: timeoutMs }, ...agentOptions });
  let trusting: Agent | undefined;
  return (url) => {
    const trusted = options.trustedHosts.has(hostAndPort(url));
    const plainHttpAllowed = isLoopbackHost(url.hostname) || (options.httpToTrusted === true && trusted);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainHttpAllowed)) {
      throw new OutgoingRequestRefused(`refusing ${url.protocol}// request to ${url.host}: only https (or http to loopback${options.httpToTrusted ? ' or an allowed host' : ''}) is allowed`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Literal addresses never go through DNS: judge them here.
    if (!trusted && isIP(host) && !isPublicAddress(host)) {
      throw new OutgoingRequestRefused(`refusing to connect to ${url.host}: a private or reserved address`);
    }
    return trusted ? (trusting ??= new Agent({ connect: { timeout: timeoutMs }, ...agentOptions })) : guarded;
  };
}

/** A fetch bound to one set of trusted hosts. */
export function createGuardedFetch(options: GuardOptions): FetchLike {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxBytes ?? 1 << 20;
  const guard = createGuard(options);
  const tracing = options.tracing;
  const send: FetchLike = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const dispatcher = guard(url);
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const response = await undiciFetch(url, { ...(init as object), signal, dispatcher, redirect: 'manual' } as never);
    // Read at most maxBytes: a hostile endpoint cannot exhaust memory.
    const body = await readCapped(response as unknown as Response, maxBytes, options.truncate === true);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers as unknown as Headers });
  };
  if (!tracing) return send;
  return (input, init = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const headers = Object.fromEntries(new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined)).entries());
    return traced(tracing, (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(), url, headers, () => send(input, { ...init, headers }));
  };
}

/** What a guarded POST answered: status, headers, the first `maxBytes` of the body. */
export interface GuardedAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A POST through the same guard as {@link createGuardedFetch}, on undici's request API: a
 * fraction of fetch's cost per call (no WHATWG streams, no abort-signal plumbing per request),
 * for callers that send many small requests (webhook deliveries). The whole exchange is bounded
 * by `timeoutMs` (and `signal`); at most `maxBytes` of the answer is kept, the rest is dropped.
 */
export function createGuardedPost(options: GuardOptions): (url: string, headers: Record<string, string>, body: string, signal?: AbortSignal) => Promise<GuardedAnswer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxBytes ?? 1 << 20;
  const guard = createGuard(options);
  const tracing = options.tracing;
  const post = async (target: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<GuardedAnswer> => {
    const url = new URL(target);
    const dispatcher = guard(url);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await undiciRequest(url, { method: 'POST', headers, body, dispatcher, signal: controller.signal });
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const room = maxBytes - total;
        if (chunk.byteLength >= room) {
          chunks.push(chunk.subarray(0, room));
          total = maxBytes;
          // The rest is not read: dropping the stream closes the connection.
          res.body.destroy();
          break;
        }
        chunks.push(chunk);
        total += chunk.byteLength;
      }
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
      return { status: res.statusCode, headers: out, body: Buffer.concat(chunks) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  };
  if (!tracing) return post;
  return (target, headers, body, signal) => {
    const out = { ...headers };
    return traced(tracing, 'POST', new URL(target), out, () => post(target, out, body, signal));
  };
}

async function readCapped(response: Response, maxBytes: number, truncate: boolean): Promise<Uint8Array | null> {
  if (!response.body || [204, 304].includes(response.status)) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes && truncate) {
      chunks.push(value.subarray(0, value.byteLength - (total - maxBytes)));
      await reader.cancel();
      break;
    }
    if (total > maxBytes) {
      await reader.cancel();
      throw new OutgoingRequestRefused(`response body over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
