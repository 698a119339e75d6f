/**
 * The dashboard's files at `/_/` (http/routes/dashboard.ts), from a build made here (a small
 * stand-in for `dist/dashboard/`): headers, caching, encodings, hostile paths over a real
 * socket (no client normalises them), the API's JSON 404 elsewhere, a missing build, and
 * `--no-dashboard`.
 */
import { request as httpRequest } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, DEFAULT_DASHBOARD_DIR, readOptions, SERVE_OPTIONS } from '../../src/cli/config-from-args.js';
import { DASHBOARD_CSP } from '../../src/http/routes/dashboard.js';
import { createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

const SCRIPT = `export const answer = ${JSON.stringify('the dashboard '.repeat(200))};\n`;

function makeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-dash-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html lang="en"><head><title>Basalt</title><script type="module" src="./assets/index-AbC123.js"></script></head><body></body></html>\n');
  writeFileSync(join(dir, 'assets', 'index-AbC123.js'), SCRIPT);
  writeFileSync(join(dir, 'assets', 'index-AbC123.css'), 'body{color:red}\n');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, '.secret'), 'dot files are never served');
  symlinkSync('/etc/hostname', join(dir, 'assets', 'link.txt'));
  return dir;
}

/** A GET over a socket with the path exactly as written. */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard files at /_/', () => {
  let t: TestApp;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    dir = makeBuild();
    t = await startTestApp({ config: { dashboardDir: dir } });
    base = await listenOnLoopback(t);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redirects /_ to /_/ (relatively, for sub-paths)', async () => {
    const res = await send(t, 'GET', '/_');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('_/');
    expect((await send(t, 'GET', '/_?x=1')).headers.location).toBe('_/?x=1');
  });

  it('serves index.html with the strict CSP, framing refused, revalidated on every load', async () => {
    const res = await send(t, 'GET', '/_/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.raw).toContain('./assets/index-AbC123.js');
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data: blob:", "frame-ancestors 'none'", "object-src 'none'"]) {
      expect(DASHBOARD_CSP).toContain(directive);
    }
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-cache');
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await send(t, 'GET', '/_/', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.raw).toBe('');
    expect((await send(t, 'GET', '/_/index.html')).status).toBe(200);
    expect((await send(t, 'GET', '/_/?from=somewhere')).status).toBe(200);
  });

  it('serves hashed assets for a year, immutable, gzip or brotli as accepted', async () => {
    const identity = await rawGet(base, '/_/assets/index-AbC123.js');
    expect(identity.status).toBe(200);
    expect(identity.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(identity.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.toString()).toBe(SCRIPT);
    expect(identity.headers.vary).toBe('Accept-Encoding');

    const gz = await rawGet(base, '/_/assets/index-AbC123.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);
    const br = await rawGet(base, '/_/assets/index-AbC123.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);
    const refused = await rawGet(base, '/_/assets/index-AbC123.js', { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();

    const css = await send(t, 'GET', '/_/assets/index-AbC123.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    // Files outside assets/ are not content-hashed: revalidated.
    const icon = await send(t, 'GET', '/_/favicon.svg');
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  const HOSTILE = [
    '/_/../package.json',
    '/_/../../../../etc/passwd',
    '/_/%2e%2e/package.json',
    '/_/%2E%2E%2Fpackage.json',
    '/_/assets/..%2f..%2fpackage.json',
    '/_/assets%2findex-AbC123.js',
    '/_/assets%5cindex-AbC123.js',
    '/_/assets/../index.html',
    '/_/./index.html',
    '/_//etc/passwd',
    '/_/%00',
    '/_/index.html%00',
    '/_/index.html%00.js',
    '/_/.secret',
    '/_/assets/link.txt',
    '/_/assets/',
    '/_/assets',
    '/_/nothing-here',
    '/_/collections',
    '/_/..%252f..%252fpackage.json',
    '/_/' + 'a/'.repeat(500) + 'x',
  ];

  it.each(HOSTILE)('%s is not found (never a 500, never a file outside the build)', async (path) => {
    const res = await rawGet(base, path);
    expect(res.status, res.body.toString().slice(0, 200)).toBe(404);
    expect(res.body.toString()).not.toMatch(/"name":\s*"basalt"|root:|dot files/);
  });

  it.each(['/_/%zz', '/_/%c0%ae%c0%ae/package.json', '/_/%e0%80%ae'])('answers the malformed %s with the API error shape (400), not a 500', async (path) => {
    const res = await rawGet(base, path);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString())).toMatchObject({ status: 400, message: expect.any(String), data: {} });
  });

  it('does not store its successful answers in the logs (its failures are)', async () => {
    const su = await createSuperuser(t);
    await send(t, 'DELETE', '/api/logs', { auth: su.token });
    for (const path of ['/_/', '/_/assets/index-AbC123.js', '/_/favicon.svg', '/_/missing.js']) await rawGet(base, path);
    await t.app.logs.writer!.flush();
    const logs = await send(t, 'GET', `/api/logs?filter=${encodeURIComponent("data.url ~ '/_/'")}`, { auth: su.token });
    expect(logs.status).toBe(200);
    expect(logs.body.items.map((e: { data: { url: string; status: number } }) => [e.data.url, e.data.status])).toEqual([['/_/missing.js', 404]]);
  });

  it('leaves every other path to the API and its JSON 404', async () => {
    for (const path of ['/api/nothing', '/_x', '/__/', '/_%2f', '/x/_/', '/index.html', '/assets/index-AbC123.js']) {
      const res = await rawGet(base, path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type'], path).toMatch(/^application\/json/);
      expect(JSON.parse(res.body.toString())).toEqual({ status: 404, message: "The requested resource wasn't found.", data: {} });
    }
  });

  it('answers HEAD like GET, without a body', async () => {
    const res = await t.server.inject({ method: 'HEAD', url: '/_/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(res.body).toBe('');
  });
});

describe('without a built dashboard', () => {
  it('answers 503 saying how to build it, until it is built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-dash-empty-'));
    const t = await startTestApp({ config: { dashboardDir: dir } });
    try {
      for (const path of ['/_/', '/_/assets/index-AbC123.js']) {
        const res = await send(t, 'GET', path);
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.raw).toContain('npm run build');
      }
      // The API is unaffected.
      expect((await send(t, 'GET', '/api/health')).status).toBe(200);
      // Built while Basalt runs: served within a second, and a rebuild replaces it.
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>first build</title>');
      await new Promise((r) => setTimeout(r, 1100));
      expect((await send(t, 'GET', '/_/')).raw).toContain('first build');
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>second build</title>');
      await new Promise((r) => setTimeout(r, 1100));
      expect((await send(t, 'GET', '/_/')).raw).toContain('second build');
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--no-dashboard', () => {
  it('is read from the flag and from BASALT_NO_DASHBOARD; the default is the package build', () => {
    const names = Object.keys(SERVE_OPTIONS) as (keyof typeof SERVE_OPTIONS)[];
    expect(buildConfig(readOptions(['--no-dashboard'], {}, names).values).dashboardDir).toBe('');
    expect(buildConfig(readOptions([], { BASALT_NO_DASHBOARD: '1' }, names).values).dashboardDir).toBe('');
    expect(buildConfig(readOptions([], { BASALT_NO_DASHBOARD: 'false' }, names).values).dashboardDir).toBe(DEFAULT_DASHBOARD_DIR);
    expect(DEFAULT_DASHBOARD_DIR.replace(/\\/g, '/')).toMatch(/\/dist\/dashboard$/);
  });

  it('turns /_/ into a 404', async () => {
    const dir = makeBuild();
    const t = await startTestApp({ config: { dashboardDir: '' } });
    try {
      const root = await send(t, 'GET', '/_/');
      expect(root.status).toBe(404);
      expect(root.raw).toContain('--no-dashboard');
      const asset = await send(t, 'GET', '/_/assets/index-AbC123.js');
      expect(asset.status).toBe(404);
      expect(asset.body).toEqual({ status: 404, message: "The requested resource wasn't found.", data: {} });
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
