/**
 * Debian's Firefox ESR for the dashboard's Firefox journey, driven by puppeteer-core over
 * WebDriver BiDi (Firefox's own remote protocol: no patched or downloaded browser, which
 * Playwright's Firefox would need). A few helpers find controls as a user does — by their label,
 * or a button or link by its name — and each step checks what the Chromium journeys check: a
 * screenshot, no serious or critical axe-core violation, no page error, nothing the CSP refused.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { expect } from 'vitest';
import { ENGINE } from '../harness/engines.js';
import { describeViolations, ROOT, type AxeViolation } from './dashboard-harness.js';

declare const window: any;
declare const document: any;

/** Debian's Firefox ESR (.ci/run installs it); FIREFOX_PATH may name another build. */
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export function missingFirefox(): string {
  return existsSync(FIREFOX) ? '' : `no Firefox at ${FIREFOX} (apt-get install -y firefox-esr)`;
}

export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, protocolTimeout: 60_000 });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export class FirefoxDriver {
  private readonly dir = join(ROOT, 'test-artifacts', 'dashboard', ENGINE);
  private n = 0;
  /** Uncaught errors of the page so far. */
  readonly problems: string[] = [];

  constructor(readonly page: Page) {
    mkdirSync(this.dir, { recursive: true });
    for (const f of readdirSync(this.dir)) if (f.startsWith('firefox-')) rmSync(join(this.dir, f), { force: true });
    page.on('pageerror', (err) => this.problems.push(`page error: ${err instanceof Error ? err.message : String(err)}`));
  }

  /**
   * Records what the CSP refuses, in every document the page loads: an event the browser fires
   * whatever its console says (a preload script of the protocol's, which the CSP does not govern).
   */
  async watchCsp(): Promise<void> {
    await this.page.evaluateOnNewDocument(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e: any) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
  }

  /** Waits until `fn(arg)` is true in the page (20 s). */
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
    const handle = await this.page.evaluateHandle(find as any, arg);
    const element = handle.asElement();
    if (!element) throw new Error(`Firefox: ${what} is gone`);
    return element as ElementHandle;
  }

  /** The control labelled `label` (a <label> whose text starts with it, or aria-label), within `scope` (a CSS selector) if given. */
  byLabel(label: string, scope = ''): Promise<ElementHandle> {
    return this.element(findLabelled, { label, scope }, `a control labelled “${label}”${scope ? ` in ${scope}` : ''}`);
  }

  /** The visible, enabled button, link or tab named `name` (its aria-label or text, exactly). */
  byName(name: string): Promise<ElementHandle> {
    return this.element(findNamed, name, `a button or link “${name}”`);
  }

  async click(name: string): Promise<void> {
    await (await this.byName(name)).click();
  }

  /** Replaces the text of the control labelled `label` by typing `value`. */
  async fill(label: string, value: string, scope = ''): Promise<void> {
    const control = await this.byLabel(label, scope);
    await control.click();
    await control.evaluate((el: any) => el.select?.());
    await this.page.keyboard.press('Backspace');
    await control.type(value);
  }

  text(selector: string): Promise<string> {
    return this.page.evaluate((s: string) => document.querySelector(s)?.textContent ?? '', selector);
  }

  /** A step: its screenshot, then no serious or critical axe-core violation, no page error, nothing the CSP refused. */
  async check(name: string): Promise<void> {
    this.n++;
    await this.page.screenshot({ path: join(this.dir, `firefox-${String(this.n).padStart(2, '0')}-${name}.png`), fullPage: true });
    const hasAxe = await this.page.evaluate(() => typeof window.axe !== 'undefined');
    if (!hasAxe) await this.page.evaluate(AXE_SOURCE);
    const { violations } = (await this.page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }))) as { violations: AxeViolation[] };
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, `${name}:\n${describeViolations(serious)}`).toEqual([]);
    const csp = (await this.page.evaluate(() => window.__cspViolations ?? null)) as string[] | null;
    expect(csp, `${name}: the CSP watcher is not in the page`).not.toBeNull();
    expect([...this.problems, ...(csp ?? []).map((c) => `CSP refused: ${c}`)], name).toEqual([]);
  }
}

// The finders run in the page (puppeteer sends their source): self-contained, no closure over test code.

function findLabelled({ label, scope }: { label: string; scope: string }): any {
  const root = scope ? document.querySelector(scope) : document;
  if (!root) return null;
  for (const l of root.querySelectorAll('label')) {
    const text = (l.textContent ?? '').trim();
    if (!text.startsWith(label)) continue;
    const control = l.htmlFor ? document.getElementById(l.htmlFor) : l.querySelector('input, select, textarea');
    if (control) return control;
  }
  for (const el of root.querySelectorAll('[aria-label]')) if (el.getAttribute('aria-label') === label) return el;
  return null;
}

function findNamed(name: string): any {
  for (const el of document.querySelectorAll('button, a, [role="tab"], [role="button"]')) {
    const own = (el.getAttribute('aria-label') ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
    if (own === name && !el.disabled && el.getClientRects().length > 0) return el;
  }
  return null;
}
