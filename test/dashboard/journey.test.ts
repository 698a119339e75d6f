/**
 * The administrator's journey through the dashboard so far, in Debian's Chromium against a real
 * `basalt serve` on a fresh data dir (SQLite, or PostgreSQL with BASALT_TEST_DB=postgres):
 * the first-run link printed on stdout, the first superuser created and signed in, the
 * collections list and its search, a collection made through the SDK with its records, a
 * filter that finds 1 of N, an invalid filter showing the server's message, sorting by a
 * column, the page size, the dark theme remembered, sign-out and sign-in again.
 *
 * Each step leaves a screenshot in test-artifacts/dashboard/<engine>/ and runs axe-core (no
 * serious or critical violation allowed). The page's CSP stays enforced: any violation of it, or
 * any error in the page, fails the journey.
 */
import PocketBase from 'pocketbase';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../harness/smtp-sink.js';
import { checkStep, launchBrowser, missingPrerequisite, type Server, startServer, Steps, watchProblems } from './dashboard-harness.js';

// The callbacks given to `page.evaluate` run in the page, but are compiled with the Node suite,
// without the DOM's types (adding them clashes with Node's fetch and Buffer types): declared loosely.
declare const window: any;
declare const document: any;
declare function getComputedStyle(element: any): any;

const missing = missingPrerequisite();
if (missing && process.env.CI) throw new Error(`the dashboard journey cannot run: ${missing}`);

const ADMIN = { email: 'admin@example.com', password: 'journey-password-1' };
const TITLES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'needle'];

describe.skipIf(missing !== '')(`the dashboard journey${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let steps: Steps;
  let sink: SmtpSink;
  /** CSP violations and uncaught errors of the page: none allowed. */
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    // 1280×800: the size the issue asks the dashboard to be usable at.
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
    watchProblems(page, problems);
    steps = new Steps();
    sink = await startSmtpSink();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    await sink?.close();
  });

  /** A screenshot, then axe-core: the step's screen must have no serious or critical violation. */
  const check = (name: string) => checkStep(steps, page, problems, name);

  async function sdk(): Promise<PocketBase> {
    const pb = new PocketBase(server.url);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    return pb;
  }

  const rows = () => page.locator('table tbody tr');
  const column = (name: string) => page.locator('table thead th').filter({ hasText: name });

  it('opens the first-run link basalt serve printed and creates the first superuser', async () => {
    const [link] = await server.waitForOutput(/http:\/\/127\.0\.0\.1:\d+\/_\/#\/pbinstal\/\S+/);
    await page.goto(link);
    await expect.poll(() => page.getByRole('heading', { name: 'Create the first superuser' }).isVisible()).toBe(true);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Confirm the password').fill('not-the-same-password');
    await page.getByRole('button', { name: 'Create superuser and sign in' }).click();
    await expect.poll(() => page.getByText('The passwords do not match.').isVisible()).toBe(true);
    await check('first-run');

    await page.getByLabel('Confirm the password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create superuser and sign in' }).click();
    await page.waitForURL(/#\/collections/);
    await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText(ADMIN.email).isVisible()).toBe(true);
    // No collection of the app's own yet: the system ones are listed.
    await expect.poll(() => page.getByRole('link', { name: /_superusers/ }).isVisible()).toBe(true);
    await check('signed-in');
  });

  it('lists a collection made through the SDK, searchable, and shows its records', async () => {
    const pb = await sdk();
    await pb.collections.create({
      name: 'posts',
      type: 'base',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'views', type: 'number' },
        { name: 'published', type: 'bool' },
      ],
      listRule: '',
      viewRule: '',
    });
    for (const [i, title] of TITLES.entries()) await pb.collection('posts').create({ title, views: (i * 37) % 100, published: i % 2 === 0 });

    await page.goto(`${server.url}/_/#/collections`);
    await expect.poll(() => page.getByRole('link', { name: /^posts/ }).isVisible()).toBe(true);
    const search = page.getByLabel('Search collections');
    await search.fill('pos');
    await expect.poll(() => page.getByRole('link', { name: /_superusers/ }).count()).toBe(0);
    await expect.poll(() => page.getByRole('link', { name: /^posts/ }).count()).toBe(1);
    await check('collections-search');

    await page.getByRole('link', { name: /^posts/ }).click();
    await page.waitForURL(/#\/collections\/posts/);
    await expect.poll(() => rows().count()).toBe(TITLES.length);
    await expect.poll(() => page.getByText(`${TITLES.length} records`).isVisible()).toBe(true);
    for (const name of ['id', 'title', 'views', 'published']) expect(await column(name).count(), name).toBe(1);
    await check('records');
  });

  it('filters with the filter language: 1 of N', async () => {
    const filter = page.getByRole('searchbox', { name: 'Filter' });
    await filter.fill('title = "needle"');
    await filter.press('Enter');
    await expect.poll(() => rows().count()).toBe(1);
    await expect.poll(() => rows().first().textContent()).toContain('needle');
    await expect.poll(() => page.getByText('1 record', { exact: true }).isVisible()).toBe(true);
    // The grid's state is in the URL: a reload or a shared link shows the same page.
    expect(new URLSearchParams(page.url().split('?')[1]).get('filter')).toBe('title = "needle"');
    await check('filtered');
  });

  it("shows the server's message inline for an invalid filter", async () => {
    const filter = page.getByRole('searchbox', { name: 'Filter' });
    await filter.fill('nosuchfield = 1');
    await page.getByRole('button', { name: 'Apply' }).click();
    const error = page.locator('#records-filter-error');
    await expect.poll(() => error.isVisible()).toBe(true);
    // The message is the server's (the SDK's error body), field detail included.
    await expect.poll(() => error.textContent()).toContain('Invalid filter parameters.');
    expect(await error.textContent()).toContain('nosuchfield');
    expect(await filter.getAttribute('aria-invalid')).toBe('true');
    expect(await filter.getAttribute('aria-describedby')).toBe('records-filter-error');
    await check('invalid-filter');

    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => rows().count()).toBe(TITLES.length);
    await expect.poll(() => error.count()).toBe(0);
  });

  it('sorts by clicking a column header, ascending then descending', async () => {
    const views = async () => {
      const index = await page.locator('table thead th').evaluateAll((ths) => ths.findIndex((th) => th.textContent?.trim().startsWith('views')));
      return rows().evaluateAll((trs, i) => trs.map((tr) => Number(tr.children[i]?.textContent ?? 'NaN')), index);
    };
    const all = TITLES.map((_, i) => (i * 37) % 100);
    await column('views').getByRole('button').click();
    await expect.poll(() => column('views').getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(views).toEqual([...all].sort((a, b) => a - b));
    await column('views').getByRole('button').click();
    await expect.poll(() => column('views').getAttribute('aria-sort')).toBe('descending');
    await expect.poll(views).toEqual([...all].sort((a, b) => b - a));
    expect(page.url()).toContain('sort=-views');
    await check('sorted');
  });

  it('pages with the chosen page size', async () => {
    await page.getByLabel('Per page').selectOption('10');
    await expect.poll(() => rows().count()).toBe(10);
    await expect.poll(() => page.getByText('Page 1 of 2').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.getByText('Page 2 of 2').isVisible()).toBe(true);
    await expect.poll(() => rows().count()).toBe(TITLES.length - 10);
    await check('paged');
  });

  it('fits a tablet (820×1180) without the page scrolling sideways', async () => {
    await page.setViewportSize({ width: 820, height: 1180 });
    await expect.poll(() => rows().count()).toBe(TITLES.length - 10);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await check('tablet');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('switches to the dark theme and remembers it', async () => {
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.reload();
    await expect.poll(() => rows().count()).toBe(TITLES.length - 10);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(20, 22, 26)');
    await check('dark-theme');
  });

  it('is usable from the keyboard: the sections, the filter and the sort buttons take focus', async () => {
    await page.getByRole('button', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('MAIN');
    // From the content, Tab reaches the collections' search first, then the list.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('collections-search');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('posts');
    await column('title').getByRole('button').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => column('title').getAttribute('aria-sort')).toBe('ascending');
  });

  it('signs out, and signs in again with the password', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/#\/login/);
    await expect.poll(() => page.getByRole('heading', { name: 'Superuser sign-in' }).isVisible()).toBe(true);
    await check('signed-out');

    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('a-wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid email or password.');

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/#\/collections\/posts/);
    await expect.poll(() => rows().count()).toBe(TITLES.length);
    await check('signed-in-again');
  });

  it('asks for the second factor when MFA is on: a one-time password by email', async () => {
    const pb = await sdk();
    await pb.settings.update({ smtp: { enabled: true, host: '127.0.0.1', port: sink.port }, meta: { senderAddress: 'basalt@example.com' } });
    await pb.collections.update('_superusers', { mfa: { enabled: true }, otp: { enabled: true, duration: 300, length: 6 } });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/#\/login/);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The password was right: the server answers 401 {mfaId}, and the dashboard sends the OTP itself.
    await expect.poll(() => page.getByRole('heading', { name: 'Second factor' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('status').textContent()).toContain(`A one-time password was sent to ${ADMIN.email}`);
    const mail = await sink.waitFor((m) => m.to.includes(ADMIN.email), 10_000);
    const code = /<strong>(\d+)<\/strong>/.exec(mail.html)?.[1] ?? /\b(\d{6})\b/.exec(mail.text)?.[1];
    expect(code, mail.text).toMatch(/^\d{6}$/);
    await check('second-factor');

    // A wrong code first: the server's refusal shows, and the step stays.
    await page.getByLabel('One-time password').fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').isVisible()).toBe(true);
    await page.getByLabel('One-time password').fill(code!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/#\/collections/);
    await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    await pb.collections.update('_superusers', { mfa: { enabled: false } });
  });

  it('refuses the spent first-run link with the server’s message', async () => {
    const [link] = await server.waitForOutput(/http:\/\/127\.0\.0\.1:\d+\/_\/#\/pbinstal\/\S+/);
    // Another browser, signed in as nobody (a signed-in superuser is sent on to the collections).
    const guest = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const other = await guest.newPage();
    await other.goto(link);
    await other.getByLabel('Email').fill('second@example.com');
    await other.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await other.getByLabel('Confirm the password').fill(ADMIN.password);
    await other.getByRole('button', { name: 'Create superuser and sign in' }).click();
    await expect.poll(() => other.getByRole('alert').textContent()).toContain('A superuser already exists');
    await guest.close();
  });

  it('ends an OAuth2 sign-in popup on its page', async () => {
    const popup = await context.newPage();
    await popup.goto(`${server.url}/_/#/auth/oauth2-redirect-success`);
    await expect.poll(() => popup.getByRole('heading', { name: 'Signed in' }).isVisible()).toBe(true);
    await popup.goto(`${server.url}/_/#/auth/oauth2-redirect-failure`);
    await expect.poll(() => popup.getByRole('heading', { name: 'Sign-in failed' }).isVisible()).toBe(true);
    await popup.close();
  });
});
