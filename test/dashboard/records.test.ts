/**
 * The records screens in the browser (issue 13), on a server of their own: the record form with
 * an input for every field type (an uploaded image and its thumbnail in the grid, a relation
 * picked through the picker's search, the server's field errors under their fields), a filter
 * that finds the record, the column choice remembered, a user signed up through the SDK
 * appearing live in the grid, an auth record's tools (authenticator-app reset, impersonation),
 * bulk delete with confirmation, a record deleted from its form, and the time to the first rows of a 100,000-record collection, printed.
 *
 * Screenshots in test-artifacts/dashboard/<engine>/records-*.png, axe-core at each step, the CSP
 * enforced (any violation or page error fails).
 */
import * as OTPAuth from 'otpauth';
import PocketBase from 'pocketbase';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE } from '../harness/engines.js';
import { checkStep, launchBrowser, missingPrerequisite, type Server, startServer, Steps, watchProblems } from './dashboard-harness.js';

declare const document: any;

const missing = missingPrerequisite();
if (missing && process.env.CI) throw new Error(`the dashboard records journey cannot run: ${missing}`);

/** expect.poll with room for a busy CI machine (its default gives up after 1 s). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 10_000 });

const ADMIN = { email: 'records-admin@example.com', password: 'records-password-1' };
const BIG = 100_000;

/** 100,000 rows in one statement through the SQL console (writes allowed for the test). */
const SEED_SQL =
  ENGINE === 'postgres'
    ? `INSERT INTO big (id, title, n) SELECT 'seed' || lpad(i::text, 11, '0'), 'row ' || i, i FROM generate_series(1, ${BIG}) AS i`
    : `INSERT INTO big (id, title, n) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${BIG}) SELECT printf('seed%011d', i), 'row ' || i, i FROM s`;

describe.skipIf(missing !== '')(`the dashboard's records${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let steps: Steps;
  let admin: PocketBase;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    // The first superuser through the printed first-run link's token, as the installer screen does.
    const [, token] = await server.waitForOutput(/\/_\/#\/pbinstal\/(\S+)/);
    const guest = new PocketBase(server.url);
    await guest.collection('_superusers').create(
      { email: ADMIN.email, password: ADMIN.password, passwordConfirm: ADMIN.password },
      { headers: { Authorization: token! } },
    );
    admin = new PocketBase(server.url);
    admin.autoCancellation(false);
    await admin.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);

    await admin.collections.create({ name: 'authors', type: 'base', fields: [{ name: 'name', type: 'text', presentable: true }] });
    const authors = await admin.collections.getOne('authors');
    await admin.collection('authors').create({ name: 'Ada Lovelace' });
    await admin.collection('authors').create({ name: 'Grace Hopper' });
    await admin.collections.create({
      name: 'posts',
      type: 'base',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'body', type: 'editor' },
        { name: 'views', type: 'number' },
        { name: 'published', type: 'bool' },
        { name: 'contact', type: 'email' },
        { name: 'site', type: 'url' },
        { name: 'due', type: 'date' },
        { name: 'tags', type: 'select', maxSelect: 3, values: ['news', 'howto', 'release'] },
        { name: 'status', type: 'select', maxSelect: 1, values: ['draft', 'live'] },
        // Protected: the grid's thumbnail and the form's preview go through a file token.
        { name: 'cover', type: 'file', maxSelect: 1, maxSize: 1 << 20, mimeTypes: ['image/png', 'image/jpeg'], protected: true },
        { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
        { name: 'meta', type: 'json' },
        { name: 'place', type: 'geoPoint' },
      ],
    });
    try {
      await admin.collections.getOne('users');
    } catch {
      await admin.collections.create({ name: 'users', type: 'auth', fields: [{ name: 'name', type: 'text' }], createRule: '' });
    }
    await admin.collections.update('users', { createRule: '', listRule: 'id = @request.auth.id', viewRule: 'id = @request.auth.id' });

    await admin.collections.create({ name: 'big', type: 'base', fields: [{ name: 'title', type: 'text' }, { name: 'n', type: 'number' }] });
    await admin.settings.update({ sqlConsole: { allowWrites: true } });
    const seeded = Date.now();
    const result = await admin.send<{ affectedRows: number }>('/api/sql', { method: 'POST', body: { query: SEED_SQL } });
    expect(result.affectedRows).toBe(BIG);
    await admin.settings.update({ sqlConsole: { allowWrites: false } });
    console.log(`[records journey ${ENGINE}] seeded ${BIG} records in ${Date.now() - seeded} ms`);

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
    watchProblems(page, problems);
    steps = new Steps('records');

    await page.goto(`${server.url}/_/#/login`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/#\/collections/);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  const check = (name: string) => checkStep(steps, page, problems, name);

  const rows = () => page.locator('table tbody tr');
  const panel = () => page.getByRole('dialog', { name: /record/ });

  async function open(collection: string): Promise<void> {
    await page.goto(`${server.url}/_/#/collections/${collection}`);
    await poll(() => page.getByRole('heading', { name: collection, level: 1 }).isVisible()).toBe(true);
  }

  it("creates a record with every field type: the server's field errors under their fields first, then an uploaded image and a picked relation", async () => {
    await open('posts');
    await page.getByRole('button', { name: 'New record' }).click();
    await poll(() => panel().isVisible()).toBe(true);
    expect(page.url()).toContain('record=new');

    // The JSON editor refuses invalid text as it is typed; the server refuses a missing title.
    await panel().getByLabel(/^meta/).fill('{"a": ');
    await poll(() => page.locator('#field-meta-error').textContent()).toContain('Invalid JSON');
    await panel().getByLabel(/^meta/).fill('{"a": 1}');
    await page.getByRole('button', { name: 'Create' }).click();
    await poll(() => page.locator('#field-title-error').isVisible()).toBe(true);
    expect(await panel().getByLabel(/^title/).getAttribute('aria-invalid')).toBe('true');
    await check('form-errors');

    await panel().getByLabel(/^title/).fill('needle post');
    await panel().getByRole('textbox', { name: /^body/ }).click();
    await page.keyboard.type('Rich text body');
    await page.keyboard.press('Control+A');
    await page.getByRole('button', { name: 'Bold' }).click();
    await panel().getByLabel(/^views/).fill('42');
    await panel().getByLabel('published', { exact: true }).check();
    await panel().getByLabel(/^contact/).fill('ada@example.com');
    await panel().getByLabel(/^site/).fill('https://example.com');
    await panel().getByLabel(/^due/).fill('2030-01-02T03:04:05');
    await panel().getByLabel(/^tags/).selectOption(['news', 'release']);
    await panel().getByLabel(/^status/).selectOption('live');
    const png = await sharp({ create: { width: 240, height: 160, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
    await panel().getByLabel(/^cover/).setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: png });
    await poll(() => page.getByAltText('Preview of cover.png').isVisible()).toBe(true);
    // The relation picker searches the related collection.
    await panel().getByLabel(/^author/).fill('Grace');
    await panel().getByLabel(/^author/).press('Enter');
    await page.getByRole('button', { name: /Grace Hopper/ }).click();
    await poll(() => page.getByRole('list', { name: 'Chosen for author' }).textContent()).toContain('Grace Hopper');
    await panel().getByLabel('Longitude').fill('2.35');
    await panel().getByLabel('Latitude').fill('48.85');
    await check('form-filled');

    await page.getByRole('button', { name: 'Create' }).click();
    await poll(() => panel().count()).toBe(0);
    await poll(() => rows().count()).toBe(1);
    // The grid shows the image's thumbnail, loaded (a 100x100 thumb made by the server).
    const thumb = rows().first().locator('img.thumb');
    await poll(() => thumb.evaluate((img: any) => img.complete && img.naturalWidth)).toBe(100);
    expect(await thumb.getAttribute('src')).toContain('thumb=100x100');
    expect(await thumb.getAttribute('src')).toMatch(/[?&]token=ey/);
    // The relation's cell names the related record (expanded), not its id.
    expect(await rows().first().textContent()).toContain('Grace Hopper');

    const [stored] = (await admin.collection('posts').getFullList()) as any[];
    const grace = await admin.collection('authors').getFirstListItem('name = "Grace Hopper"');
    expect(stored).toMatchObject({
      title: 'needle post', views: 42, published: true, contact: 'ada@example.com', site: 'https://example.com',
      due: '2030-01-02 03:04:05.000Z', tags: ['news', 'release'], status: 'live', author: grace.id, meta: { a: 1 }, place: { lon: 2.35, lat: 48.85 },
    });
    expect(stored.body).toContain('<b>Rich text body</b>');
    expect(stored.cover).toMatch(/^cover.*\.png$/);
    // The wide grid scrolls sideways: the screenshot shows the thumbnail's column.
    await thumb.scrollIntoViewIfNeeded();
    await check('created');
  });

  it('finds the record with a filter through its relation, and opens it in the form', async () => {
    await admin.collection('posts').create({ title: 'other post' });
    await poll(() => rows().count()).toBe(2);
    const filter = page.getByRole('searchbox', { name: 'Filter' });
    await filter.fill('author.name = "Grace Hopper"');
    await filter.press('Enter');
    await poll(() => rows().count()).toBe(1);
    await poll(() => rows().first().textContent()).toContain('needle post');
    await check('filtered');

    await rows().first().locator('button.open').click();
    await poll(() => panel().isVisible()).toBe(true);
    await poll(() => panel().getByLabel(/^title/).inputValue()).toBe('needle post');
    await poll(() => page.getByRole('list', { name: 'Chosen for author' }).textContent()).toContain('Grace Hopper');
    await poll(() => panel().locator('img[alt^="cover"]').evaluate((img: any) => img.naturalWidth)).toBe(100);
    await panel().getByLabel(/^views/).fill('43');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await poll(() => panel().count()).toBe(0);
    await poll(() => rows().first().textContent()).toContain('43');
    expect(await rows().first().textContent()).toContain('Grace Hopper');
    await page.getByRole('button', { name: 'Clear' }).click();
    await poll(() => rows().count()).toBe(2);
  });

  it('remembers the columns chosen for a collection', async () => {
    await page.getByText('Columns', { exact: true }).click();
    await page.getByRole('checkbox', { name: 'body' }).uncheck();
    await page.getByRole('checkbox', { name: 'meta' }).uncheck();
    await poll(() => page.locator('table thead th').filter({ hasText: 'body' }).count()).toBe(0);
    await check('columns');
    await page.reload();
    await poll(() => rows().count()).toBe(2);
    expect(await page.locator('table thead th').filter({ hasText: 'meta' }).count()).toBe(0);
    expect(await page.locator('table thead th').filter({ hasText: 'title' }).count()).toBe(1);
  });

  it('shows a user signed up through the SDK live, and offers impersonation on the auth record', async () => {
    await open('users');
    await poll(() => page.getByText('No records yet.').isVisible()).toBe(true);
    // Give the realtime subscription a moment to be registered before the write.
    await page.waitForTimeout(500);
    const visitor = new PocketBase(server.url);
    await visitor.collection('users').create({ email: 'live@example.com', password: 'live-password-1', passwordConfirm: 'live-password-1' });
    await poll(() => rows().first().textContent()).toContain('live@example.com');
    await check('live-user');

    await rows().first().locator('button.open').click();
    await poll(() => page.getByRole('heading', { name: 'Auth record' }).isVisible()).toBe(true);
    // The user enrols an authenticator app; the superuser resets it (a lost device).
    const user = new PocketBase(server.url);
    await user.collection('users').authWithPassword('live@example.com', 'live-password-1');
    const { secret } = await user.send<{ secret: string }>('/api/collections/users/totp/enroll', { method: 'POST', body: { password: 'live-password-1' } });
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
    await user.send('/api/collections/users/totp/confirm', { method: 'POST', body: { code: totp.generate() } });
    expect((await user.send<{ enabled: boolean }>('/api/collections/users/totp', {})).enabled).toBe(true);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Reset the authenticator app' }).click();
    await poll(() => page.getByRole('status').filter({ hasText: 'authenticator' }).textContent()).toContain('The authenticator app was removed.');
    expect((await user.send<{ enabled: boolean }>('/api/collections/users/totp', {})).enabled).toBe(false);

    await page.getByRole('button', { name: 'Get a token' }).click();
    const token = await (async () => {
      await poll(() => page.getByLabel(/A token acting as this record/).inputValue()).toMatch(/^ey/);
      return page.getByLabel(/A token acting as this record/).inputValue();
    })();
    const impersonated = new PocketBase(server.url);
    impersonated.authStore.save(token, null);
    expect((await impersonated.collection('users').getFullList()).map((u) => u.email)).toEqual(['live@example.com']);
    expect(await page.getByText('None.').isVisible()).toBe(true);
    // A password pair that does not match: the server's message under the confirmation.
    await page.getByLabel('New password').fill('new-password-1');
    await page.getByLabel('Confirm the password').fill('new-password-2');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await poll(() => page.locator('#field-passwordConfirm-error').isVisible()).toBe(true);
    await check('auth-record');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => panel().count()).toBe(0);
  });

  it('deletes selected records together after a confirmation', async () => {
    await open('posts');
    await poll(() => rows().count()).toBe(2);
    for (let i = 0; i < 3; i++) await admin.collection('posts').create({ title: `bulk ${i}` });
    await poll(() => rows().count()).toBe(5);
    await page.getByRole('checkbox', { name: 'Select all records on this page' }).check();
    await page.getByRole('checkbox', { name: /^Select record / }).first().uncheck();
    await poll(() => page.getByText('4 selected').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete the selected records?' });
    await poll(() => confirm.isVisible()).toBe(true);
    await check('bulk-confirm');
    // Cancel first: nothing goes.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await admin.collection('posts').getList(1, 1).then((l) => l.totalItems)).toBe(5);
    await page.getByRole('button', { name: 'Delete selected' }).click();
    await page.getByRole('button', { name: 'Delete 4' }).click();
    await poll(() => rows().count()).toBe(1);
    expect(await admin.collection('posts').getList(1, 1).then((l) => l.totalItems)).toBe(1);
    await check('bulk-deleted');

    // One record, from its form, after its own confirmation.
    await rows().first().locator('button.open').click();
    await panel().getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete the record' }).click();
    await poll(() => page.getByText('No records yet.').isVisible()).toBe(true);
    expect(await admin.collection('posts').getList(1, 1).then((l) => l.totalItems)).toBe(0);
  });

  it('paints the first rows of a 100,000-record collection quickly, then counts them', async () => {
    await open('posts');
    const started = Date.now();
    await page.getByRole('link', { name: /^big/ }).click();
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr td.mono').length > 0);
    const firstRows = Date.now() - started;
    console.log(`[records journey ${ENGINE}] time to first rows on a ${BIG}-record collection: ${firstRows} ms`);
    await poll(() => page.getByText(`${BIG} records`).isVisible()).toBe(true);
    expect(await rows().count()).toBe(20);
    expect(firstRows).toBeLessThan(3_000);
    // From a fresh page load too: the shell, the screen's chunk, the collections and the rows.
    const reloaded = Date.now();
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr td.mono').length > 0);
    const coldRows = Date.now() - reloaded;
    console.log(`[records journey ${ENGINE}] time to first rows after a page load: ${coldRows} ms`);
    expect(coldRows).toBeLessThan(5_000);
    await page.getByRole('button', { name: 'Next' }).click();
    await poll(() => page.getByText(`Page 2 of ${BIG / 20}`).isVisible()).toBe(true);
    await check('big');
  });

  it('works from the keyboard at tablet size (820×1180): open a record, fill the form, close it with Escape', async () => {
    await page.setViewportSize({ width: 820, height: 1180 });
    await open('authors');
    await poll(() => rows().count()).toBe(2);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= (globalThis as any).innerWidth)).toBe(true);
    await page.getByRole('button', { name: 'New record' }).focus();
    await page.keyboard.press('Enter');
    await poll(() => panel().isVisible()).toBe(true);
    // The modal panel holds the focus.
    expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-name');
    await page.keyboard.type('Katherine Johnson');
    await page.keyboard.press('Enter');
    await poll(() => rows().count()).toBe(3);
    await poll(() => rows().last().textContent()).toContain('Katherine Johnson');
    await rows().last().locator('button.open').focus();
    await page.keyboard.press('Enter');
    await poll(() => panel().getByLabel(/^name/).inputValue()).toBe('Katherine Johnson');
    await check('tablet-form');
    await page.keyboard.press('Escape');
    await poll(() => panel().count()).toBe(0);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows the record form in the dark theme', async () => {
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    await open('posts');
    await page.getByRole('button', { name: 'New record' }).click();
    await poll(() => page.getByRole('textbox', { name: /^body/ }).isVisible()).toBe(true);
    await check('form-dark');
    await page.keyboard.press('Escape');
    await poll(() => panel().count()).toBe(0);
    await poll(() => page.url()).not.toContain('record=');
  });
});
