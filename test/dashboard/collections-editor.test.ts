/**
 * The collections editor's journey, in Debian's Chromium against a real `basalt serve` on a
 * fresh data dir (SQLite, or PostgreSQL with BASALT_TEST_DB=postgres): a collection created
 * through the editor with one field of every type, rules typed with completions, an invalid
 * rule refused with the server's message under it, a unique index; then edited (a field
 * renamed: same id, new name), exported as JSON, truncated and deleted with typed confirmation.
 *
 * Each step leaves a screenshot in test-artifacts/dashboard/<engine>-collections/ and runs
 * axe-core (no serious or critical violation); CSP violations and page errors fail it.
 */
import { readFileSync } from 'node:fs';
import PocketBase from 'pocketbase';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStep, launchBrowser, missingPrerequisite, type Server, startServer, Steps, watchProblems } from './dashboard-harness.js';

declare const document: any;

const missing = missingPrerequisite();
if (missing && process.env.CI) throw new Error(`the collections editor journey cannot run: ${missing}`);

const ADMIN = { email: 'editor-admin@example.com', password: 'journey-password-1' };

/** One field of every type a base collection may have: [type label in the picker, type, name]. */
const FIELDS = [
  ['text', 'title'],
  ['editor', 'body'],
  ['number', 'score'],
  ['bool', 'featured'],
  ['email', 'contact'],
  ['url', 'website'],
  ['date', 'published_at'],
  ['autodate', 'stamped'],
  ['select', 'status'],
  ['file', 'cover'],
  ['relation', 'author'],
  ['json', 'meta'],
  ['geoPoint', 'place'],
] as const;

describe.skipIf(missing !== '')(`the collections editor journey${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let steps: Steps;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', acceptDownloads: true });
    page = await context.newPage();
    watchProblems(page, problems);
    steps = new Steps('collections');
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  const check = (name: string) => checkStep(steps, page, problems, name);

  async function sdk(): Promise<PocketBase> {
    const pb = new PocketBase(server.url);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    return pb;
  }

  const tab = (name: string) => page.getByRole('tab', { name });

  it('signs in as the first superuser and opens a new collection', async () => {
    const [link] = await server.waitForOutput(/http:\/\/127\.0\.0\.1:\d+\/_\/#\/pbinstal\/\S+/);
    await page.goto(link);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Confirm the password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create superuser and sign in' }).click();
    await page.waitForURL(/#\/collections/);
    await page.getByRole('link', { name: '+ New collection' }).click();
    await page.waitForURL(/#\/new-collection/);
    await expect.poll(() => page.getByRole('heading', { name: 'New collection' }).isVisible()).toBe(true);
    // The scaffold's id field is there, system: its name cannot be changed.
    expect(await page.locator('#field-0-name').inputValue()).toBe('id');
    expect(await page.locator('#field-0-name').isDisabled()).toBe(true);
    await check('new-collection');
  });

  it('adds one field of every type with its options', async () => {
    await page.getByLabel('Name', { exact: true }).fill('articles');
    for (const [type, name] of FIELDS) {
      await page.getByLabel('New field type').selectOption(type);
      await page.getByRole('button', { name: 'Add field' }).click();
      const index = (await page.locator('.field-row').count()) - 1;
      const nameInput = page.locator(`#field-${index}-name`);
      // The new field's name has the focus: the keyboard user types over it.
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe(`field-${index}-name`);
      await nameInput.fill(name);
      if (type === 'select') await page.locator(`#field-${index}-values`).fill('draft, live');
      if (type === 'select') await page.locator(`#field-${index}-values`).dispatchEvent('change');
      if (type === 'file') {
        await page.locator(`#field-${index}-thumbs`).fill('100x100');
        await page.locator(`#field-${index}-thumbs`).dispatchEvent('change');
      }
      if (type === 'relation') await page.locator(`#field-${index}-collectionId`).selectOption({ label: 'users' });
      if (type === 'number') await page.locator(`#field-${index}-onlyInt`).check();
    }
    await page.locator(`#field-1-name`).press('Tab');
    await check('fields');
  });

  it('writes rules with completions, and shows the server refusing an invalid one under it', async () => {
    await tab('API rules').click();
    // Untick "Superusers only" on the list rule and type it, taking the completion of `@request.au`.
    await page.getByRole('checkbox', { name: 'Superusers only' }).first().uncheck();
    const listRule = page.getByRole('combobox', { name: 'List/Search rule' });
    await listRule.pressSequentially('@request.au');
    await expect.poll(() => page.getByRole('option', { name: '@request.auth.' }).isVisible()).toBe(true);
    await listRule.press('Enter');
    await listRule.pressSequentially('id != ');
    // While typing, what is plainly unfinished is pointed out (the server judges on save).
    await expect.poll(() => page.locator('#rule-listRule-syntax').textContent()).toBe('Nothing after “!=”.');
    await listRule.pressSequentially('"" && stat');
    await expect.poll(() => page.locator('#rule-listRule-syntax').count()).toBe(0);
    await expect.poll(() => page.getByRole('option', { name: 'status' }).isVisible()).toBe(true);
    await listRule.press('Tab');
    await listRule.pressSequentially(' = "live" && author.ver');
    // Through the relation: the fields of users.
    await expect.poll(() => page.getByRole('option', { name: 'author.verified' }).isVisible()).toBe(true);
    await listRule.press('Enter');
    await listRule.pressSequentially(' = true');
    expect(await listRule.inputValue()).toBe('@request.auth.id != "" && status = "live" && author.verified = true');
    // Highlighted: the variable, the operator and the string have their own colours.
    expect(await page.locator('.rule .t-variable').first().textContent()).toBe('@request.auth.id');
    expect(await page.locator('.rule .t-string').count()).toBeGreaterThan(0);

    await page.getByRole('checkbox', { name: 'Superusers only' }).nth(1).uncheck();
    const viewRule = page.getByRole('combobox', { name: 'View rule' });
    await viewRule.fill('nosuchfield = 1');
    await page.getByRole('button', { name: 'Create' }).click();
    const error = page.locator('#rule-viewRule-error');
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await error.textContent()).toContain('Invalid rule: unknown field "nosuchfield"');
    expect(await viewRule.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.locator('.alert').textContent()).toContain('Failed to create collection.');
    await check('invalid-rule');

    await viewRule.fill('');
    await viewRule.pressSequentially('created > @todayS');
    await expect.poll(() => page.getByRole('option', { name: '@todayStart' }).isVisible()).toBe(true);
    await viewRule.press('Enter');
    expect(await viewRule.inputValue()).toBe('created > @todayStart');
  });

  it('adds a unique index and creates the collection', async () => {
    await tab('Indexes').click();
    await page.getByRole('group', { name: 'Columns' }).getByLabel('title').check();
    await page.getByRole('checkbox', { name: 'Unique' }).check();
    await page.getByRole('button', { name: 'Add index' }).click();
    await expect.poll(() => page.locator('.indexes li').count()).toBe(1);
    await check('index');

    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/#\/collections\/articles\/edit/);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).isVisible()).toBe(true);

    const pb = await sdk();
    const saved = await pb.collections.getOne('articles');
    for (const [type, name] of FIELDS) expect(saved.fields.find((f) => f.name === name)?.type, name).toBe(type);
    expect(saved.fields.find((f) => f.name === 'status')?.values).toEqual(['draft', 'live']);
    expect(saved.fields.find((f) => f.name === 'cover')?.thumbs).toEqual(['100x100']);
    expect(saved.fields.find((f) => f.name === 'score')?.onlyInt).toBe(true);
    const users = await pb.collections.getOne('users');
    expect(saved.fields.find((f) => f.name === 'author')?.collectionId).toBe(users.id);
    expect(saved.listRule).toBe('@request.auth.id != "" && status = "live" && author.verified = true');
    expect(saved.viewRule).toBe('created > @todayStart');
    expect(saved.createRule).toBeNull();
    expect(saved.indexes).toHaveLength(1);
    expect(saved.indexes[0]).toMatch(/^CREATE UNIQUE INDEX/);
    await check('created');
  });

  it('edits the collection: a field renamed keeps its id', async () => {
    const pb = await sdk();
    const before = await pb.collections.getOne('articles');
    const titleId = before.fields.find((f) => f.name === 'title')!.id;

    await page.goto(`${server.url}/_/#/collections/articles`);
    await page.getByRole('link', { name: 'Edit collection articles' }).click();
    await page.waitForURL(/#\/collections\/articles\/edit/);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit articles' }).isVisible()).toBe(true);
    const index = before.fields.findIndex((f) => f.name === 'title');
    await page.locator(`#field-${index}-name`).fill('headline');
    // The order of the fields is the columns' order: `body` moved above `headline`, from the keyboard.
    await page.getByRole('button', { name: 'Move body up' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.locator(`#field-${index}-name`).inputValue()).toBe('body');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).isVisible()).toBe(true);
    const after = await pb.collections.getOne('articles');
    expect(after.fields.find((f) => f.id === titleId)?.name).toBe('headline');
    expect(after.fields.some((f) => f.name === 'title')).toBe(false);
    expect(after.fields.findIndex((f) => f.name === 'body')).toBe(index);
    expect(after.fields.findIndex((f) => f.name === 'headline')).toBe(index + 1);
    await check('renamed');
  });

  it('renames the collection: its indexes follow the new name', async () => {
    const pb = await sdk();
    await page.getByLabel('Name', { exact: true }).fill('stories');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/#\/collections\/stories\/edit/);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit stories' }).isVisible()).toBe(true);
    const stories = await pb.collections.getOne('stories');
    expect(stories.indexes[0]).toContain('ON `stories`');
    await page.getByLabel('Name', { exact: true }).fill('articles');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/#\/collections\/articles\/edit/);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit articles' }).isVisible()).toBe(true);
  });

  it('asks before leaving unsaved changes', async () => {
    await page.getByLabel('Name', { exact: true }).fill('articles2');
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await page.getByRole('link', { name: 'Records' }).click();
    await expect.poll(() => asked).toContain('Leave without saving');
    expect(page.url()).toMatch(/#\/collections\/articles\/edit/);
    // Undone: nothing to lose, nothing asked.
    await page.getByLabel('Name', { exact: true }).fill('articles');
    await page.getByRole('link', { name: 'Records' }).click();
    await page.waitForURL(/#\/collections\/articles$/);
    await page.getByRole('link', { name: 'Edit collection articles' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Edit articles' }).isVisible()).toBe(true);
  });

  it('exports the collection as JSON', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    expect(download.suggestedFilename()).toBe('articles.json');
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { name: string; fields: { name: string }[]; created?: string }[];
    expect(exported).toHaveLength(1);
    expect(exported[0]!.name).toBe('articles');
    expect(exported[0]!.fields.map((f) => f.name)).toContain('headline');
    expect(exported[0]!.created).toBeUndefined();
  });

  it('imports a file after previewing its changes; the server refuses an invalid one', async () => {
    const pb = await sdk();
    const articles = await pb.collections.getOne('articles');
    await page.getByRole('link', { name: 'Collections', exact: true }).click();
    await page.getByRole('link', { name: 'Import / export' }).click();
    await page.waitForURL(/#\/import-export/);
    await expect.poll(() => page.getByRole('heading', { name: 'Import and export collections' }).isVisible()).toBe(true);

    const tags = { name: 'tags', type: 'base', fields: [{ name: 'label', type: 'text' }], listRule: 'nosuch = 1' };
    const input = page.getByLabel('Or paste the collections’ JSON');
    await input.fill(JSON.stringify([{ ...articles, listRule: '' }, tags]));
    await page.getByRole('button', { name: 'Review changes' }).click();
    const changes = page.locator('.preview li');
    await expect.poll(() => changes.count()).toBe(2);
    expect(await changes.nth(0).textContent()).toMatch(/Update\s*articles\s*listRule/);
    expect(await changes.nth(1).textContent()).toMatch(/Create\s*tags/);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Failed to import collections.');
    expect(await page.getByRole('alert').textContent()).toContain('tags.listRule: Invalid rule: unknown field "nosuch"');
    await check('import-refused');

    await input.fill(JSON.stringify([{ ...articles, listRule: '' }, { ...tags, listRule: 'label != ""' }]));
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Imported 2 collections.' }).isVisible()).toBe(true);
    expect((await pb.collections.getOne('articles')).listRule).toBe('');
    expect((await pb.collections.getOne('tags')).listRule).toBe('label != ""');
    await check('imported');
    await page.goto(`${server.url}/_/#/collections/articles/edit`);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit articles' }).isVisible()).toBe(true);
  });

  it('creates an auth collection with its options: OTP, an OAuth2 provider, token durations, auth rules', async () => {
    await page.goto(`${server.url}/_/#/new-collection`);
    await expect.poll(() => page.getByRole('heading', { name: 'New collection' }).isVisible()).toBe(true);
    await page.getByLabel('Type', { exact: true }).selectOption('auth');
    await expect.poll(() => tab('Auth options').isVisible()).toBe(true);
    await expect.poll(() => page.locator('.field-row').count()).toBeGreaterThan(5);
    await page.getByLabel('Name', { exact: true }).fill('members');
    // The password type is offered on auth collections only.
    await page.getByLabel('New field type').selectOption('password');
    await page.getByRole('button', { name: 'Add field' }).click();
    const index = (await page.locator('.field-row').count()) - 1;
    await page.locator(`#field-${index}-name`).fill('pin');
    await page.locator(`#field-${index}-min`).fill('4');
    await page.locator(`#field-${index}-min`).dispatchEvent('change');

    await tab('Auth options').click();
    await page.getByRole('group', { name: 'One-time password (OTP)' }).getByLabel('Enabled').check();
    await page.getByLabel('Duration (seconds)').first().fill('300');
    await page.getByLabel('Duration (seconds)').first().dispatchEvent('change');
    await page.getByLabel('Provider', { exact: true }).fill('google');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.getByLabel('Client ID').fill('journey-client');
    await page.getByLabel('Client secret').fill('journey-secret');
    await page.getByText('Endpoints and display').click();
    await page.getByLabel('Display name').fill('Google Workspace');
    await page.getByRole('group', { name: 'OAuth2' }).getByLabel('Enabled').check();
    await page.getByLabel('Auth token', { exact: true }).fill('3600');
    await page.getByLabel('Auth token', { exact: true }).dispatchEvent('change');
    await check('auth-options');

    await tab('API rules').click();
    await page.getByRole('combobox', { name: 'Authentication rule' }).fill('verified = true');
    await page.getByRole('checkbox', { name: 'Superusers only' }).last().uncheck();
    await page.getByRole('combobox', { name: 'Manage rule' }).fill('@request.auth.id != ""');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/#\/collections\/members\/edit/);

    const pb = await sdk();
    const members = await pb.collections.getOne('members');
    expect(members.type).toBe('auth');
    expect(members.fields.find((f) => f.name === 'pin')).toMatchObject({ type: 'password', min: 4 });
    expect(members.otp).toMatchObject({ enabled: true, duration: 300 });
    expect(members.oauth2.enabled).toBe(true);
    expect(members.oauth2.providers[0]).toMatchObject({ name: 'google', clientId: 'journey-client', displayName: 'Google Workspace' });
    expect(members.authToken.duration).toBe(3600);
    expect(members.authRule).toBe('verified = true');
    expect(members.manageRule).toBe('@request.auth.id != ""');
    await check('auth-created');
  });

  it('creates a view collection from its query; a bad query is refused with the server’s message', async () => {
    await page.goto(`${server.url}/_/#/new-collection?type=view`);
    await expect.poll(() => page.getByLabel('View query (one SELECT)').isVisible()).toBe(true);
    await page.getByLabel('Name', { exact: true }).fill('tag_labels');
    await page.getByLabel('View query (one SELECT)').fill('SELECT id, nosuchcolumn FROM tags');
    await page.getByRole('button', { name: 'Create' }).click();
    const error = page.locator('#view-query-error');
    await expect.poll(() => error.isVisible()).toBe(true);
    expect((await error.textContent())!.length).toBeGreaterThan(0);
    await check('view-query-refused');

    await page.getByLabel('View query (one SELECT)').fill('SELECT id, label FROM tags');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/#\/collections\/tag_labels\/edit/);
    const pb = await sdk();
    const view = await pb.collections.getOne('tag_labels');
    expect(view.type).toBe('view');
    expect(view.fields.map((f) => f.name)).toEqual(['id', 'label']);
    await tab('Fields').click();
    await expect.poll(() => page.locator('.field-row').count()).toBe(2);
    // A view's fields come from its query: shown, not editable.
    expect(await page.locator('#field-1-name').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Add field' }).count()).toBe(0);
    await check('view-created');
    await page.goto(`${server.url}/_/#/collections/articles/edit`);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit articles' }).isVisible()).toBe(true);
  });

  it('is usable from the keyboard, in the dark theme and at tablet size', async () => {
    await page.goto(`${server.url}/_/#/collections/members/edit`);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit members' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    // The tabs follow the arrow keys, as a tab list does.
    await tab('Fields').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => tab('API rules').getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-rules');
    // Ctrl+Space asks for completions; arrows choose; Escape closes.
    const listRule = page.getByRole('combobox', { name: 'List/Search rule' });
    await page.getByRole('checkbox', { name: 'Superusers only' }).first().uncheck();
    await listRule.focus();
    const completions = page.getByRole('listbox', { name: 'Completions for List/Search rule' }).getByRole('option');
    await listRule.pressSequentially('@');
    await expect.poll(() => completions.count()).toBeGreaterThan(5);
    await page.keyboard.press('ArrowDown');
    expect(await completions.and(page.locator('[aria-selected="true"]')).textContent()).toBe('@request.body.');
    expect(await listRule.getAttribute('aria-activedescendant')).toBe('rule-listRule-completions-1');
    await check('rules-dark');
    await page.keyboard.press('Escape');
    await expect.poll(() => completions.count()).toBe(0);

    await page.setViewportSize({ width: 820, height: 1180 });
    await tab('Fields').click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= (globalThis as any).innerWidth)).toBe(true);
    await check('tablet-dark');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Switch to the light theme' }).click();
    await page.goto(`${server.url}/_/#/collections/articles/edit`);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit articles' }).isVisible()).toBe(true);
  });

  it('truncates and deletes with the name typed to confirm', async () => {
    const pb = await sdk();
    await pb.collection('articles').create({ headline: 'one', status: 'live' });
    // Escape closes the dialog and gives the focus back to its button.
    await page.getByRole('button', { name: 'Truncate' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm-typed');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Truncate');
    await page.getByRole('button', { name: 'Truncate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Truncate articles?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    const confirm = dialog.getByRole('button', { name: 'Delete all records' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Type articles to confirm').fill('article');
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Type articles to confirm').fill('articles');
    await check('truncate-confirm');
    await confirm.click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'All records of articles were deleted.' }).isVisible()).toBe(true);
    expect((await pb.collection('articles').getList(1, 1)).totalItems).toBe(0);

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const del = page.getByRole('dialog', { name: 'Delete articles?' });
    await del.getByLabel('Type articles to confirm').fill('articles');
    await del.getByRole('button', { name: 'Delete collection' }).click();
    await page.waitForURL(/#\/collections$/);
    await expect.poll(async () => (await pb.collections.getFullList()).some((c) => c.name === 'articles')).toBe(false);
    await check('deleted');
  });
});
