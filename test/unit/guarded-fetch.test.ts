/**
 * The outgoing-request guard (SSRF): private, loopback, link-local and reserved addresses are
 * refused unless the host was configured by a superuser; plain http only to loopback; bodies
 * are capped. Real sockets on loopback, no network beyond it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedFetch, isLoopbackHost, isPrivateAddress } from '../../src/adapters/guarded-fetch.js';

describe('isPrivateAddress', () => {
  const cases: [string, boolean][] = [
    ['127.0.0.1', true], ['10.1.2.3', true], ['172.16.0.1', true], ['172.31.255.255', true], ['172.32.0.1', false],
    ['192.168.1.1', true], ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true], ['224.0.0.1', true],
    ['8.8.8.8', false], ['1.1.1.1', false], ['::1', true], ['::', true], ['fe80::1', true], ['fd00::1', true],
    ['::ffff:127.0.0.1', true], ['::ffff:8.8.8.8', false], ['64:ff9b::10.0.0.1', true], ['2606:4700:4700::1111', false],
    ['not-an-ip', true],
  ];
  for (const [address, expected] of cases) it(`${address} → ${expected}`, () => expect(isPrivateAddress(address)).toBe(expected));

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

  it('a configured (trusted) host is reached', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set(['127.0.0.1']) });
    const res = await guarded(`http://127.0.0.1:${port}/`);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('redirects are not followed (a trusted host cannot bounce the request elsewhere)', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set(['127.0.0.1']) });
    const res = await guarded(`http://127.0.0.1:${port}/redirect`);
    expect(res.status).toBe(302);
  });

  it('plain http is only for loopback; other schemes never', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set(['example.com', '10.0.0.1']) });
    await expect(guarded('http://example.com/')).rejects.toThrow(/only https/);
    await expect(guarded('ftp://example.com/')).rejects.toThrow(/only https/);
    await expect(guarded('file:///etc/passwd')).rejects.toThrow(/only https/);
  });

  it('bodies over the cap are refused', async () => {
    const guarded = createGuardedFetch({ trustedHosts: new Set(['127.0.0.1']), maxBytes: 1024 });
    await expect(guarded(`http://127.0.0.1:${port}/big`)).rejects.toThrow(/over 1024 bytes/);
  });

  it('a hung server times out', async () => {
    const hung = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', () => resolve()));
    const guarded = createGuardedFetch({ trustedHosts: new Set(['127.0.0.1']), timeoutMs: 300 });
    const started = Date.now();
    await expect(guarded(`http://127.0.0.1:${(hung.address() as AddressInfo).port}/`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    hung.closeAllConnections();
    await new Promise((resolve) => hung.close(resolve));
  });
});
