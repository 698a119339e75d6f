/**
 * One side of a scenario: start a server, take one sample response (to compare shapes with the
 * other side), warm up, measure, stop, and read its log for warnings and errors.
 */
import { readFileSync } from 'node:fs';
import { watchCpu } from './cpu-monitor.js';
import { runLoad, type LoadRequest, type LoadResult } from './load.js';
import { freePort, startServer, type StartOptions } from './processes.js';

export interface Side {
  name: string;
  /** How to start it on `port`, logging to `logFile`. */
  start(port: number, logFile: string): Omit<StartOptions, 'port' | 'logFile'>;
  /** Log lines that are expected and not a problem (e.g. the start-up banner). */
  quietLines: RegExp;
  /** The PostgreSQL database it uses (its backends' CPU time is the server's, not noise). */
  database?: string;
}

export interface Settings {
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

export interface SideResult {
  load: LoadResult;
  sample: { status: number; json: unknown };
  /** Warnings/errors found in the log, a non-zero exit code. */
  problems: string[];
  /** Cores other programs kept busy during the measurement (null: unknown, not Linux). */
  otherCpu: number | null;
}

async function sampleOf(url: string, request: LoadRequest): Promise<SideResult['sample']> {
  const res = await fetch(url + request.path, {
    method: request.method,
    body: request.body,
    headers: { ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // keep the text: the comparison will show it
  }
  return { status: res.status, json };
}

/** pino levels: 40 warn, 50 error, 60 fatal. Non-JSON lines count unless they are expected. */
function logProblems(logFile: string, quiet: RegExp): string[] {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [`log ${logFile} is missing`];
  }
  const bad: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || quiet.test(line)) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) >= 40) bad.push(`${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`);
    } catch {
      bad.push(line);
    }
  }
  if (bad.length === 0) return [];
  const distinct = [...new Set(bad)].slice(0, 3).map((l) => (l.length > 200 ? l.slice(0, 200) + '…' : l));
  return [`${bad.length} warning/error log lines in ${logFile}, e.g. ${distinct.map((l) => JSON.stringify(l)).join('; ')}`];
}

export async function measureSide(side: Side, logFile: string, sample: LoadRequest, next: () => LoadRequest, settings: Settings): Promise<SideResult> {
  const port = await freePort();
  const server = await startServer({ ...side.start(port, logFile), port, logFile });
  let load: LoadResult;
  let sampled: SideResult['sample'];
  let code: number | null;
  let otherCpu: number | null = null;
  try {
    sampled = await sampleOf(server.url, sample);
    if (settings.warmupSeconds > 0) await runLoad({ url: server.url, connections: settings.connections, seconds: settings.warmupSeconds, next });
    const cpu = watchCpu(server.pid, side.database);
    load = await runLoad({ url: server.url, connections: settings.connections, seconds: settings.seconds, next });
    otherCpu = cpu.stop();
  } finally {
    code = await server.stop();
  }
  const problems = logProblems(logFile, side.quietLines);
  if (code !== 0) problems.push(`${side.name} exited with ${code === null ? 'a signal (killed)' : `code ${code}`} on SIGTERM`);
  return { load, sample: sampled, problems, otherCpu };
}
