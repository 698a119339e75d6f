/**
 * Live validation in the collections editor, in Debian's Chromium against a real `basalt serve`
 * on a fresh data dir (SQLite, or PostgreSQL with BASALT_TEST_DB=postgres): typing an invalid
 * rule shows the server's message under it before anything is saved (the dry run of
 * `POST /api/collections/meta/validate`), fixing it clears it; the same for a field's name, an
 * index and a view query; nothing is saved until the button is pressed. Screenshots in
 * test-artifacts/dashboard/<engine>/validate-*.png, axe-core at each step.
 */
import PocketBase from 'pocketbase';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStep, launchBrowser, missingPrerequisite, type Server, startServer, Steps, watchProblems } from './dashboard-harness.js';

const missing = missingPrerequisite();
if (missing && process.env.CI) throw new Error(`the live validation journey cannot run: ${missing}`);

const ADMIN = { email: 'validate-admin@example.com', password: 'journey-password-1' };
/** Live answers come 400 ms after typing stops; a busy machine gets room. */
const POLL = { timeout: 10_000 };

describe.skipIf(missing !== '')(`live validation in the collections editor${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let steps: Steps;
  const problems: string[] = [];
  const validations: number[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
    watchProblems(page, problems);
    page.on('response', (res) => {
      if (res.url().endsWith('/api/collections/meta/validate')) validations.push(res.status());
    });
    steps = new Steps('validate');
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

  it('signs in and opens an existing collection in the editor', async () => {
    const [link] = await server.waitForOutput(/http:\/\/127\.0\.0\.1:\d+\/_\/#\/pbinstal\/\S+/);
    await page.goto(link);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Confirm the password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create superuser and sign in' }).click();
    await page.waitForURL(/#\/collections/);
    const pb = await sdk();
    await pb.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'title', type: 'text' }] });
    await page.goto(`${server.url}/_/#/collections/notes/edit`);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit notes' }).isVisible(), POLL).toBe(true);
    await check('editor');
  });

  it('shows the server refusing a rule while it is typed, and clears it once fixed', async () => {
    await page.getByRole('tab', { name: 'API rules' }).click();
    await page.getByRole('checkbox', { name: 'Superusers only' }).first().uncheck();
    const listRule = page.getByRole('combobox', { name: 'List/Search rule' });
    await listRule.pressSequentially('nosuch = 1');
    await listRule.press('Escape');
    const error = page.locator('#rule-listRule-error');
    // No button pressed: the message is the dry run's.
    await expect.poll(() => error.textContent(), POLL).toContain('Invalid rule: unknown field "nosuch"');
    expect(await listRule.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('tab', { name: /API rules/ }).textContent()).toContain('!');
    expect(validations.length).toBeGreaterThan(0);
    // Nothing was saved.
    expect((await (await sdk()).collections.getOne('notes')).listRule).toBeNull();
    await check('rule-refused-live');

    // Typing again hides the answer about the old text at once; the new one follows.
    await listRule.fill('');
    await listRule.pressSequentially('title != ""');
    await listRule.press('Escape');
    await expect.poll(() => error.count(), POLL).toBe(0);
    await expect.poll(() => validations.at(-1), POLL).toBe(204);
    expect(await listRule.getAttribute('aria-invalid')).toBe('false');
    expect(await page.getByRole('tab', { name: /API rules/ }).textContent()).not.toContain('!');
    await check('rule-fixed-live');
  });

  it('an index is judged live too; saving still works and saves what was typed', async () => {
    await page.getByRole('tab', { name: 'Indexes' }).click();
    await page.getByRole('group', { name: 'Columns' }).getByLabel('title').check();
    await page.getByRole('checkbox', { name: 'Unique' }).check();
    await page.getByRole('button', { name: 'Add index' }).click();
    await expect.poll(() => page.locator('.indexes li').count(), POLL).toBe(1);
    // A unique index is valid on an empty table: the live verdict is a 204.
    const before = validations.length;
    await expect.poll(() => validations.length > before && validations.at(-1) === 204, POLL).toBe(true);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).isVisible(), POLL).toBe(true);
    const saved = await (await sdk()).collections.getOne('notes');
    expect(saved.listRule).toBe('title != ""');
    expect(saved.indexes).toHaveLength(1);
    await check('saved');
  });

  it('a field is judged as it is typed: its message under it, gone once fixed', async () => {
    await page.getByRole('tab', { name: 'Fields' }).click();
    const name = page.locator('#field-1-name');
    expect(await name.inputValue()).toBe('title');
    await name.fill('bad name');
    await expect.poll(() => page.locator('#field-1-name-error').isVisible(), POLL).toBe(true);
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    await check('field-refused-live');
    await name.fill('heading');
    await expect.poll(() => page.locator('#field-1-name-error').count(), POLL).toBe(0);
    await expect.poll(() => validations.at(-1), POLL).toBe(204);
    // Back as saved: nothing left to lose or to judge.
    await name.fill('title');
    expect((await (await sdk()).collections.getOne('notes')).fields.map((f) => f.name)).toEqual(['id', 'title']);
  });

  it('a view query is judged as it is typed, in the dark theme', async () => {
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    await page.goto(`${server.url}/_/#/new-collection?type=view`);
    await expect.poll(() => page.getByRole('heading', { name: 'New collection' }).isVisible(), POLL).toBe(true);
    await page.getByLabel('Name', { exact: true }).fill('titles');
    const query = page.getByLabel('View query (one SELECT)');
    await query.fill('SELECT id, title FROM nowhere');
    await expect.poll(() => page.locator('#view-query-error').textContent(), POLL).toContain('Invalid query');
    await check('view-refused-live-dark');
    await query.fill('SELECT id, title FROM notes');
    await expect.poll(() => page.locator('#view-query-error').count(), POLL).toBe(0);
    await expect.poll(() => validations.at(-1), POLL).toBe(204);
    const pb = await sdk();
    expect((await pb.collections.getFullList()).some((c) => c.name === 'titles')).toBe(false);
    await check('view-fixed-live-dark');
  });
});
