/**
 * What the dashboard's main-path journey (main-path-journey.ts) needs from a browser other than
 * Chromium — Firefox over WebDriver BiDi (firefox-driver.ts), WebKit over WebDriver
 * (webkit-driver.ts): controls found as a user finds them (by their label, a button or link by
 * its name), keys, waiting on the page, and a step's check (a screenshot, axe-core, no page
 * error, nothing the CSP refused). Also what both drivers share: the in-page finders and the
 * step's verdict.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ENGINE } from '../harness/engines.js';
import { describeViolations, ROOT, type AxeViolation } from './dashboard-harness.js';

declare const document: any;

export interface BrowserDriver {
  /** The browser's name, for messages and screenshot names (`firefox`, `webkit`). */
  readonly name: string;
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  setViewport(width: number, height: number): Promise<void>;
  /** Runs `fn(arg)` in the page (self-contained: its source is sent) and returns its JSON-able result. */
  evaluate<A, T>(fn: (arg: A) => T, arg: A): Promise<T>;
  /** Waits (20 s) until `fn(arg)` is truthy in the page. */
  until<A>(fn: (arg: A) => unknown, arg: A, what: string): Promise<void>;
  /** Waits for the button, link or tab named `name`, then clicks it. */
  click(name: string): Promise<void>;
  /** Waits for the control labelled `label` (within the `scope` selector), then replaces its text by typing `value`. */
  fill(label: string, value: string, scope?: string): Promise<void>;
  /** Presses a key in the focused element. */
  press(key: 'Enter' | 'Escape'): Promise<void>;
  /** Chooses a file for the file input labelled `label`. */
  upload(label: string, scope: string, path: string): Promise<void>;
  /** A step: a screenshot, no serious or critical axe-core violation, no page error, nothing the CSP refused. */
  check(step: string): Promise<void>;
  close(): Promise<void>;
}

export const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Where a browser's screenshots go (`<browser>-NN-<step>.png`), its earlier ones removed. */
export function screenshotsOf(browser: string): (step: string) => string {
  const dir = join(ROOT, 'test-artifacts', 'dashboard', ENGINE);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.startsWith(`${browser}-`)) rmSync(join(dir, f), { force: true });
  let n = 0;
  return (step) => join(dir, `${browser}-${String(++n).padStart(2, '0')}-${step}.png`);
}

/** The verdict of a step: its axe-core violations (serious or critical fail), page errors, CSP refusals. */
export function expectCleanStep(step: string, violations: AxeViolation[], problems: readonly string[], csp: readonly string[] | null): void {
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${step}:\n${describeViolations(serious)}`).toEqual([]);
  expect(csp, `${step}: the CSP watcher is not in the page`).not.toBeNull();
  expect([...problems, ...(csp ?? []).map((c) => `CSP refused: ${c}`)], step).toEqual([]);
}

// The finders run in the page (the drivers send their source): self-contained, no closure.

/** The control labelled `label` (a <label> whose text starts with it, or an aria-label), within `scope`. */
export function findLabelled({ label, scope }: { label: string; scope: string }): any {
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

/** The visible, enabled button, link or tab named `name` (its aria-label or text, exactly). */
export function findNamed(name: string): any {
  for (const el of document.querySelectorAll('button, a, [role="tab"], [role="button"]')) {
    const own = (el.getAttribute('aria-label') ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
    if (own === name && !el.disabled && el.getClientRects().length > 0) return el;
  }
  return null;
}
