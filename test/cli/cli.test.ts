/**
 * The `basalt` command: `superuser upsert|delete` and `serve`, driven in-process through main()
 * and, when the build exists (dist/, made by `npm run build` / `npm ci`), through the real binary
 * `node bin/basalt.js` over a real socket. SQLite only, plus one unreachable PostgreSQL URL.
 */
import { localAdapters } from '../../src/adapters/local-adapters.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/core/app.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/ports.js';
import { createDatabase } from '../../src/db/create-database.js';
import { buildServer } from '../../src/http/server.js';
import { buildConfig, readOptions } from '../../src/cli/config-from-args.js';
import { runMain } from '../harness/run-main.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/basalt.js');
const HAS_BUILD = existsSync(join(ROOT, 'dist/cli/main.js'));
/** A port nothing listens on: connections are refused at once. */
const UNREACHABLE_PG = 'postgres://postgres@127.0.0.1:1/x';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});


/** Opens the SQLite database in `dir` (as the server would) and signs in as a superuser. */
async function superuserLogin(dir: string, email: string, password: string): Promise<number> {
  const db = await createDatabase({ type: 'sqlite', file: join(dir, 'data.db') });
  const app = await createApp(defaultConfig({ dataDir: dir, logLevel: 'silent' }), { db, logger: silentLogger, ...localAdapters({ dataDir: dir }) });
  const server = await buildServer(app, { requestLog: false });
  try {
    const res = await server.inject({ method: 'POST', url: '/api/collections/_superusers/auth-with-password', payload: { identity: email, password } });
    return res.statusCode;
  } finally {
    await server.close();
    await app.close();
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('basalt superuser (in-process main)', () => {
  it('upsert creates, then updates the password; delete removes', async () => {
    const dir = tempDir();
    let r = await runMain(['superuser', 'upsert', 'root@example.com', 'firstpass1', '--dir', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Created superuser root@example\.com/);
    expect(existsSync(join(dir, 'data.db'))).toBe(true);
    expect(await superuserLogin(dir, 'root@example.com', 'firstpass1')).toBe(200);

    r = await runMain(['superuser', 'upsert', 'root@example.com', 'secondpass2', '--dir', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Updated superuser root@example\.com/);
    expect(await superuserLogin(dir, 'root@example.com', 'firstpass1')).toBe(400);
    expect(await superuserLogin(dir, 'root@example.com', 'secondpass2')).toBe(200);

    // The only superuser cannot be deleted (PocketBase keeps at least one).
    r = await runMain(['superuser', 'delete', 'root@example.com', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/only existing superuser/i);
    expect(await superuserLogin(dir, 'root@example.com', 'secondpass2')).toBe(200);

    // With a second one, it can; the other one stays.
    r = await runMain(['superuser', 'upsert', 'other@example.com', 'otherpass3', '--dir', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Created superuser other@example\.com/);
    r = await runMain(['superuser', 'delete', 'root@example.com', '--dir', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Deleted superuser root@example\.com/);
    expect(await superuserLogin(dir, 'root@example.com', 'secondpass2')).toBe(400);
    expect(await superuserLogin(dir, 'other@example.com', 'otherpass3')).toBe(200);
  });

  it('delete of an unknown email succeeds and says so', async () => {
    const dir = tempDir();
    const r = await runMain(['superuser', 'delete', 'nobody@example.com', '--dir', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/No superuser with email nobody@example\.com/);
  });

  it('a password that fails validation: exit 2 with the reason, nothing created', async () => {
    const dir = tempDir();
    const r = await runMain(['superuser', 'upsert', 'root@example.com', 'short', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/password/i);
    expect(await superuserLogin(dir, 'root@example.com', 'short')).toBe(400);
  });

  it('an invalid email: exit 2', async () => {
    const dir = tempDir();
    const r = await runMain(['superuser', 'upsert', 'not-an-email', 'password123', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/email/i);
  });

  it.each([
    [['superuser', 'upsert', 'only@example.com'], /usage/i],
    [['superuser', 'delete'], /usage/i],
    [['superuser', 'rename', 'a@example.com'], /usage/i],
    [['superuser', 'upsert', 'a@example.com', 'password123', '--bogus'], /bogus/],
  ])('bad usage %j: exit 2 and a message', async (argv, message) => {
    const r = await runMain([...argv, '--dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('BASALT_DIR is honoured, and --dir wins over it', async () => {
    const envDir = tempDir();
    const flagDir = tempDir();
    let r = await runMain(['superuser', 'upsert', 'env@example.com', 'password123'], { BASALT_DIR: envDir });
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(envDir, 'data.db'))).toBe(true);
    expect(await superuserLogin(envDir, 'env@example.com', 'password123')).toBe(200);

    r = await runMain(['superuser', 'upsert', 'flag@example.com', 'password123', '--dir', flagDir], { BASALT_DIR: envDir });
    expect(r.code, r.err).toBe(0);
    expect(await superuserLogin(flagDir, 'flag@example.com', 'password123')).toBe(200);
    expect(await superuserLogin(envDir, 'flag@example.com', 'password123')).toBe(400);
  });

  it('the data directory is created when missing', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const r = await runMain(['superuser', 'upsert', 'root@example.com', 'password123', '--dir', dir]);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(dir, 'data.db'))).toBe(true);
  });

  it('an unreachable PostgreSQL: non-zero exit, quickly, saying it cannot open the database', async () => {
    const started = Date.now();
    const r = await runMain(['superuser', 'upsert', 'root@example.com', 'password123', '--db', UNREACHABLE_PG, '--dir', tempDir()]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/cannot open the database/i);
    expect(r.err).toContain('127.0.0.1:1');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('basalt serve / top level (in-process main, failing before listening)', () => {
  it.each([
    [['serve', '--http', 'nope'], /--http/],
    [['serve', '--http', '127.0.0.1:99999'], /--http/],
    [['serve', '--log-level', 'loud'], /--log-level/],
    [['serve', '--app-url', 'not a url'], /--app-url/],
    [['serve', '--query-timeout', '0'], /--query-timeout "0"/],
    [['serve', '--query-timeout', '2s'], /--query-timeout "2s"/],
    [['serve', '--nope'], /--nope/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j: exit 2 and a message naming the problem', async (argv, message) => {
    const r = await runMain([...argv, '--dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('--query-timeout / BASALT_QUERY_TIMEOUT: 5000 ms by default, the flag wins over the environment', () => {
    const configOf = (args: string[], env: NodeJS.ProcessEnv = {}) => buildConfig(readOptions(args, env, ['query-timeout']).values);
    expect(configOf([]).queryTimeoutMs).toBe(5000);
    expect(configOf([], { BASALT_QUERY_TIMEOUT: '1200' }).queryTimeoutMs).toBe(1200);
    expect(configOf(['--query-timeout', '250'], { BASALT_QUERY_TIMEOUT: '1200' }).queryTimeoutMs).toBe(250);
  });

  it('BASALT_HTTP is read (a bad value is reported like the flag)', async () => {
    const r = await runMain(['serve', '--dir', tempDir()], { BASALT_HTTP: 'nope' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--http/);
    expect(r.err).toContain('nope');
  });

  it('the --http flag wins over BASALT_HTTP', async () => {
    const r = await runMain(['serve', '--http', 'also-bad', '--dir', tempDir()], { BASALT_HTTP: '127.0.0.1:8090' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('also-bad');
  });

  it('an unsupported --db scheme: exit 2', async () => {
    const r = await runMain(['serve', '--http', '127.0.0.1:0', '--db', 'mysql://u@h/db', '--dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/database|scheme/i);
  });

  it('an unreachable PostgreSQL: non-zero exit, quickly', async () => {
    const started = Date.now();
    const r = await runMain(['serve', '--http', '127.0.0.1:0', '--db', UNREACHABLE_PG, '--dir', tempDir()]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/cannot open the database/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('help: exit 0 with the usage; no command: exit 1', async () => {
    let r = await runMain(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/basalt serve/);
    expect(r.out).toMatch(/BASALT_HTTP/);
    r = await runMain([]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Usage/);
  });
});

/** A running `node bin/basalt.js …` with its output collected. */
interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];
afterAll(() => {
  // Only the processes this file started, by their own handle.
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function startBin(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: tempDir(),
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, out: () => out, err: () => err, exit };
}

/** Runs the binary to completion. */
async function runBin(args: string[], env: NodeJS.ProcessEnv = {}, ms = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  const proc = startBin(args, env);
  const { code, signal } = await withTimeout(proc.exit, ms, `basalt ${args.join(' ')}`);
  return { code, signal, out: proc.out(), err: proc.err() };
}

async function waitFor(what: string, test: () => boolean, proc: Proc, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!test()) {
    if (proc.child.exitCode !== null) throw new Error(`${what}: the process exited (${proc.child.exitCode}): ${proc.out()} ${proc.err()}`);
    if (Date.now() > until) throw new Error(`${what}: timed out; stdout: ${proc.out()} stderr: ${proc.err()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no exit within ${ms} ms`)), ms))]);
}

describe.skipIf(!HAS_BUILD)('the real binary: node bin/basalt.js', () => {
  it('serve prints its address, answers /api/health over a socket, and exits 0 on SIGTERM', async () => {
    const dir = tempDir();
    const port = await freePort();
    const proc = startBin(['serve', '--http', `127.0.0.1:${port}`, '--dir', dir, '--log-level', 'silent']);
    await waitFor('address printed', () => proc.out().includes(`http://127.0.0.1:${port}`), proc);

    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ code: 200, message: 'API is healthy.', data: {} });
    const missing = await fetch(`http://127.0.0.1:${port}/api/nope`);
    expect(missing.status).toBe(404);
    expect(existsSync(join(dir, 'data.db'))).toBe(true);

    proc.child.kill('SIGTERM');
    const { code, signal } = await withTimeout(proc.exit, 10_000, 'SIGTERM');
    expect(signal).toBeNull();
    expect(code).toBe(0);
  });

  it('a superuser made by `superuser upsert` signs in on the served API; BASALT_HTTP, BASALT_DIR and BASALT_QUERY_TIMEOUT are honoured', async () => {
    const dir = tempDir();
    const upsert = await runBin(['superuser', 'upsert', 'root@example.com', 'password123'], { BASALT_DIR: dir });
    expect(upsert.code, upsert.err).toBe(0);
    expect(upsert.out).toMatch(/Created superuser root@example\.com/);

    const port = await freePort();
    const proc = startBin(['serve', '--log-level', 'silent'], { BASALT_HTTP: `127.0.0.1:${port}`, BASALT_DIR: dir, BASALT_QUERY_TIMEOUT: '2000' });
    await waitFor('address printed', () => proc.out().includes(`http://127.0.0.1:${port}`), proc);
    const res = await fetch(`http://127.0.0.1:${port}/api/collections/_superusers/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'root@example.com', password: 'password123' }),
    });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const collections = await fetch(`http://127.0.0.1:${port}/api/collections`, { headers: { authorization: token } });
    expect(collections.status).toBe(200);
    // A filtered list runs in a read worker: its compiled entry (dist/db/sqlite/sqlite-read-worker.js) loads.
    const list = await fetch(`http://127.0.0.1:${port}/api/collections/_superusers/records?filter=${encodeURIComponent("email ~ 'root'")}`, { headers: { authorization: token } });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { totalItems: number }).totalItems).toBe(1);
    proc.child.kill('SIGTERM');
    expect((await withTimeout(proc.exit, 10_000, 'SIGTERM')).code).toBe(0);
  });

  it('a bad flag: exit 2 and a message naming the flag', async () => {
    const r = await runBin(['serve', '--http', 'nope', '--dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--http/);
  });

  it('an unreachable database: non-zero exit within seconds, saying it cannot open the database', async () => {
    const started = Date.now();
    const r = await runBin(['serve', '--http', '127.0.0.1:0', '--db', UNREACHABLE_PG, '--dir', tempDir()]);
    expect(r.signal).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/cannot open the database/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('--hooks: a TypeScript hook file is served by the built binary, importing basalt and npm packages (no build step, no node_modules in the hooks directory)', async () => {
    const dir = tempDir();
    const hooks = mkdtempSync(join(tmpdir(), 'basalt-hooks-'));
    writeFileSync(
      join(hooks, 'hello.ts'),
      "import { defineHooks, requireAuth } from 'basalt';\nconst greet = (name: string): string => `hello ${name}`;\nexport default defineHooks((app) => {\n  app.routerAdd('GET', '/api/hello/{name}', (e) => ({ text: greet(e.pathValue('name')) }));\n  app.routerAdd('GET', '/api/private', () => ({}), requireAuth());\n});\n",
    );
    const port = await freePort();
    const proc = startBin(['serve', '--http', `127.0.0.1:${port}`, '--dir', dir, '--hooks', hooks, '--log-level', 'silent']);
    try {
      await waitFor('address printed', () => proc.out().includes(`http://127.0.0.1:${port}`), proc);
      const res = await fetch(`http://127.0.0.1:${port}/api/hello/ada`);
      expect(await res.json()).toEqual({ text: 'hello ada' });
      expect((await fetch(`http://127.0.0.1:${port}/api/private`)).status).toBe(401);
    } finally {
      proc.child.kill('SIGTERM');
      await withTimeout(proc.exit, 10_000, 'SIGTERM');
      rmSync(hooks, { recursive: true, force: true });
    }
  });

  it('--hooks: a hook file that throws at load stops start-up with its file, line and message', async () => {
    const hooks = mkdtempSync(join(tmpdir(), 'basalt-hooks-'));
    writeFileSync(join(hooks, 'package.json'), '{ "type": "module" }');
    writeFileSync(join(hooks, 'orders.ts'), "import { defineHooks } from 'basalt';\n\nexport default defineHooks((app) => {\n  app.cronAdd('nightly', '* * * * *', 'not a function' as never);\n});\n");
    try {
      const r = await runBin(['serve', '--http', '127.0.0.1:0', '--dir', tempDir(), '--hooks', hooks]);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/hook file .*orders\.ts:4: cronAdd nightly: the handler must be a function/);
    } finally {
      rmSync(hooks, { recursive: true, force: true });
    }
  });

  it('--hooks naming a missing directory: exit 2', async () => {
    const r = await runBin(['serve', '--dir', tempDir(), '--hooks', join(tempDir(), 'nope')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--hooks .* is not a directory/);
  });
});
