/**
 * A PostgreSQL primary and a streaming replica of it, started for one test file on loopback
 * ports of their own (the shared server on 5432 is never touched): `initdb`, then
 * `pg_basebackup -R -X stream` into the replica's directory. PostgreSQL refuses to run as root:
 * as root, the tools run as the `postgres` user (runuser). Both servers are stopped
 * (`pg_ctl stop -m immediate`) and their directories removed by `stop()`, and at process exit
 * if a test run dies before that.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';

export interface ReplicaPair {
  /** postgres://…/basalt on the primary and on the replica. */
  primaryUrl: string;
  replicaUrl: string;
  /** Runs SQL on the replica (its own statistics, replay control). */
  onReplica<T = Record<string, unknown>>(text: string): Promise<T[]>;
  stopReplica(): void;
  startReplica(): void;
  stop(): void;
}

/** The newest PostgreSQL's binaries with the tools the pair needs, or '' (the suite then skips). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return '';
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].every((tool) => existsSync(join(bin, tool)))) return bin;
  }
  return '';
}

/** Why the pair cannot start here, or '' when it can. */
export function missingTools(): string {
  if (!postgresBin()) return 'PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found under /usr/lib/postgresql';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root without a postgres user to run the servers as';
  return '';
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function startReplicaPair(): Promise<ReplicaPair> {
  const bin = postgresBin();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync('/tmp/basalt-replicas-');
  const primaryDir = join(dir, 'primary');
  const replicaDir = join(dir, 'replica');
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, tool), ...args] : [join(bin, tool), ...args];
    const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  };
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  let primaryUp = false;
  let replicaUp = false;
  const stopServer = (data: string) => spawnSync(asRoot ? 'runuser' : join(bin, 'pg_ctl'), [...(asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl')] : []), '-D', data, 'stop', '-m', 'immediate', '-w'], { timeout: 30_000 });
  const stop = () => {
    if (replicaUp) stopServer(replicaDir);
    if (primaryUp) stopServer(primaryDir);
    replicaUp = primaryUp = false;
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', stop);
  };
  process.on('exit', stop);
  const start = (data: string, port: number) => run('pg_ctl', ['-D', data, '-o', `-p ${port} -k ${dir}`, '-l', join(dir, `${port}.log`), '-w', '-t', '30', 'start']);
  try {
    run('initdb', ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions']);
    // Fast and loopback-only: a test server that loses its data on a crash is fine.
    appendFileSync(
      join(primaryDir, 'postgresql.conf'),
      ["listen_addresses = '127.0.0.1'", 'wal_level = replica', 'max_wal_senders = 4', 'fsync = off', 'full_page_writes = off', 'hot_standby = on', ''].join('\n'),
    );
    appendFileSync(join(primaryDir, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 trust\n');
    start(primaryDir, primaryPort);
    primaryUp = true;
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${primaryPort}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE basalt');
    await admin.end();
    run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream', '-c', 'fast']);
    start(replicaDir, replicaPort);
    replicaUp = true;
  } catch (err) {
    stop();
    throw err;
  }
  const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/basalt`;
  return {
    primaryUrl: `postgres://postgres@127.0.0.1:${primaryPort}/basalt`,
    replicaUrl,
    async onReplica<T>(text: string) {
      const c = new pg.Client({ connectionString: replicaUrl });
      await c.connect();
      try {
        return (await c.query(text)).rows as T[];
      } finally {
        await c.end();
      }
    },
    stopReplica() {
      stopServer(replicaDir);
      replicaUp = false;
    },
    startReplica() {
      start(replicaDir, replicaPort);
      replicaUp = true;
    },
    stop,
  };
}
