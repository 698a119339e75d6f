/**
 * Debian's Firefox ESR for the dashboard's main-path journey, driven by puppeteer-core over
 * WebDriver BiDi (Firefox's own remote protocol: no patched or downloaded browser, which
 * Playwright's Firefox would need). What the CSP refuses is caught by a listener the protocol
 * preloads into every document, before the page's own scripts.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { AXE_SOURCE, expectCleanStep, findLabelled, findNamed, screenshotsOf, type BrowserDriver } from './browser-driver.js';
import type { AxeViolation } from './dashboard-harness.js';

declare const window: any;
declare const document: any;

/** Debian's Firefox ESR (.ci/run installs it); FIREFOX_PATH may name another build. */
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export function missingFirefox(): string {
  return existsSync(FIREFOX) ? '' : `no Firefox at ${FIREFOX} (apt-get install -y firefox-esr)`;
}

export async function openFirefox(): Promise<BrowserDriver> {
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, protocolTimeout: 60_000 });
  try {
    const page = await browser.newPage();
    const driver = new FirefoxDriver(browser, page);
    await driver.start();
    return driver;
  } catch (err) {
    await browser.close();
    throw err;
  }
}

class FirefoxDriver implements BrowserDriver {
  readonly name = 'firefox';
  private readonly problems: string[] = [];
  private readonly screenshot = screenshotsOf('firefox');

  constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {
    page.on('pageerror', (err) => this.problems.push(`page error: ${err instanceof Error ? err.message : String(err)}`));
  }

  async start(): Promise<void> {
    await this.page.setViewport({ width: 1280, height: 800 });
    await this.page.evaluateOnNewDocument(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e: any) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
  }

  async goto(url: string): Promise<void> {
    await this.page.goto(url);
  }

  async reload(): Promise<void> {
    await this.page.reload();
  }

  async setViewport(width: number, height: number): Promise<void> {
    await this.page.setViewport({ width, height });
  }

  evaluate<A, T>(fn: (arg: A) => T, arg: A): Promise<T> {
    return this.page.evaluate(fn as any, arg) as Promise<T>;
  }

  async until<A>(fn: (arg: A) => unknown, arg: A, what: string): Promise<void> {
    try {
      await this.page.waitForFunction(fn as any, { timeout: 20_000, polling: 100 }, arg);
    } catch (err) {
      throw new Error(`Firefox: ${what} did not happen (${(err as Error).message})`);
    }
  }

  /** The element `find(arg)` returns in the page, once there is one (puppeteer's clicks and keys then go to it). */
  private async element<A>(find: (arg: A) => unknown, arg: A, what: string): Promise<ElementHandle> {
    await this.until(find, arg, what);
    const element = (await this.page.evaluateHandle(find as any, arg)).asElement();
    if (!element) throw new Error(`Firefox: ${what} is gone`);
    return element as ElementHandle;
  }

  async click(name: string): Promise<void> {
    await (await this.element(findNamed, name, `a button or link “${name}”`)).click();
  }

  async fill(label: string, value: string, scope = ''): Promise<void> {
    const control = await this.element(findLabelled, { label, scope }, `a control labelled “${label}”`);
    await control.click();
    await control.evaluate((el: any) => el.select?.());
    await this.page.keyboard.press('Backspace');
    await control.type(value);
  }

  async press(key: 'Enter' | 'Escape'): Promise<void> {
    await this.page.keyboard.press(key);
  }

  async upload(label: string, scope: string, path: string): Promise<void> {
    const input = await this.element(findLabelled, { label, scope }, `a file input labelled “${label}”`);
    await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(path);
  }

  async check(step: string): Promise<void> {
    await this.page.screenshot({ path: this.screenshot(step), fullPage: true });
    if (!(await this.page.evaluate(() => typeof window.axe !== 'undefined'))) await this.page.evaluate(AXE_SOURCE);
    const { violations } = (await this.page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }))) as { violations: AxeViolation[] };
    const csp = (await this.page.evaluate(() => window.__cspViolations ?? null)) as string[] | null;
    expectCleanStep(step, violations, this.problems, csp);
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
