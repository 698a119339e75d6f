/**
 * Outgoing HTTP requests that cannot be turned against the machine's own network (SSRF): a host
 * must resolve to public addresses only, unless it is one a superuser configured explicitly
 * (`trustedHosts`: an identity provider on the intranet, or loopback in development). The check
 * runs when each connection is made (undici's `connect.lookup`), so a DNS answer that changes
 * between check and connect (rebinding) and redirects to other hosts are caught too.
 * Plain http is allowed only to loopback. Bodies are capped and requests time out.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { isLoopbackHost } from '../core/net/loopback.js';

export { isLoopbackHost };

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is loopback, private, link-local, reserved or multicast. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  const lower = address.toLowerCase();
  // IPv4-mapped and NAT64 forms carry an IPv4 address: judge that one.
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  return PRIVATE.check(lower, 'ipv6');
}

export class OutgoingRequestRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutgoingRequestRefused';
  }
}

export interface GuardOptions {
  /** Host names (lowercase) that may resolve to private addresses. */
  trustedHosts: ReadonlySet<string>;
  /** @default 15000 */
  timeoutMs?: number;
  /** Largest response body read. @default 1 MiB */
  maxBytes?: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(trusted: ReadonlySet<string>) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      if (!trusted.has(hostname.toLowerCase()) && list.some((a) => isPrivateAddress(a.address))) {
        return callback(Object.assign(new OutgoingRequestRefused(`refusing to connect to ${hostname}: it resolves to a private or reserved address`), { code: 'EREFUSED_PRIVATE' }), []);
      }
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** A fetch bound to one set of trusted hosts. */
export function createGuardedFetch(options: GuardOptions): FetchLike {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxBytes ?? 1 << 20;
  const agent = new Agent({ connect: { lookup: guardedLookup(options.trustedHosts) as never, timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return async (input, init = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      throw new OutgoingRequestRefused(`refusing ${url.protocol}// request to ${url.host}: only https (or http to loopback) is allowed`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Literal addresses never go through DNS: judge them here.
    if (isIP(host) && isPrivateAddress(host) && !options.trustedHosts.has(host.toLowerCase())) {
      throw new OutgoingRequestRefused(`refusing to connect to ${host}: a private or reserved address`);
    }
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const response = await undiciFetch(url, { ...(init as object), signal, dispatcher: agent, redirect: 'manual' } as never);
    // Read at most maxBytes: a hostile endpoint cannot exhaust memory.
    const body = await readCapped(response as unknown as Response, maxBytes);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers as unknown as Headers });
  };
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | null> {
  if (!response.body || [204, 304].includes(response.status)) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new OutgoingRequestRefused(`response body over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
