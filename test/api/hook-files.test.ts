/**
 * Hook files (cli/hook-files.ts): TypeScript loaded without a build step, `import … from 'basalt'`
 * resolving to the running Basalt, npm packages from the app's node_modules, custom routes with
 * middlewares, a broken file reported with its file and line, and reloading in `--dev`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHookFiles, HookFileError, type HookFiles } from '../../src/cli/hook-files.js';
import { createAuthRecord, createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let dir: string;
let files: HookFiles | null = null;
// Inside the project: imports of npm packages resolve from its node_modules, as in an app.
const tmpRoot = join(process.cwd(), 'test');

const ORDERS = `
import { defineHooks, BadRequestError, requireAuth } from 'basalt';
import { Cron } from 'croner';
import { total } from './lib/total.js';

interface Line { price: number; qty: number }

export default defineHooks((app) => {
  app.onRecordCreate(async (e) => {
    const lines = e.record.get('lines') as Line[];
    if (!Array.isArray(lines) || lines.length === 0) {
      throw new BadRequestError('Failed to create record.', { lines: { code: 'validation_required', message: 'An order needs lines.' } });
    }
    e.record.set('total', total(lines));
    await e.next();
  }, 'orders');

  app.routerAdd('GET', '/api/shop/next-run/{expr}', (e) => {
    const next = new Cron(decodeURIComponent(e.pathValue('expr')), { paused: true }).nextRun(new Date('2030-01-01T00:00:00Z'));
    return { next: next?.toISOString() ?? null };
  });

  app.routerAdd('POST', '/api/shop/checkout/{cart}', async (e) => {
    const body = e.body as { note?: string };
    e.json(201, { cart: e.pathValue('cart'), by: e.auth?.id, note: body.note ?? '' });
  }, requireAuth('users'));

  app.routerAdd('GET', '/api/shop/files/{path...}', (e) => ({ path: e.pathValue('path') }));
});
`;

beforeAll(async () => {
  t = await startTestApp();
  await createCollection(t, { name: 'orders', fields: [{ name: 'lines', type: 'json' }, { name: 'total', type: 'number' }], createRule: '' });
  dir = mkdtempSync(join(tmpRoot, '.hooks-'));
  writeFileSync(join(dir, 'orders.ts'), ORDERS);
  // A helper module next to the hook files (not a hook file itself: it lives in a subfolder).
  const lib = join(dir, 'lib');
  mkdirSync(lib);
  writeFileSync(join(lib, 'total.ts'), 'export const total = (lines: { price: number; qty: number }[]): number => lines.reduce((s, l) => s + l.price * l.qty, 0);\n');
  files = await loadHookFiles(t.app, dir, { dev: false });
});
afterAll(async () => {
  files?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a TypeScript hook file', () => {
  it('runs its record hook: a computed field, and a refusal with a field error', async () => {
    const ok = await send(t, 'POST', '/api/collections/orders/records', { body: { lines: [{ price: 5, qty: 2 }, { price: 1, qty: 3 }] } });
    expect(ok.status).toBe(200);
    expect(ok.body.total).toBe(13);
    const refused = await send(t, 'POST', '/api/collections/orders/records', { body: { lines: [] } });
    expect(refused.status).toBe(400);
    expect(refused.body.data.lines.code).toBe('validation_required');
  });

  it('serves its routes, with an npm package, path parameters and a rest parameter', async () => {
    const res = await send(t, 'GET', `/api/shop/next-run/${encodeURIComponent('0 9 * * *')}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ next: '2030-01-01T09:00:00.000Z' });
    const rest = await send(t, 'GET', '/api/shop/files/a/b/c.txt');
    expect(rest.body).toEqual({ path: 'a/b/c.txt' });
  });

  it('applies route middlewares: 401 for guests, the caller resolved as on built-in routes', async () => {
    const guest = await send(t, 'POST', '/api/shop/checkout/c1', { body: { note: 'x' } });
    expect(guest.status).toBe(401);
    expect(guest.body).toMatchObject({ status: 401, data: {} });
    const user = await createAuthRecord(t, 'users', { email: 'buyer@example.com' });
    const res = await send(t, 'POST', '/api/shop/checkout/c1', { auth: user.token, body: { note: 'gift' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ cart: 'c1', by: user.id, note: 'gift' });
    const su = await createSuperuser(t, 'root@example.com');
    expect((await send(t, 'POST', '/api/shop/checkout/c1', { auth: su.token, body: {} })).status).toBe(403);
  });

  it('unknown paths stay JSON 404s', async () => {
    const res = await send(t, 'GET', '/api/shop/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ status: 404, message: "The requested resource wasn't found.", data: {} });
  });
});

describe('bad hook files', () => {
  const tryLoad = async (name: string, source: string) => {
    const bad = mkdtempSync(join(tmpRoot, '.hooks-bad-'));
    writeFileSync(join(bad, name), source);
    try {
      await loadHookFiles(t.app, bad, { dev: false });
      return null;
    } catch (err) {
      return err as HookFileError;
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  };

  it('a syntax error is reported with the file and line, and changes nothing', async () => {
    const err = await tryLoad('broken.ts', "import { defineHooks } from 'basalt';\n\nexport default defineHooks((app) => {\n  app.onRecordCreate(async (e) => { await e.next( }, 'orders');\n});\n");
    expect(err).toBeInstanceOf(HookFileError);
    expect(err!.message).toMatch(/broken\.ts:4/);
  });

  it('a file that throws while registering is reported with its line', async () => {
    const err = await tryLoad('throws.ts', "import { defineHooks } from 'basalt';\nexport default defineHooks((app) => {\n  app.cronAdd('', '* * * * *', () => {});\n});\n");
    expect(err).toBeInstanceOf(HookFileError);
    // Under vitest stack traces ignore source maps; the exact line is checked through the CLI (test/cli).
    expect(err!.message).toMatch(/throws\.ts:\d+: cronAdd: the id must be a non-empty string/);
  });

  it('a route colliding with a built-in one is refused', async () => {
    const err = await tryLoad('collide.ts', "import { defineHooks } from 'basalt';\nexport default defineHooks((app) => {\n  app.routerAdd('GET', '/api/collections/{name}/records', () => ({}));\n});\n");
    expect(String(err?.message)).toMatch(/a built-in route already serves this path/);
    // The set in force is untouched.
    expect((await send(t, 'GET', '/api/shop/files/x')).status).toBe(200);
  });

  it('a file without a default export is refused', async () => {
    const err = await tryLoad('plain.js', 'export const x = 1;\n');
    expect(err!.message).toMatch(/plain\.js: the file must `export default defineHooks/);
  });
});

describe('--dev', () => {
  it('reloads changed files; a broken version keeps the previous one in force', async () => {
    const devDir = mkdtempSync(join(tmpRoot, '.hooks-dev-'));
    const file = join(devDir, 'hello.ts');
    const version = (n: number) => `import { defineHooks } from 'basalt';\nexport default defineHooks((app) => {\n  app.routerAdd('GET', '/api/dev/hello', () => ({ version: ${n} }));\n});\n`;
    writeFileSync(file, version(1));
    const reloads: (Error | null)[] = [];
    const dev = await loadHookFiles(t.app, devDir, { dev: true, onReload: (err) => reloads.push(err) });
    try {
      expect((await send(t, 'GET', '/api/dev/hello')).body).toEqual({ version: 1 });
      writeFileSync(file, version(2));
      await expect.poll(() => reloads.length, { timeout: 5000 }).toBeGreaterThan(0);
      expect((await send(t, 'GET', '/api/dev/hello')).body).toEqual({ version: 2 });
      reloads.length = 0;
      writeFileSync(file, "import { defineHooks } from 'basalt';\nexport default defineHooks((app) => { app.routerAdd('GET', '/api/dev/hello', () => ({ version: 3 }) }\n");
      await expect.poll(() => reloads.length, { timeout: 5000 }).toBeGreaterThan(0);
      expect(reloads[0]).toBeInstanceOf(HookFileError);
      expect((await send(t, 'GET', '/api/dev/hello')).body).toEqual({ version: 2 });
      unlinkSync(file);
    } finally {
      dev.close();
      rmSync(devDir, { recursive: true, force: true });
    }
  });
});
