/**
 * The dashboard in Firefox (Debian's Firefox ESR over WebDriver BiDi, firefox-driver.ts), on a
 * fresh data dir: the first-run link, the first superuser, a collection's records with a filter
 * that finds one and an invalid one refused inline, a record created through the form with an
 * uploaded image, another written through the SDK appearing live (realtime over EventSource), a
 * rule refused by the server as it is typed, the settings saved (the new name in the layout),
 * the logs charted, and the dark theme on a tablet. The Chromium journeys cover every screen in
 * depth; this one proves the same code runs in the other engine users have.
 *
 * Screenshots in test-artifacts/dashboard/<engine>/firefox-*.png, axe-core at each step, no page
 * error and nothing refused by the CSP.
 */
import PocketBase from 'pocketbase';
import sharp from 'sharp';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPrerequisite, startServer, type Server } from './dashboard-harness.js';
import { FirefoxDriver, launchFirefox, missingFirefox } from './firefox-driver.js';

declare const window: any;
declare const document: any;

const missing = missingPrerequisite() || missingFirefox();
if (missing && process.env.CI) throw new Error(`the Firefox journey cannot run: ${missing}`);

const ADMIN = { email: 'firefox@example.com', password: 'firefox-password-1' };
const TITLES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'needle'];

describe.skipIf(missing !== '')(`the dashboard in Firefox${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let ff: FirefoxDriver;
  let files: string;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchFirefox();
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    ff = new FirefoxDriver(page);
    await ff.watchCsp();
    files = mkdtempSync(join(tmpdir(), 'basalt-firefox-'));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  async function sdk(): Promise<PocketBase> {
    const pb = new PocketBase(server.url);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    return pb;
  }

  const rowCount = () => page.evaluate(() => document.querySelectorAll('table tbody tr').length);
  const hash = () => page.evaluate(() => window.location.hash as string);

  it('creates the first superuser from the link basalt serve printed', async () => {
    const [link] = await server.waitForOutput(/http:\/\/127\.0\.0\.1:\d+\/_\/#\/pbinstal\/\S+/);
    await page.goto(link);
    await ff.fill('Email', ADMIN.email);
    await ff.fill('Password', ADMIN.password);
    await ff.fill('Confirm the password', ADMIN.password);
    await ff.check('first-run');
    await ff.click('Create superuser and sign in');
    await ff.until(() => window.location.hash.startsWith('#/collections'), '', 'the collections screen');
    await ff.byName('Sign out');
    await ff.check('signed-in');
  });

  it('lists records, filters them, and shows an invalid filter refused inline', async () => {
    const pb = await sdk();
    await pb.collections.create({
      name: 'posts',
      type: 'base',
      listRule: '',
      viewRule: '',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'views', type: 'number' },
        { name: 'cover', type: 'file', maxSelect: 1, maxSize: 1 << 20, mimeTypes: ['image/png'] },
      ],
    });
    for (const [i, title] of TITLES.entries()) await pb.collection('posts').create({ title, views: i * 10 });
    await page.goto(`${server.url}/_/#/collections/posts`);
    await ff.until((n: number) => document.querySelectorAll('table tbody tr').length === n, TITLES.length, 'the records');
    await ff.check('records');

    await ff.fill('Filter', 'title = "needle"');
    await page.keyboard.press('Enter');
    await ff.until(() => document.querySelectorAll('table tbody tr').length === 1, '', 'the filtered list');
    expect(await ff.text('table tbody tr')).toContain('needle');
    // The grid's state is in the URL: a reload or a shared link shows the same page.
    expect(new URLSearchParams((await hash()).split('?')[1]).get('filter')).toBe('title = "needle"');
    await ff.check('filtered');

    await ff.fill('Filter', 'nosuchfield = 1');
    await ff.click('Apply');
    await ff.until(() => (document.querySelector('#records-filter-error')?.textContent ?? '').includes('nosuchfield'), '', 'the filter error');
    await ff.check('invalid-filter');
    await ff.fill('Filter', '');
    await page.keyboard.press('Enter');
    await ff.until((n: number) => document.querySelectorAll('table tbody tr').length === n, TITLES.length, 'the unfiltered list');
  });

  it('creates a record through the form with an uploaded image; one written through the SDK appears live', async () => {
    await ff.click('New record');
    await ff.fill('title', 'made in firefox', 'dialog');
    await ff.fill('views', '7', 'dialog');
    const png = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 20, g: 120, b: 200 } } }).png().toBuffer();
    const file = join(files, 'cover.png');
    writeFileSync(file, png);
    const input = await ff.byLabel('cover', 'dialog');
    await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(file);
    await ff.until(() => document.querySelector('img[alt="Preview of cover.png"]') !== null, '', 'the image preview');
    await ff.check('record-form');
    await ff.click('Create');
    await ff.until(() => [...document.querySelectorAll('table tbody tr')].some((r: any) => r.textContent.includes('made in firefox')), '', 'the new record in the grid');
    const pb = await sdk();
    const made = await pb.collection('posts').getFirstListItem('title = "made in firefox"');
    expect(made['views']).toBe(7);
    expect(made['cover']).toMatch(/^cover_\w+\.png$/);

    await pb.collection('posts').create({ title: 'live from the sdk' });
    await ff.until(() => [...document.querySelectorAll('table tbody tr')].some((r: any) => r.textContent.includes('live from the sdk')), '', 'the live record');
    expect(await rowCount()).toBe(TITLES.length + 2);
    await ff.check('live-record');
  });

  it('shows the server refusing a rule as it is typed', async () => {
    await page.goto(`${server.url}/_/#/collections/posts/edit`);
    await ff.click('API rules');
    const rule = await ff.byLabel('List/Search rule');
    await rule.click();
    await rule.type('nosuch = 1');
    await page.keyboard.press('Escape');
    await ff.until(() => (document.querySelector('#rule-listRule-error')?.textContent ?? '').includes('unknown field "nosuch"'), '', 'the live rule error');
    await ff.check('rule-refused-live');
    // Nothing was saved.
    expect((await (await sdk()).collections.getOne('posts')).listRule).toBe('');
  });

  it('saves the settings (the new name in the layout) and charts the logs', async () => {
    await page.goto(`${server.url}/_/#/settings`);
    await ff.fill('Application name', 'Firefox Journey');
    await ff.click('Save changes');
    await ff.until(() => document.querySelector('header .product')?.textContent === 'Firefox Journey', '', 'the new name in the layout');
    await ff.check('settings-saved');
    expect((await (await sdk()).settings.getAll()).meta.appName).toBe('Firefox Journey');

    await page.goto(`${server.url}/_/#/logs`);
    await ff.until(() => document.querySelector('figure svg') !== null && document.querySelectorAll('table tbody tr a').length > 0, '', 'the logs chart and list');
    await ff.check('logs');
  });

  it('switches to the dark theme, on a tablet', async () => {
    await ff.click('Switch to the dark theme');
    await ff.until(() => document.documentElement.dataset.theme === 'dark', '', 'the dark theme');
    await page.setViewport({ width: 820, height: 1180 });
    await page.goto(`${server.url}/_/#/collections/posts`);
    await ff.until(() => document.querySelectorAll('table tbody tr').length > 0, '', 'the records, dark');
    // Remembered across a reload.
    await page.reload();
    await ff.until(() => document.documentElement.dataset.theme === 'dark', '', 'the dark theme after a reload');
    await ff.check('dark-tablet');
  });
});
