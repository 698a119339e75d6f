/**
 * Starts the cluster the suite proves: N `node bin/basalt.js serve` processes (the built binary)
 * on one fresh PostgreSQL database and one Redis, behind an nginx whose config is generated from
 * examples/nginx/basalt.conf (only its upstream `server` lines and `listen` port are replaced, so
 * the documented config is the tested one). Everything listens on loopback.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import PocketBase from 'pocketbase';
import { Redis } from 'ioredis';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/basalt.js');
export const SU = { email: 'root@example.com', password: 'cluster-pass-1' };

export interface BasaltNode {
  name: string;
  port: number;
  url: string;
  proc: ChildProcess;
  log: string[];
}

export interface Cluster {
  nodes: BasaltNode[];
  /** nginx's address: round robin over the nodes. */
  url: string;
  /** The database URL the nodes use (through PgBouncer with `dbVia`). */
  dbUrl: string;
  /** The database itself, on the PostgreSQL server. */
  directDbUrl: string;
  stop(): Promise<void>;
}

/** Why the suite cannot run here, or '' when it can (nginx installed, build, PostgreSQL, Redis). */
export async function missingPrerequisite(pgAdminUrl: string, redisUrl: string): Promise<string> {
  if (!nginxPath()) return 'nginx is not installed (apt-get install -y nginx)';
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) return 'no build: run npm run build';
  const c = new pg.Client({ connectionString: pgAdminUrl, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
  } catch (e) {
    return `PostgreSQL is not reachable at ${pgAdminUrl}: ${(e as Error).message}`;
  } finally {
    await c.end().catch(() => undefined);
  }
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    return `Redis is not reachable at ${redisUrl}: ${(e as Error).message}`;
  } finally {
    r.disconnect();
  }
  return '';
}

export function nginxPath(): string {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : '';
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The nginx config: the documented snippet with our ports, inside a minimal top-level config. */
export function nginxConfig(prefix: string, listen: number, ports: number[]): string {
  const snippet = readFileSync(join(ROOT, 'examples/nginx/basalt.conf'), 'utf8');
  let replaced = 0;
  const withPorts = snippet.replace(/((?:^ *server 127\.0\.0\.1:\d+ [^\n]*\n)+)/gm, (block) => {
    replaced++;
    const opts = block.split('\n')[0]!.replace(/^ *server 127\.0\.0\.1:\d+/, '');
    return ports.map((p) => `    server 127.0.0.1:${p}${opts}\n`).join('');
  });
  if (replaced !== 2) throw new Error(`examples/nginx/basalt.conf: expected 2 upstream server blocks, found ${replaced}`);
  const withListen = withPorts.replace(/listen 127\.0\.0\.1:\d+;/, `listen 127.0.0.1:${listen};`);
  if (withListen === withPorts) throw new Error('examples/nginx/basalt.conf: no listen line');
  return [
    `pid ${prefix}/nginx.pid;`,
    `error_log ${prefix}/error.log warn;`,
    'worker_processes 1;',
    'events { worker_connections 512; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${prefix}/client_body;`,
    `  proxy_temp_path ${prefix}/proxy;`,
    `  fastcgi_temp_path ${prefix}/fastcgi;`,
    `  uwsgi_temp_path ${prefix}/uwsgi;`,
    `  scgi_temp_path ${prefix}/scgi;`,
    withListen,
    '}',
    '',
  ].join('\n');
}

async function waitFor(url: string, proc: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && proc.exitCode !== null) throw new Error(`${url}: process exited with ${proc.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runCli(args: string[]): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`basalt ${args[0]} failed (${r.status}): ${r.stderr}`);
}

export interface Nginx {
  /** `http://127.0.0.1:PORT` */
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** nginx (daemon off) with the documented config over `ports`, its files under `prefix`; resolves once it proxies /api/health/live. */
export async function startNginx(prefix: string, ports: number[]): Promise<Nginx> {
  mkdirSync(prefix, { recursive: true });
  const listen = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConfig(prefix, listen, ports));
  const ngLog: string[] = [];
  const proc = spawn(nginxPath(), ['-c', conf, '-p', prefix, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr!.on('data', (b: Buffer) => ngLog.push(b.toString()));
  const url = `http://127.0.0.1:${listen}`;
  const stop = () => stopProcess(proc);
  await waitFor(`${url}/api/health/live`, proc, 10_000).catch(async (e) => {
    await stop();
    throw new Error(`nginx: ${(e as Error).message}\n${ngLog.join('')}${existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : ''}`);
  });
  return { url, proc, stop };
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

export interface ClusterOptions {
  pgAdminUrl: string;
  redisUrl: string;
  count: number;
  hooksDir: string;
  /** The URL the nodes (and the CLI) use for the new database, e.g. through PgBouncer. @default the database itself */
  dbVia?: (url: string) => string;
  /** `ALTER DATABASE … SET name = value` on the new database before any node connects. */
  databaseSettings?: Record<string, string>;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const tmp = mkdtempSync(join(tmpdir(), 'basalt-cluster-'));
  const dbName = `basalt_t_cluster_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: opts.pgAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  for (const [name, value] of Object.entries(opts.databaseSettings ?? {})) {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`not a setting name: ${name}`);
    await admin.query(`ALTER DATABASE "${dbName}" SET ${name} = '${value.replace(/'/g, "''")}'`);
  }
  await admin.end();
  const direct = new URL(opts.pgAdminUrl);
  direct.pathname = `/${dbName}`;
  const dbUrl = new URL(opts.dbVia ? opts.dbVia(direct.href) : direct.href);
  const nodes: BasaltNode[] = [];
  let nginx: Nginx | undefined;

  const start = async (i: number): Promise<BasaltNode> => {
    const port = await freePort();
    const dir = join(tmp, `node${i}`);
    const proc = spawn(
      process.execPath,
      [BIN, 'serve', '--http', `127.0.0.1:${port}`, '--db', dbUrl.href, '--redis', opts.redisUrl, '--dir', dir, '--hooks', opts.hooksDir, '--trust-proxy', '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BASALT_METRICS_TOKEN: '' } },
    );
    const log: string[] = [];
    const keep = (b: Buffer) => {
      log.push(b.toString());
      if (log.length > 200) log.shift();
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const node = { name: 'ABCDEFGH'[i]!, port, url: `http://127.0.0.1:${port}`, proc, log };
    nodes.push(node);
    await waitFor(`${node.url}/api/health/ready`, proc, 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${log.join('')}`);
    });
    return node;
  };

  const stop = async () => {
    await nginx?.stop();
    for (const n of nodes) await stopProcess(n.proc);
    const c = new pg.Client({ connectionString: opts.pgAdminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await c.end();
    rmSync(tmp, { recursive: true, force: true });
  };

  try {
    // The first node creates the tables; the others then start on a ready schema, at once.
    runCli(['superuser', 'upsert', SU.email, SU.password, '--db', dbUrl.href, '--dir', join(tmp, 'cli')]);
    await start(0);
    const rest = [];
    for (let i = 1; i < opts.count; i++) rest.push(start(i));
    await Promise.all(rest);
    nodes.sort((a, b) => a.name.localeCompare(b.name));
    nginx = await startNginx(join(tmp, 'nginx'), nodes.map((n) => n.port));
    return { nodes, url: nginx.url, dbUrl: dbUrl.href, directDbUrl: direct.href, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/**
 * SDK clients of a cluster suite: each one remembered, so that the suite can close their realtime
 * streams at the end (`unsubscribeAll`).
 */
export class SdkClients {
  private readonly all: PocketBase[] = [];

  /** A client of the node or proxy at `url`, without the SDK's auto-cancellation. */
  sdk(url: string): PocketBase {
    const pb = new PocketBase(url);
    pb.autoCancellation(false);
    this.all.push(pb);
    return pb;
  }

  /** A client signed in as the cluster's superuser. */
  async superuser(url: string): Promise<PocketBase> {
    const pb = this.sdk(url);
    await pb.collection('_superusers').authWithPassword(SU.email, SU.password);
    return pb;
  }

  unsubscribeAll(): void {
    for (const pb of this.all) pb.realtime.unsubscribe().catch(() => undefined);
  }
}
