/**
 * WebKit for the dashboard's main-path journey: Debian's WebKitGTK (the engine of Safari, with
 * its JavaScriptCore) through its WebDriver, `WebKitWebDriver`, and its MiniBrowser, driven by
 * selenium-webdriver. No WebKit build is downloaded (Playwright's would be). WebKitGTK needs an
 * X display: the driver starts an Xvfb of its own, on a display number the server picks.
 *
 * WebDriver classic has no preload scripts: the listeners for page errors and CSP refusals are
 * installed when each page has loaded (after goto and reload), so they see what the dashboard
 * does from then on (its screens, its requests), not its first parse.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { Builder, Key, type WebDriver, type WebElement } from 'selenium-webdriver';
import { freePort } from '../cluster/cluster-harness.js';
import { AXE_SOURCE, expectCleanStep, findLabelled, findNamed, screenshotsOf, type BrowserDriver } from './browser-driver.js';
import type { AxeViolation } from './dashboard-harness.js';

declare const window: any;
declare const document: any;

export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.WEBKIT_MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB = '/usr/bin/Xvfb';

export function missingWebKit(): string {
  if (!existsSync(WEBKIT_DRIVER)) return `no WebKitWebDriver at ${WEBKIT_DRIVER} (apt-get install -y webkit2gtk-driver)`;
  if (!existsSync(MINIBROWSER)) return `no MiniBrowser at ${MINIBROWSER} (it comes with webkit2gtk-driver's libwebkit2gtk)`;
  if (!existsSync(XVFB)) return `no Xvfb at ${XVFB} (apt-get install -y xvfb)`;
  return '';
}

/** Starts Xvfb on a display it chooses (`-displayfd`); resolves with `:N` and the process. */
async function startXvfb(): Promise<{ display: string; proc: ChildProcess }> {
  const proc = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1920x1200x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not start')), 15_000);
    proc.stdio[3]!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${out.trim()}`);
      }
    });
    proc.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
  });
  return { display, proc };
}

/** Resolves once something listens on the port (the driver, starting). */
async function listening(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${proc.exitCode}`);
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error('WebKitWebDriver did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function openWebKit(): Promise<BrowserDriver> {
  const x = await startXvfb();
  const port = await freePort();
  const driverProc = spawn(WEBKIT_DRIVER, [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: x.display } });
  const stop = () => {
    driverProc.kill('SIGKILL');
    x.proc.kill('SIGKILL');
  };
  try {
    await listening(port, driverProc);
    const driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } })
      .build();
    const webkit = new WebKitDriver(driver, stop);
    await webkit.setViewport(1280, 800);
    return webkit;
  } catch (err) {
    stop();
    throw err;
  }
}

class WebKitDriver implements BrowserDriver {
  readonly name = 'webkit';
  private readonly screenshot = screenshotsOf('webkit');

  constructor(
    private readonly driver: WebDriver,
    private readonly stop: () => void,
  ) {}

  /** The page's listeners for uncaught errors and CSP refusals (see the header). */
  private async watch(): Promise<void> {
    await this.driver.executeScript(() => {
      if (window.__problems) return;
      window.__problems = [];
      window.__cspViolations = [];
      window.addEventListener('error', (e: any) => window.__problems.push(`page error: ${e.message}`));
      window.addEventListener('unhandledrejection', (e: any) => window.__problems.push(`unhandled rejection: ${e.reason?.message ?? e.reason}`));
      document.addEventListener('securitypolicyviolation', (e: any) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
  }

  async goto(url: string): Promise<void> {
    await this.driver.get(url);
    await this.watch();
  }

  async reload(): Promise<void> {
    await this.driver.navigate().refresh();
    await this.watch();
  }

  async setViewport(width: number, height: number): Promise<void> {
    await this.driver.manage().window().setRect({ width, height });
  }

  evaluate<A, T>(fn: (arg: A) => T, arg: A): Promise<T> {
    return this.driver.executeScript<T>(`return (${fn.toString()})(arguments[0]);`, arg);
  }

  async until<A>(fn: (arg: A) => unknown, arg: A, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (await this.evaluate(fn, arg)) return;
      if (Date.now() > deadline) throw new Error(`WebKit: ${what} did not happen within 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async element<A>(find: (arg: A) => unknown, arg: A, what: string): Promise<WebElement> {
    await this.until(find, arg, what);
    const element = await this.driver.executeScript<WebElement | null>(`return (${find.toString()})(arguments[0]);`, arg);
    if (!element) throw new Error(`WebKit: ${what} is gone`);
    return element;
  }

  async click(name: string): Promise<void> {
    await (await this.element(findNamed, name, `a button or link “${name}”`)).click();
  }

  async fill(label: string, value: string, scope = ''): Promise<void> {
    const control = await this.element(findLabelled, { label, scope }, `a control labelled “${label}”`);
    await control.click();
    // Select all, then type over it: the input events a user's typing makes.
    await control.sendKeys(Key.chord(Key.CONTROL, 'a'), Key.BACK_SPACE);
    if (value !== '') await control.sendKeys(value);
  }

  async press(key: 'Enter' | 'Escape'): Promise<void> {
    await this.driver.actions().sendKeys(key === 'Enter' ? Key.ENTER : Key.ESCAPE).perform();
  }

  async upload(label: string, scope: string, path: string): Promise<void> {
    const input = await this.element(findLabelled, { label, scope }, `a file input labelled “${label}”`);
    await input.sendKeys(path);
  }

  async check(step: string): Promise<void> {
    writeFileSync(this.screenshot(step), Buffer.from(await this.driver.takeScreenshot(), 'base64'));
    if (!(await this.evaluate(() => typeof window.axe !== 'undefined', null))) await this.driver.executeScript(AXE_SOURCE);
    const { violations } = await this.driver.executeAsyncScript<{ violations: AxeViolation[] }>(
      'const done = arguments[arguments.length - 1]; window.axe.run(document, { resultTypes: ["violations"] }).then(done, (e) => done({ violations: [{ id: "axe-error", impact: "critical", help: String(e), nodes: [] }] }));',
    );
    const { problems, csp } = await this.evaluate(() => ({ problems: (window.__problems ?? []) as string[], csp: (window.__cspViolations ?? null) as string[] | null }), null);
    expectCleanStep(step, violations, problems, csp);
  }

  async close(): Promise<void> {
    try {
      await this.driver.quit();
    } finally {
      this.stop();
    }
  }
}
