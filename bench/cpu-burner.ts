/**
 * A control for the stored-logs run (bench/logs.ts): a process that keeps `fraction` of one core
 * busy (pure arithmetic, in 20 ms periods), started beside the logs-off measurement with the CPU
 * the log writer's thread used during the logs-on one. It answers: does logging cost more than
 * any other program using the same CPU on this machine would?
 *
 * `startBurner(fraction)` forks this file; run directly it burns until killed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PERIOD_MS = 20;

function burn(fraction: number): void {
  const busy = Math.min(1, Math.max(0, fraction)) * PERIOD_MS;
  setInterval(() => {
    const until = performance.now() + busy;
    let x = 0;
    while (performance.now() < until) x++;
    if (x < 0) console.log(x); // keeps the loop from being optimised away
  }, PERIOD_MS);
}

export interface Burner {
  stop(): Promise<void>;
}

export async function startBurner(fraction: number): Promise<Burner> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [String(fraction)], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) burn(Number(process.argv[2] ?? 0));
