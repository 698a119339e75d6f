/**
 * Child server processes: spawn with output to a log file, wait until `GET /api/health` answers,
 * stop with SIGTERM (SIGKILL after a grace period). Every child is registered for cleanup, so a
 * crash or Ctrl-C in the benchmark never leaves a server running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { interrupted, onCleanup } from './cleanup.js';

export interface ServerProcess {
  readonly name: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  /** Stops the server and resolves with its exit code (null when it had to be killed). */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  name: string;
  /** Arguments of `node` (flags, script, script arguments). */
  nodeArgs: string[];
  port: number;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd: string;
  /** @default 30000 */
  startTimeoutMs?: number;
}

const STOP_GRACE_MS = 15_000;

/** A port the kernel says is free right now (tiny race with other programs, fine for a bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForHealth(name: string, url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited during start-up (code ${child.exitCode ?? child.signalCode}); log ${logFile}:\n${logTail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer ${url}/api/health within ${timeoutMs} ms; log ${logFile}:\n${logTail(logFile)}`);
}

/** Starts `node …nodeArgs` and resolves once it is healthy. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const { name, port, logFile } = options;
  if (interrupted()) throw new Error(`not starting ${name}: interrupted`);
  const url = `http://127.0.0.1:${port}`;
  // The child writes straight to the file: the parent never has to drain a pipe under load.
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, options.nodeArgs, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      return await exited(child);
    } finally {
      clearTimeout(timer);
    }
  };
  const release = onCleanup(`stop ${name}`, stop, () => child.kill('SIGKILL'));
  try {
    await waitForHealth(name, url, child, logFile, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    await release();
    throw err;
  }
  return {
    name,
    url,
    logFile,
    pid: child.pid,
    async stop() {
      await release();
      return child.exitCode;
    },
  };
}
