/**
 * The client's IP address as Basalt sees it: for rate limits, the superuser IP allowlist,
 * sign-in origins, realtime clients, hook code and `/api/health`. PocketBase's `RealIP()`:
 *
 * - `--trust-proxy` (the flag wins over the settings): Fastify's `request.ip`, from
 *   `X-Forwarded-For` with every hop trusted (its leftmost address), as before the setting existed.
 * - else the headers of settings `trustedProxy.headers`, in order: the last line of the first
 *   header present, split on commas, its rightmost valid address (the one the nearest proxy
 *   wrote) or, with `useLeftmostIP`, its leftmost; a header without a valid address is skipped.
 * - else the socket's address.
 */
import type { FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { ipFamily, normalizeIp } from '../core/net/ip-list.js';
import type { TrustedProxySettings } from '../core/settings/settings.js';

/** The last value of header `name` (case-insensitive) as sent, not joined with earlier lines. */
function lastHeaderLine(request: FastifyRequest, name: string): string {
  const raw = request.raw.rawHeaders;
  const wanted = name.toLowerCase();
  for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i].toLowerCase() === wanted) return raw[i + 1];
  return '';
}

function addressFrom(list: string, leftmost: boolean): string {
  const parts = list.split(',');
  for (let n = 0; n < parts.length; n++) {
    const candidate = parts[leftmost ? n : parts.length - 1 - n].trim();
    if (ipFamily(candidate) !== 0) return normalizeIp(candidate);
  }
  return '';
}

/** The client IP under `trustedProxy` (pass the settings to test a change before it is saved). */
export function clientIpUnder(request: FastifyRequest, trustProxyFlag: boolean, trustedProxy: TrustedProxySettings): string {
  if (!trustProxyFlag) {
    for (const header of trustedProxy.headers) {
      const line = lastHeaderLine(request, header);
      if (line === '') continue;
      const ip = addressFrom(line, trustedProxy.useLeftmostIP);
      if (ip !== '') return ip;
    }
  }
  return normalizeIp(request.ip ?? '');
}

/** The client IP under the settings in force. */
export function clientIpOf(app: App, request: FastifyRequest): string {
  return clientIpUnder(request, app.config.trustProxy, app.settings.get().trustedProxy);
}

/** Common proxy headers `/api/health` reports (after the configured ones), as PocketBase's does. */
const COMMON_PROXY_HEADERS = ['CF-Connecting-IP', 'Fly-Client-IP', 'X-Forwarded-For'];

/** The first configured or common proxy header the request carries (a hint for the dashboard), or ''. */
export function possibleProxyHeader(app: App, request: FastifyRequest): string {
  for (const header of [...app.settings.get().trustedProxy.headers, ...COMMON_PROXY_HEADERS]) {
    const value = request.headers[header.toLowerCase()];
    if (typeof value === 'string' ? value !== '' : Array.isArray(value) && value.length > 0) return header;
  }
  return '';
}
