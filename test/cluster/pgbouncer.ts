/**
 * A PgBouncer in transaction mode in front of the PostgreSQL of `upstreamUrl`, on loopback, for
 * the cluster suite and the cluster benchmark. It refuses to run as root, so when we are root it
 * runs as the `postgres` system user (its directory is handed over to that user).
 *
 * What Basalt needs from it (README "Scaling"): `ignore_startup_parameters = statement_timeout`,
 * because Basalt's pg pool sends its query deadline as a startup parameter, which PgBouncer
 * refuses; the deadline is then set on the database or role instead (`ALTER DATABASE … SET
 * statement_timeout`), where every pooled server connection picks it up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';

export interface PgBouncer {
  port: number;
  /** `url` with host and port replaced by PgBouncer's. */
  via(url: string): string;
  /** PgBouncer's log so far (for a failure message). */
  log(): string;
  stop(): Promise<void>;
}

export function pgbouncerPath(): string {
  for (const p of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : '';
}

/** uid/gid of the system user PgBouncer runs as when we are root (it will not run as root). */
function unprivileged(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('PgBouncer does not run as root and there is no postgres or nobody user to run it as');
}

async function listening(port: number, proc: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pgbouncer exited with ${proc.exitCode}: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts PgBouncer on `port` in transaction mode: every database of the upstream server, at most
 * `poolSize` server connections per database and user, any number of clients.
 */
export async function startPgBouncer(opts: { upstreamUrl: string; port: number; poolSize: number }): Promise<PgBouncer> {
  const upstream = new URL(opts.upstreamUrl);
  const dir = mkdtempSync(join(tmpdir(), 'basalt-pgbouncer-'));
  const user = decodeURIComponent(upstream.username || 'postgres');
  const logFile = join(dir, 'pgbouncer.log');
  writeFileSync(join(dir, 'users.txt'), `"${user}" "${decodeURIComponent(upstream.password)}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || '5432'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${opts.port}`,
      'unix_socket_dir =',
      // The upstream here is the local server with trust authentication; a real one would use
      // scram-sha-256 with auth_file or auth_query.
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${opts.poolSize}`,
      'max_client_conn = 1000',
      // Basalt's pool sends statement_timeout at connect: dropped here, set on the database instead.
      'ignore_startup_parameters = statement_timeout,extra_float_digits',
      `logfile = ${logFile}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  const as = unprivileged();
  if (as) {
    for (const f of ['', 'users.txt', 'pgbouncer.ini']) chownSync(join(dir, f), as.uid, as.gid);
    chmodSync(dir, 0o700);
  }
  const proc = spawn(pgbouncerPath(), [join(dir, 'pgbouncer.ini')], { stdio: 'ignore', ...(as ?? {}) });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await listening(opts.port, proc, 5000, logFile);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port: opts.port,
    via(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(opts.port);
      return u.href;
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    stop,
  };
}
