/**
 * What the dashboard's browser journey needs: a real `basalt serve` (the built binary, on a free
 * loopback port, a fresh data dir, SQLite or a new PostgreSQL database per BASALT_TEST_DB), its
 * printed output, Debian's Chromium driven by playwright-core (never a downloaded browser),
 * axe-core injected into each screen, and a numbered screenshot per step under
 * test-artifacts/dashboard/<engine>/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ENGINE } from '../harness/engines.js';
import { createPgDatabase } from '../harness/test-app.js';
import { freePort } from '../cluster/cluster-harness.js';

// The callbacks given to `page.evaluate` run in the page, but are compiled with the Node suite,
// without the DOM's types (adding them clashes with Node's fetch and Buffer types): declared loosely.
declare const window: any;
declare const document: any;

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/basalt.js');

/** Debian's Chromium (.ci/run installs it); CHROMIUM_PATH may name another build of it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the journey cannot run here, or '' when it can. */
export function missingPrerequisite(): string {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) return 'no build: run npm run build';
  if (!existsSync(join(ROOT, 'dist/dashboard/index.html'))) return 'the dashboard is not built: run npm run build';
  return '';
}

export interface Server {
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the first printed line matching `pattern` (within `timeoutMs`). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

/** `extraArgs`: more flags for `basalt serve` (`--hooks <dir>`, `--webhook-allow 127.0.0.1:<port>`). */
export async function startServer(extraArgs: readonly string[] = []): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-dashboard-'));
  const port = await freePort();
  const db = ENGINE === 'postgres' ? await createPgDatabase() : null;
  const args = [BIN, 'serve', '--http', `127.0.0.1:${port}`, '--dir', join(dir, 'data'), '--log-level', 'warn'];
  if (db) args.push('--db', db.url);
  args.push(...extraArgs);
  // Only what the server needs from the environment: no BASALT_* of the caller's leaks in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BASALT_')));
  const proc: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const url = `http://127.0.0.1:${port}`;

  const waitForOutput = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(out);
      if (m) return m;
      if (proc.exitCode !== null) throw new Error(`basalt serve exited with ${proc.exitCode}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`basalt serve did not print ${pattern} within ${timeoutMs} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitForOutput(/Basalt is serving/);
  } catch (err) {
    await stop();
    throw err;
  }
  const server: Server = {
    url,
    output: () => out,
    waitForOutput,
    stop: async () => {
      running.delete(server);
      await stop();
    },
  };
  running.add(server);
  return server;
}

/** The servers of this file's suites still running (for `printServerTails`). */
const running = new Set<Server>();

/**
 * For a failed test (setup-failures.ts): each running server's last printed lines (warnings and
 * errors, `--log-level warn`) on stderr, so a CI log says what the server saw when the page did
 * not show what was expected.
 */
export function printServerTails(test: string): void {
  for (const server of running) console.error(`--- ${server.url}: the server's last output when "${test}" failed ---\n${server.output().slice(-6000) || '(nothing)'}\n---`);
}

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * Numbered screenshots of the journey, kept as CI artifacts. A suite of its own (`prefix`, e.g.
 * `records`) numbers its own `records-01-….png` and clears only those, so the suites' shots live
 * side by side in one folder whatever order they run in.
 */
export class Steps {
  readonly dir = join(ROOT, 'test-artifacts', 'dashboard', ENGINE);
  private n = 0;

  constructor(private readonly prefix = '') {
    mkdirSync(this.dir, { recursive: true });
    const mine = prefix === '' ? (f: string) => /^\d/.test(f) : (f: string) => f.startsWith(`${prefix}-`);
    for (const f of readdirSync(this.dir)) if (mine(f)) rmSync(join(this.dir, f), { force: true });
  }

  async shot(page: Page, name: string): Promise<string> {
    this.n++;
    const path = join(this.dir, `${this.prefix ? `${this.prefix}-` : ''}${String(this.n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core on the page as it is; the serious and critical violations. NB: not through
 * `page.addScriptTag({ content })`: that is an inline script, which the dashboard's CSP refuses
 * (as it should, and the journey keeps the CSP enforced). Evaluating the source through the
 * DevTools protocol runs it in the page without weakening the policy.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    return window.axe.run(document, { resultTypes: ['violations'] }) as Promise<{ violations: AxeViolation[] }>;
  });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(violations: AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`).join('\n');
}

/**
 * What the page reports that must fail a step: uncaught errors, and what the Content-Security-
 * Policy refused (the console is where the browser says so). The list fills as the page runs.
 */
export function watchProblems(page: Page, problems: string[] = []): string[] {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  return problems;
}

/** A journey's step: its screenshot, then no serious or critical axe-core violation and no problem reported so far. */
export async function checkStep(steps: Steps, page: Page, problems: readonly string[], name: string): Promise<void> {
  await steps.shot(page, name);
  const violations = await axeViolations(page);
  expect(violations, `${name}:\n${describeViolations(violations)}`).toEqual([]);
  expect(problems, name).toEqual([]);
}
