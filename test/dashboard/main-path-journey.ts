/**
 * The dashboard's main path, for the browsers other than Chromium (firefox.test.ts, webkit.test.ts;
 * the Chromium journeys cover every screen in depth), on a fresh data dir: the first-run link, the
 * first superuser, a collection's records with a filter that finds one and an invalid one refused
 * inline, a record created through the form with an uploaded image, another written through the
 * SDK appearing live (realtime over EventSource), a rule refused by the server as it is typed,
 * the settings saved (the new name in the layout), the logs charted, and the dark theme on a
 * tablet, remembered across a reload. It proves the same code runs in the engines users have.
 *
 * Screenshots in test-artifacts/dashboard/<engine>/<browser>-*.png; at each step axe-core, no page
 * error and nothing refused by the CSP (browser-driver.ts).
 */
import PocketBase from 'pocketbase';
import sharp from 'sharp';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNamed, type BrowserDriver } from './browser-driver.js';
import { missingPrerequisite, startServer, type Server } from './dashboard-harness.js';

declare const window: any;
declare const document: any;

const TITLES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'needle'];

const rowsAre = (n: number) => document.querySelectorAll('table tbody tr').length === n;
const rowWith = (text: string) => [...document.querySelectorAll('table tbody tr')].some((r: any) => r.textContent.includes(text));

/** The journey in one browser: `missingBrowser` says why it cannot run here ('' when it can). */
export function describeMainPath(browserName: string, missingBrowser: string, open: () => Promise<BrowserDriver>): void {
  const missing = missingPrerequisite() || missingBrowser;
  if (missing && process.env.CI) throw new Error(`the ${browserName} journey cannot run: ${missing}`);
  const ADMIN = { email: `${browserName.toLowerCase()}@example.com`, password: 'main-path-password-1' };

  describe.skipIf(missing !== '')(`the dashboard in ${browserName}${missing ? ` (skipped: ${missing})` : ''}`, () => {
    let server: Server;
    let browser: BrowserDriver;
    let files: string;

    beforeAll(async () => {
      server = await startServer();
      browser = await open();
      files = mkdtempSync(join(tmpdir(), 'basalt-main-path-'));
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

    const rowCount = () => browser.evaluate(() => document.querySelectorAll('table tbody tr').length as number, null);
    const hash = () => browser.evaluate(() => window.location.hash as string, null);
    const text = (selector: string) => browser.evaluate((s: string) => (document.querySelector(s)?.textContent ?? '') as string, selector);

    it('creates the first superuser from the link basalt serve printed', async () => {
      const [link] = await server.waitForOutput(/http:\/\/127\.0\.0\.1:\d+\/_\/#\/pbinstal\/\S+/);
      await browser.goto(link);
      await browser.fill('Email', ADMIN.email);
      await browser.fill('Password', ADMIN.password);
      await browser.fill('Confirm the password', ADMIN.password);
      await browser.check('first-run');
      await browser.click('Create superuser and sign in');
      await browser.until(() => window.location.hash.startsWith('#/collections'), null, 'the collections screen');
      await browser.until(findNamed, 'Sign out', 'the Sign out button');
      await browser.check('signed-in');
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
      await browser.goto(`${server.url}/_/#/collections/posts`);
      await browser.until(rowsAre, TITLES.length, 'the records');
      await browser.check('records');

      await browser.fill('Filter', 'title = "needle"');
      await browser.press('Enter');
      await browser.until(rowsAre, 1, 'the filtered list');
      expect(await text('table tbody tr')).toContain('needle');
      // The grid's state is in the URL: a reload or a shared link shows the same page.
      expect(new URLSearchParams((await hash()).split('?')[1]).get('filter')).toBe('title = "needle"');
      await browser.check('filtered');

      await browser.fill('Filter', 'nosuchfield = 1');
      await browser.click('Apply');
      await browser.until(() => (document.querySelector('#records-filter-error')?.textContent ?? '').includes('nosuchfield'), null, 'the filter error');
      await browser.check('invalid-filter');
      await browser.fill('Filter', '');
      await browser.press('Enter');
      await browser.until(rowsAre, TITLES.length, 'the unfiltered list');
    });

    it('creates a record through the form with an uploaded image; one written through the SDK appears live', async () => {
      await browser.click('New record');
      await browser.fill('title', `made in ${browserName}`, 'dialog');
      await browser.fill('views', '7', 'dialog');
      const png = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 20, g: 120, b: 200 } } }).png().toBuffer();
      const file = join(files, 'cover.png');
      writeFileSync(file, png);
      await browser.upload('cover', 'dialog', file);
      await browser.until(() => document.querySelector('img[alt="Preview of cover.png"]') !== null, null, 'the image preview');
      await browser.check('record-form');
      await browser.click('Create');
      await browser.until(rowWith, `made in ${browserName}`, 'the new record in the grid');
      const pb = await sdk();
      const made = await pb.collection('posts').getFirstListItem(`title = "made in ${browserName}"`);
      expect(made['views']).toBe(7);
      expect(made['cover']).toMatch(/^cover_\w+\.png$/);

      await pb.collection('posts').create({ title: 'live from the sdk' });
      await browser.until(rowWith, 'live from the sdk', 'the live record');
      expect(await rowCount()).toBe(TITLES.length + 2);
      await browser.check('live-record');
    });

    it('shows the server refusing a rule as it is typed', async () => {
      await browser.goto(`${server.url}/_/#/collections/posts/edit`);
      await browser.click('API rules');
      await browser.fill('List/Search rule', 'nosuch = 1');
      await browser.press('Escape');
      await browser.until(() => (document.querySelector('#rule-listRule-error')?.textContent ?? '').includes('unknown field "nosuch"'), null, 'the live rule error');
      await browser.check('rule-refused-live');
      // Nothing was saved.
      expect((await (await sdk()).collections.getOne('posts')).listRule).toBe('');
    });

    it('saves the settings (the new name in the layout) and charts the logs', async () => {
      await browser.goto(`${server.url}/_/#/settings`);
      await browser.fill('Application name', 'Firefox Journey');
      await browser.click('Save changes');
      await browser.until(() => document.querySelector('header .product')?.textContent === 'Firefox Journey', null, 'the new name in the layout');
      await browser.check('settings-saved');
      expect((await (await sdk()).settings.getAll()).meta.appName).toBe('Firefox Journey');

      await browser.goto(`${server.url}/_/#/logs`);
      await browser.until(() => document.querySelector('figure svg') !== null && document.querySelectorAll('table tbody tr a').length > 0, null, 'the logs chart and list');
      await browser.check('logs');
    });

    it('switches to the dark theme, on a tablet', async () => {
      await browser.click('Switch to the dark theme');
      await browser.until(() => document.documentElement.dataset.theme === 'dark', null, 'the dark theme');
      await browser.setViewport(820, 1180);
      await browser.goto(`${server.url}/_/#/collections/posts`);
      await browser.until(() => document.querySelectorAll('table tbody tr').length > 0, null, 'the records, dark');
      // Remembered across a reload.
      await browser.reload();
      await browser.until(() => document.documentElement.dataset.theme === 'dark', null, 'the dark theme after a reload');
      await browser.check('dark-tablet');
    });
  });
}
