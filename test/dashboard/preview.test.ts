/**
 * The API preview in the browser (issue 13), on a server of its own: a collection's preview
 * opened from its records, the list example's SDK code run from the test against the server
 * (it must work as shown), its curl URL fetched, the rules shown per action, an auth
 * collection's sign-in examples; plus the polish around it — the focus on the new screen's
 * heading, the Collections section highlighted on the collection's sub-screens, and the
 * collection editor's unsaved-changes prompt on "Sign out".
 *
 * With UPDATE_README_SCREENSHOT=1 it also writes the README's picture of the dashboard
 * (docs/images/dashboard.png: the records of a demo collection, light theme, 1280×800).
 *
 * Screenshots in test-artifacts/dashboard/<engine>/preview-*.png, axe-core at each step, the CSP
 * enforced (any violation or page error fails).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStep, launchBrowser, missingPrerequisite, ROOT, type Server, startServer, Steps, watchProblems } from './dashboard-harness.js';

declare const document: any;

const missing = missingPrerequisite();
if (missing && process.env.CI) throw new Error(`the dashboard API preview journey cannot run: ${missing}`);

/** expect.poll with room for a busy CI machine (its default gives up after 1 s). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 10_000 });

const ADMIN = { email: 'preview-admin@example.com', password: 'preview-password-1' };

/** Runs an example as the dashboard shows it: its `import` line becomes the SDK handed in. */
async function runExample(code: string, result: string): Promise<unknown> {
  const body = code.replace(/^import PocketBase from 'pocketbase';$/m, '');
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
  return new AsyncFunction('PocketBase', `${body}\nreturn ${result};`)(PocketBase);
}

describe.skipIf(missing !== '')(`the dashboard's API preview${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let steps: Steps;
  let admin: PocketBase;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    const [, token] = await server.waitForOutput(/\/_\/#\/pbinstal\/(\S+)/);
    const guest = new PocketBase(server.url);
    await guest.collection('_superusers').create({ email: ADMIN.email, password: ADMIN.password, passwordConfirm: ADMIN.password }, { headers: { Authorization: token! } });
    admin = new PocketBase(server.url);
    admin.autoCancellation(false);
    await admin.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);

    // A demo collection: public to list and view, signed-in users create, superusers the rest.
    await admin.collections.create({
      name: 'posts',
      type: 'base',
      listRule: '',
      viewRule: '',
      createRule: '@request.auth.id != ""',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'status', type: 'select', maxSelect: 1, values: ['draft', 'published'] },
        { name: 'views', type: 'number' },
        { name: 'featured', type: 'bool' },
        // A date of its own rather than autodates, and fixed ids: the README's picture is the same on every run.
        { name: 'published', type: 'date' },
      ],
    });
    const demo: [string, string, string, number, boolean, string][] = [
      ['post00000000004', 'Hello, Basalt', 'published', 1280, true, '2026-11-02 09:00:00.000Z'],
      ['post00000000003', 'Rules in five minutes', 'published', 640, false, '2026-11-09 09:00:00.000Z'],
      ['post00000000002', 'Realtime with the SDK', 'published', 512, true, '2026-11-16 09:00:00.000Z'],
      ['post00000000001', 'Backups and restore', 'draft', 0, false, ''],
    ];
    for (const [id, title, status, views, featured, published] of demo) await admin.collection('posts').create({ id, title, status, views, featured, published });

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    watchProblems(page, problems);
    steps = new Steps('preview');

    await page.goto(`${server.url}/_/#/login`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/#\/collections/);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  const check = (name: string) => checkStep(steps, page, problems, name);

  const focusedText = () => page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent?.trim()}`);
  const codeOf = (label: string) => page.getByRole('region', { name: label, exact: true }).innerText();

  it('shows the demo collection’s records (and writes the README’s screenshot when asked)', async () => {
    await page.goto(`${server.url}/_/#/collections/posts`);
    await poll(() => page.getByRole('cell', { name: 'Hello, Basalt' }).count()).toBe(1);
    // A route change puts the focus on the screen's heading (screen readers announce it).
    await poll(focusedText).toBe('H1 posts');
    // The grid paints its rows before their count: the picture waits for both.
    await poll(() => page.getByText('4 records', { exact: true }).count()).toBe(1);
    if (process.env.UPDATE_README_SCREENSHOT === '1') {
      const dir = join(ROOT, 'docs', 'images');
      mkdirSync(dir, { recursive: true });
      // The viewport only (not the full page): the picture a first visitor sees.
      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(dir, 'dashboard.png'), fullPage: false });
    }
    // A new query is no new screen: applying a filter leaves the focus in the filter.
    await page.getByLabel('Filter', { exact: true }).fill('views > 100');
    await page.keyboard.press('Enter');
    await poll(() => page.getByRole('cell', { name: 'Backups and restore' }).count()).toBe(0);
    expect(await page.getByRole('cell', { name: 'Hello, Basalt' }).count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('records-filter');
    await page.getByRole('button', { name: 'Clear' }).click();
    await poll(() => page.getByRole('cell', { name: 'Backups and restore' }).count()).toBe(1);
    await check('records');
  });

  it('opens the API preview from the collection; the list example runs as shown and its curl names the URL', async () => {
    // Something the example's filter (`title != ""`) must leave out.
    await admin.collection('posts').create({ title: '', status: 'draft' });
    await page.getByRole('link', { name: 'API preview of posts' }).click();
    await poll(() => page.url()).toMatch(/#\/collections\/posts\/api$/);
    await poll(focusedText).toBe('H1 API preview: posts');
    // Still the Collections section in the sidebar.
    expect(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Collections' }).getAttribute('aria-current')).toBe('page');
    await poll(() => page.getByRole('heading', { level: 2 }).textContent()).toBe('List/Search');
    await poll(() => page.getByText('Anyone, signed in or not').count()).toBe(1);

    const sdk = await codeOf('JS SDK example');
    expect(sdk).toContain(`new PocketBase('${server.url}')`);
    expect(sdk).toContain(`filter: 'title != ""'`);
    const list = (await runExample(sdk, 'resultList')) as { totalItems: number; items: { title: string }[] };
    expect(list.totalItems).toBe(4);
    expect(list.items.map((r) => r.title)).not.toContain('');

    const curl = await codeOf('curl example');
    const url = /^curl '([^']+)'/.exec(curl)?.[1];
    expect(url).toBeDefined();
    expect(url!.startsWith(`${server.url}/api/collections/posts/records?`)).toBe(true);
    const fetched = (await (await fetch(url!)).json()) as { totalItems: number };
    expect(fetched.totalItems).toBe(4);
    await check('list');
  });

  it('shows each action’s rule and examples, reached from the keyboard', async () => {
    const create = page.getByRole('navigation', { name: 'API actions' }).getByRole('link', { name: 'Create' });
    await create.focus();
    await page.keyboard.press('Enter');
    await poll(() => page.getByRole('heading', { level: 2 }).textContent()).toBe('Create');
    await poll(() => page.getByText('@request.auth.id != ""').count()).toBe(1);
    const curl = await codeOf('curl example');
    expect(curl).toContain(`curl -X POST '${server.url}/api/collections/posts/records'`);
    expect(curl).toContain(`-H 'Authorization: AUTH_TOKEN'`);
    expect(curl).toContain(`"status":"draft"`);
    expect(await codeOf('Response 200')).toContain('"collectionName": "posts"');
    // The body's fields as a table, from the collection's own.
    const body = page.getByRole('table', { name: /^Body fields/ });
    expect(await body.getByRole('row').allInnerTexts()).toContainEqual(expect.stringMatching(/^status\s+String\s+Optional\.$/));

    await page.getByRole('navigation', { name: 'API actions' }).getByRole('link', { name: 'Delete' }).click();
    await poll(() => page.getByText('Only superusers (the rule is locked).').count()).toBe(1);
    await check('delete');
  });

  it('shows an auth collection’s sign-in examples (dark theme, tablet size)', async () => {
    await page.setViewportSize({ width: 820, height: 1100 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${server.url}/_/#/collections/users/api?action=auth-with-password`);
    await poll(() => page.getByRole('heading', { level: 2 }).textContent()).toBe('Auth with password');
    expect(await codeOf('JS SDK example')).toContain(`pb.collection('users').authWithPassword(`);
    // Another shown example run as it is: the auth methods of the collection, as the server has them.
    await page.getByRole('link', { name: 'List auth methods' }).click();
    await poll(() => page.getByRole('heading', { level: 2 }).textContent()).toBe('List auth methods');
    const methods = (await runExample(await codeOf('JS SDK example'), 'methods')) as { password: { enabled: boolean; identityFields: string[] } };
    expect(methods.password).toMatchObject({ enabled: true, identityFields: expect.arrayContaining(['email']) });
    expect(await codeOf('Response 200')).toContain('"identityFields"');
    await page.getByRole('link', { name: 'Auth with OTP' }).click();
    await poll(() => codeOf('curl example')).toContain(`${server.url}/api/collections/users/request-otp`);
    await check('auth-otp-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('asks before "Sign out" leaves unsaved changes in the collection editor', async () => {
    await page.goto(`${server.url}/_/#/collections/posts/edit`);
    const name = page.getByLabel('Name', { exact: true });
    await poll(() => name.inputValue()).toBe('posts');
    expect(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Collections' }).getAttribute('aria-current')).toBe('page');
    await name.fill('posts_renamed');
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await poll(() => asked).toEqual(['Leave without saving the changes to this collection?']);
    // Dismissed: still signed in, still editing.
    expect(await name.inputValue()).toBe('posts_renamed');
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    await check('sign-out-asked');

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Sign out' }).click();
    await poll(() => page.url()).toMatch(/#\/login$/);
    // Nothing was saved.
    expect((await admin.collections.getOne('posts')).name).toBe('posts');
  });
});
