/**
 * The WebhookTransport port over the guarded fetch: webhook receivers must resolve to public
 * addresses unless their `host:port` is allowed (`--webhook-allow`, e.g. an intranet service or
 * a receiver on loopback in development and tests), to which plain http is then allowed too.
 * Redirects are not followed (a 3xx is an answer like any other); at most `logBytes` of an
 * answer are read, the rest is dropped.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { OutgoingResponse, WebhookTransport } from '../core/ports.js';
import type { Tracing } from '../core/tracing/tracing.js';
import { createGuardedPost, hostAndPort, isLoopbackHost, isPublicAddress } from './guarded-fetch.js';

/** How long saving an endpoint waits for its host name to resolve. */
const LOOKUP_TIMEOUT_MS = 3000;

export interface WebhookTransportOptions {
  /** `host:port` pairs that may be private (the `--webhook-allow` list). */
  allow: readonly string[];
  /** One attempt's time limit, connecting included. @default 15000 */
  timeoutMs?: number;
  /** How much of an answer's body is kept. @default 4096 */
  logBytes?: number;
  /** A CLIENT span per delivery with `traceparent` sent (README "Tracing"). @default null */
  tracing?: Tracing | null;
}

/** `host`, `host:port`, `[v6]:port` → the `host:port` form hostAndPort() gives (port 443 when none: https). */
export function normaliseAllowEntry(entry: string): string {
  const text = entry.trim().toLowerCase();
  if (text === '' || /[/\s@?#]/.test(text)) throw new Error(`invalid webhook allow entry "${entry}": use HOST or HOST:PORT`);
  const url = new URL(`https://${text}`);
  if (url.pathname !== '/' || url.username || url.password) throw new Error(`invalid webhook allow entry "${entry}": use HOST or HOST:PORT`);
  return hostAndPort(url);
}

export function createWebhookTransport(options: WebhookTransportOptions): WebhookTransport {
  const trusted = new Set(options.allow.map(normaliseAllowEntry));
  const logBytes = options.logBytes ?? 4096;
  const post = createGuardedPost({ trustedHosts: trusted, timeoutMs: options.timeoutMs ?? 15_000, maxBytes: logBytes, httpToTrusted: true, tracing: options.tracing });
  return {
    async refusal(target) {
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        return 'not a valid URL';
      }
      const allowed = trusted.has(hostAndPort(url));
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (allowed || isLoopbackHost(url.hostname)))) {
        return 'must use https (plain http only to a host allowed with --webhook-allow)';
      }
      if (allowed) return null;
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const privateMessage = `${url.host} is a private, loopback or reserved address; allow it with --webhook-allow ${hostAndPort(url)} if it is meant`;
      if (isIP(host)) return isPublicAddress(host) ? null : privateMessage;
      if (isLoopbackHost(host)) return privateMessage;
      // A name resolving to a private address now is refused now; one that changes later (or does
      // not resolve within LOOKUP_TIMEOUT_MS: the save must not hang on DNS) is caught at connect time.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<[]>((resolve) => (timer = setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS)));
      const addresses = await Promise.race([lookup(host, { all: true }).catch(() => [] as const), timeout]).finally(() => clearTimeout(timer));
      return addresses.some((a) => !isPublicAddress(a.address)) ? privateMessage : null;
    },
    async post(url, headers, body, signal) {
      const answer = await post(url, headers, body, signal);
      const out: OutgoingResponse = { status: answer.status, headers: answer.headers, body: answer.body.toString('utf8') };
      return out;
    },
  };
}
