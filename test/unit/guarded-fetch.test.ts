/**
 * The outgoing-request guard (SSRF): private, loopback, link-local and reserved addresses are
 * refused unless the host was configured by a superuser; plain http only to loopback; bodies
 * are capped. Real sockets on loopback, no network beyond it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedFetch, hostAndPort, isLoopbackHost, isPrivateAddress } from '../../src/adapters/guarded-fetch.js';

describe('isPrivateAddress', () => {
  const publicAddresses = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'];
  // Everything an attacker could aim a URL at to reach this machine or its network: each must be refused.
  const hostile: [string, string][] = [
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'], ['169.254.169.254', 'link-local (cloud metadata)'], ['100.64.0.1', 'carrier-grade NAT'], ['100.127.255.254', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'this network 0.0.0.0/8'], ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'], ['240.0.0.1', 'reserved'], ['198.18.0.1', 'benchmarking'], ['198.19.255.255', 'benchmarking'],
    ['192.0.0.8', 'IETF protocol assignments'], ['192.0.2.1', 'documentation'], ['198.51.100.1', 'documentation'], ['203.0.113.1', 'documentation'],
    ['::1', 'loopback'], ['::', 'unspecified'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'], ['fec0::1', 'site-local'],
    ['fc00::1', 'unique local'], ['fd12:3456::1', 'unique local'], ['ff02::1', 'multicast'], ['ff05::2', 'multicast'], ['100::1', 'discard'],
    ['2001:db8::1', 'documentation'], ['2001:2::1', 'benchmarking'], ['2001:10::1', 'ORCHID'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'], ['::ffff:7f00:1', 'IPv4-mapped loopback (hex)'], ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'], ['::ffff:0:7f00:1', 'IPv4-translated (RFC 6145) loopback'],
    ['::7f00:1', 'IPv4-compatible loopback'], ['::127.0.0.1', 'IPv4-compatible loopback'], ['::a00:1', 'IPv4-compatible private'],
    ['64:ff9b::7f00:1', 'NAT64 loopback'], ['64:ff9b::10.0.0.1', 'NAT64 private'], ['64:ff9b::a9fe:a9fe', 'NAT64 metadata'], ['64:ff9b:1::808:808', 'NAT64 local-use prefix'],
    ['2002:7f00:1::', '6to4 of loopback'], ['2002:a00:1::1', '6to4 of private'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo, client 127.0.0.1'], ['2001:0:a00:1:8000:63bf:f7f7:f7f7', 'Teredo, server 10.0.0.1'],
    ['not-an-ip', 'not an address'], ['0x7f.1', 'non-canonical IPv4'], ['', 'empty'],
  ];
  for (const address of publicAddresses) it(`${address}: public`, () => expect(isPrivateAddress(address)).toBe(false));
  for (const [address, why] of hostile) it(`${address || '(empty)'}: refused (${why})`, () => expect(isPrivateAddress(address)).toBe(true));

  it('loopback host names', () => {
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('example.com')).toBe(false);
  });
});

describe('createGuardedFetch', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') {
        res.end('x'.repeat(4096));
        return;
      }
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://localhost:1/elsewhere' });
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('an untrusted loopback address is refused before any connection', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set() });
    await expect(guarded(`http://127.0.0.1:${port}/`)).rejects.toThrow(/private or reserved/);
  });

  it('an untrusted name that resolves to loopback is refused when connecting', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set() });
    await expect(guarded(`http://localhost:${port}/`)).rejects.toThrow();
  });

  it('hostAndPort: lowercase host, IPv6 in brackets, the scheme’s default port when none is written', () => {
    expect(hostAndPort('https://IdP.Example.com/x')).toBe('idp.example.com:443');
    expect(hostAndPort('http://127.0.0.1/x')).toBe('127.0.0.1:80');
    expect(hostAndPort('https://[::1]:8443/')).toBe('[::1]:8443');
    expect(hostAndPort('https://idp.example.com:443/')).toBe('idp.example.com:443');
  });

  it('a configured (trusted) host and port is reached', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set([`127.0.0.1:${port}`]) });
    const res = await guarded(`http://127.0.0.1:${port}/`);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('another port of a trusted host is not trusted', async () => {
    const other = createServer((_req, res) => res.end('{"other":true}'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
    try {
      const guarded = createGuardedFetch({ trustedHosts: new Set([`127.0.0.1:${port}`, `localhost:${port}`]) });
      const otherPort = (other.address() as AddressInfo).port;
      await expect(guarded(`http://127.0.0.1:${otherPort}/`)).rejects.toThrow(/private or reserved/);
      await expect(guarded(`http://localhost:${otherPort}/`)).rejects.toThrow();
      // The trusted pair itself still works, by name too (through the pool that trusts it).
      expect(await (await guarded(`http://localhost:${port}/`)).json()).toEqual({ ok: true });
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('redirects are not followed (a trusted host cannot bounce the request elsewhere)', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set([`127.0.0.1:${port}`]) });
    const res = await guarded(`http://127.0.0.1:${port}/redirect`);
    expect(res.status).toBe(302);
  });

  it('plain http is only for loopback; other schemes never', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set(['example.com:80', '10.0.0.1:80']) });
    await expect(guarded('http://example.com/')).rejects.toThrow(/only https/);
    await expect(guarded('ftp://example.com/')).rejects.toThrow(/only https/);
    await expect(guarded('file:///etc/passwd')).rejects.toThrow(/only https/);
  });

  it('bodies over the cap are refused', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set([`127.0.0.1:${port}`]), maxBytes: 1024 });
    await expect(guarded(`http://127.0.0.1:${port}/big`)).rejects.toThrow(/over 1024 bytes/);
  });

  it('a hung server times out', async () => {
    const hung = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', () => resolve()));
    const hungPort = (hung.address() as AddressInfo).port;
    const guarded = createGuardedFetch({ trustedHosts: new Set([`127.0.0.1:${hungPort}`]), timeoutMs: 300 });
    const started = Date.now();
    await expect(guarded(`http://127.0.0.1:${hungPort}/`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    hung.closeAllConnections();
    await new Promise((resolve) => hung.close(resolve));
  });
});
