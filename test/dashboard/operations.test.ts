/**
 * The dashboard's operations screens in the browser (issue 13), against a real `basalt serve`
 * on a fresh data dir (SQLite, or PostgreSQL with BASALT_TEST_DB=postgres): settings saved with
 * a field error first and reloaded (the application name shown in the layout), the mail test
 * email received, a backup created with a refused name first, downloaded (a zip) and restored, a cron run
 * now, the logs charted with an entry opened and then all deleted after a confirmation, and an
 * API key created (its secret shown once and working), edited and revoked (then refused).
 *
 * Every step leaves a screenshot in test-artifacts/dashboard/<engine>-operations/ and runs
 * axe-core (no serious or critical violation). The CSP stays enforced: a violation fails it.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE } from '../harness/engines.js';
import { startSmtpSink, type SmtpSink } from '../harness/smtp-sink.js';
import { axeViolations, describeViolations, launchBrowser, missingPrerequisite, ROOT, type Server, startServer, watchProblems } from './dashboard-harness.js';

declare const window: any;
declare const document: any;
declare function getComputedStyle(element: any): any;

const missing = missingPrerequisite();
if (missing && process.env.CI) throw new Error(`the dashboard operations journey cannot run: ${missing}`);

const ADMIN = { email: 'ops@example.com', password: 'operations-password-1' };

describe.skipIf(missing !== '')(`the dashboard's operations screens${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let sink: SmtpSink;
  let pb: PocketBase;
  const shots = join(ROOT, 'test-artifacts', 'dashboard', `${ENGINE}-operations`);
  let shot = 0;
  const problems: string[] = [];

  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    server = await startServer();
    sink = await startSmtpSink();
    // The first superuser through the printed first-run link's token (the other journey covers its screen).
    const [, token] = await server.waitForOutput(/\/_\/#\/pbinstal\/(\S+)/);
    const installer = new PocketBase(server.url);
    await installer.collection('_superusers').create({ email: ADMIN.email, password: ADMIN.password, passwordConfirm: ADMIN.password }, { headers: { Authorization: token! } });
    pb = new PocketBase(server.url);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await pb.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'title', type: 'text' }] });
    await pb.collection('notes').create({ title: 'first' });

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', acceptDownloads: true });
    page = await context.newPage();
    // A step that cannot find its element says which, well within the test's own timeout.
    page.setDefaultTimeout(10_000);
    watchProblems(page, problems);
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
    await sink?.close();
  });

  // A failed step leaves its page behind, for the artifacts.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await page.screenshot({ path: join(shots, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true });
  });

  async function check(name: string): Promise<void> {
    shot++;
    await page.screenshot({ path: join(shots, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
    const violations = await axeViolations(page);
    expect(violations, `${name}:\n${describeViolations(violations)}`).toEqual([]);
    expect(problems, name).toEqual([]);
  }

  const status = () => page.getByRole('status');
  const alert = () => page.getByRole('alert');

  it('saves the application settings: a field error next to its field first, then the new name in the layout after a reload', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/settings/);
    const name = page.getByLabel('Application name');
    await expect.poll(() => name.isVisible()).toBe(true);
    await name.fill('Ops Journey');
    await page.getByLabel('Application URL').fill('not a url');
    await page.getByRole('button', { name: 'Save changes' }).click();
    // The server's message, and the field error next to its field (tied to it for screen readers).
    await expect.poll(() => page.locator('#set-meta-appURL-error').textContent()).toContain('Must be a valid http(s) URL.');
    expect(await page.getByLabel('Application URL').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Application URL').getAttribute('aria-describedby')).toContain('set-meta-appURL-error');
    await expect.poll(() => alert().first().textContent()).toContain('An error occurred while validating the submitted data.');
    await check('settings-field-error');

    // A rate-limit rule's error shows on its row.
    await page.getByLabel('Application URL').fill('https://ops.example.com');
    await page.getByLabel('Rule 1 label').fill('bad label!');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.locator('#set-rateLimits-rules-0-label-error').textContent()).toContain('Invalid label format.');
    await expect.poll(() => page.locator('#set-meta-appURL-error').count()).toBe(0);
    await check('settings-rule-error');
    await page.getByLabel('Rule 1 label').fill('*:auth');
    await page.getByLabel('Excluded IPs').fill('10.0.0.0/8, 127.0.0.2');
    await page.getByLabel('Accent colour').fill('#0b6e4f');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => status().textContent()).toContain('Settings saved.');
    // The accent colours the dashboard at once, with white text on it (the darker of the two).
    const accent = () => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim());
    await expect.poll(accent).toBe('#0b6e4f');
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent-text').trim())).toBe('#ffffff');
    await expect.poll(() => page.locator('header .product').textContent()).toBe('Ops Journey');
    const saved = await pb.settings.getAll();
    expect(saved.meta.appName).toBe('Ops Journey');
    expect(saved.rateLimits.excludedIPs).toEqual(['10.0.0.0/8', '127.0.0.2']);

    await page.reload();
    await expect.poll(() => page.getByLabel('Application name').inputValue()).toBe('Ops Journey');
    await expect.poll(() => page.locator('header .product').textContent()).toBe('Ops Journey');
    expect(await page.getByLabel('Excluded IPs').inputValue()).toBe('10.0.0.0/8, 127.0.0.2');
    // Read back from the settings after a reload, too.
    await expect.poll(accent).toBe('#0b6e4f');
    await check('settings-saved');
  });

  it('saves the SMTP server (the password never shown back) and sends a test email', async () => {
    await page.getByRole('link', { name: 'Mail' }).click();
    await page.waitForURL(/#\/settings\/mail/);
    await page.getByLabel('Send mail through this SMTP server').check();
    await page.getByLabel('Host').fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill(String(sink.port));
    await page.getByLabel('Password', { exact: true }).fill('smtp-secret');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => status().first().textContent()).toContain('Settings saved.');
    // The password is kept, never sent back, and the input is empty again.
    expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('');
    expect(JSON.stringify(await pb.settings.getAll())).not.toContain('smtp-secret');

    await page.getByLabel('To', { exact: true }).fill('not-an-email');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await expect.poll(() => page.locator('#set-email-error').textContent()).toContain('Must be a valid email address.');
    await page.getByLabel('To', { exact: true }).fill('someone@example.com');
    await page.getByLabel('Template').selectOption('password-reset');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await expect.poll(() => page.getByText('A test email was sent to someone@example.com.').isVisible()).toBe(true);
    const mail = await sink.waitFor((m) => m.to.includes('someone@example.com'), 10_000);
    expect(mail.subject).not.toBe('');
    await check('settings-mail');
  });

  it('shows the file storage and the logs settings', async () => {
    await page.getByRole('link', { name: 'File storage' }).click();
    await page.waitForURL(/#\/settings\/storage/);
    await expect.poll(() => page.getByLabel('Use S3 storage').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Test connection' }).isDisabled()).toBe(true);
    await page.getByLabel('Use S3 storage').check();
    await expect.poll(() => page.getByLabel('Bucket').isVisible()).toBe(true);
    // A bucket nobody serves (the discard port): saved, then its test fails with the server's reason.
    await page.getByLabel('Endpoint').fill('http://127.0.0.1:9');
    await page.getByLabel('Bucket').fill('uploads');
    await page.getByLabel('Region').fill('us-east-1');
    await page.getByLabel('Access key').fill('journey-access');
    await page.getByLabel('Secret', { exact: true }).fill('journey-s3-secret');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => status().first().textContent()).toContain('Settings saved.');
    expect(await page.getByLabel('Secret', { exact: true }).inputValue()).toBe('');
    expect(JSON.stringify(await pb.settings.getAll())).not.toContain('journey-s3-secret');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => alert().first().textContent(), { timeout: 30_000 }).toMatch(/failed/i);
    await check('settings-storage-test');
    // Back to the local disk.
    await page.getByLabel('Use S3 storage').uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(async () => (await pb.settings.getAll()).s3.enabled).toBe(false);

    await page.getByRole('link', { name: 'Logs', exact: true }).last().click();
    await page.waitForURL(/#\/settings\/logs/);
    await page.getByLabel('Days kept').fill('-1');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.locator('#set-logs-maxDays-error').textContent()).toContain('Must be no less than 0.');
    await page.getByLabel('Days kept').fill('7');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => status().textContent()).toContain('Settings saved.');
    expect((await pb.settings.getAll()).logs.maxDays).toBe(7);
    await check('settings-logs');
  });

  it('creates a backup (a refused name first), downloads it (a zip), uploads and deletes a copy, and restores it', async () => {
    await page.getByRole('link', { name: 'Backups' }).click();
    await page.waitForURL(/#\/settings\/backups/);
    await expect.poll(() => page.getByText('No backups yet.').isVisible()).toBe(true);
    await page.getByLabel('New backup name').fill('Not Valid.zip');
    await page.getByRole('button', { name: 'Create backup' }).click();
    await expect.poll(() => page.locator('#backup-name-error').textContent()).toContain('Must be in a valid format.');

    await page.getByLabel('New backup name').fill('journey_backup.zip');
    await page.getByRole('button', { name: 'Create backup' }).click();
    await expect.poll(() => page.getByRole('cell', { name: 'journey_backup.zip', exact: true }).isVisible(), { timeout: 30_000 }).toBe(true);
    await check('backup-created');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download journey_backup.zip' }).click()]);
    expect(download.suggestedFilename()).toBe('journey_backup.zip');
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);

    // The downloaded zip uploaded back under another name, then deleted (asked first).
    await page.getByLabel('Upload a backup (.zip)').setInputFiles({ name: 'uploaded_copy.zip', mimeType: 'application/zip', buffer: bytes });
    await expect.poll(() => page.getByRole('cell', { name: 'uploaded_copy.zip', exact: true }).isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => status().first().textContent()).toContain('uploaded_copy.zip was uploaded.');
    await page.getByRole('button', { name: 'Delete uploaded_copy.zip' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect.poll(() => page.getByRole('cell', { name: 'uploaded_copy.zip', exact: true }).count()).toBe(0);
    expect((await pb.backups.getFullList()).map((b) => b.key)).toEqual(['journey_backup.zip']);

    // Delete asks first; cancel keeps it.
    await page.getByRole('button', { name: 'Delete journey_backup.zip' }).click();
    await expect.poll(() => page.getByText('Delete this backup?').isVisible()).toBe(true);
    await check('backup-delete-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect((await pb.backups.getFullList()).map((b) => b.key)).toContain('journey_backup.zip');

    // Restore, asked first: a rename made after the backup is undone, and the page starts over.
    await pb.settings.update({ meta: { appName: 'Renamed Later' } });
    await page.getByRole('button', { name: 'Restore journey_backup.zip' }).click();
    await expect.poll(() => page.getByText('Replace all data with this backup?').isVisible()).toBe(true);
    await page.evaluate(() => (window.beforeRestore = true));
    await page.getByRole('button', { name: 'Yes, restore' }).click();
    await expect.poll(() => status().first().textContent(), { timeout: 30_000 }).toContain('journey_backup.zip was restored.');
    // The page reloaded (the marker is gone) and reads the restored name.
    await expect.poll(() => page.evaluate(() => window.beforeRestore === undefined), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => page.locator('header .product').textContent()).toBe('Ops Journey');
    expect((await pb.settings.getAll()).meta.appName).toBe('Ops Journey');
    await expect.poll(() => page.getByRole('cell', { name: 'journey_backup.zip', exact: true }).isVisible()).toBe(true);
    await check('backup-restored');
  });

  it('lists the cron jobs and runs one now', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Crons' }).click();
    await page.waitForURL(/#\/settings\/crons/);
    const jobs = await pb.crons.getFullList();
    expect(jobs.length).toBeGreaterThan(0);
    const job = jobs[0]!.id;
    await expect.poll(() => page.getByRole('cell', { name: job, exact: true }).isVisible()).toBe(true);
    await page.getByRole('button', { name: `Run now ${job}` }).click();
    await expect.poll(() => status().textContent()).toContain(`${job} was started.`);
    await check('crons');
  });

  it('charts the logs, filters them, and opens an entry', async () => {
    // Guests' requests to chart (the dashboard's own, a superuser's, are left out by default).
    const guest = new PocketBase(server.url);
    guest.autoCancellation(false);
    await guest.health.check();
    await guest.collection('notes').getList().catch(() => {});
    await guest.collection('nope').getList().catch(() => {});

    await page.getByRole('link', { name: 'Logs', exact: true }).first().click();
    await page.waitForURL(/#\/logs/);
    // Stored logs are written in batches: refresh until they are there.
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          await page.waitForTimeout(300);
          return page.locator('svg rect.bar').count();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBeGreaterThan(0);
    expect(await page.locator('figure svg').getAttribute('aria-label')).toMatch(/^Requests per hour: \d+ in \d+ hours?/);
    await check('logs-chart');

    const filter = page.getByRole('searchbox', { name: 'Filter' });
    await filter.fill('data.status >= 400');
    await filter.press('Enter');
    await expect.poll(() => page.locator('table tbody tr').first().textContent()).toContain('/api/collections/nope/records');
    await expect.poll(() => page.locator('table tbody tr').filter({ hasText: '/api/health' }).count()).toBe(0);

    await filter.fill('nosuchfield = 1');
    await filter.press('Enter');
    await expect.poll(() => page.locator('#records-filter-error').textContent()).toContain('nosuchfield');
    await check('logs-invalid-filter');
    await page.getByRole('button', { name: 'Clear' }).click();

    // Superusers' requests (the dashboard's own) appear with the toggle.
    const unfiltered = async () => Number(/(\d+) record/.exec((await page.locator('.pager .total').textContent()) ?? '')?.[1] ?? 0);
    await expect.poll(unfiltered).toBeGreaterThan(0);
    const withoutSuperusers = await unfiltered();
    await page.getByLabel('Include superuser requests').check();
    await expect.poll(unfiltered).toBeGreaterThan(withoutSuperusers);
    expect(page.url()).toContain('superusers=1');

    await page.locator('table tbody tr a').first().click();
    await expect.poll(() => page.getByRole('heading', { name: 'Log entry' }).isVisible()).toBe(true);
    await expect.poll(() => page.locator('aside dl').textContent()).toContain('data.status');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('log-detail-title');
    await check('log-entry');
    await page.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Log entry' }).count()).toBe(0);

    // Every entry deleted, after a confirmation (Cancel first: nothing is deleted).
    await page.getByRole('button', { name: 'Delete all…' }).click();
    await expect.poll(() => page.getByRole('dialog', { name: 'Delete every stored log entry?' }).isVisible()).toBe(true);
    await check('logs-delete-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(unfiltered).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Delete all…' }).click();
    await page.getByRole('button', { name: 'Delete all entries' }).click();
    await expect.poll(() => page.getByText('Every stored log entry was deleted.').isVisible()).toBe(true);
    await expect.poll(() => page.getByText('No entries stored yet.').isVisible()).toBe(true);
    await check('logs-deleted');
  });

  it('creates an API key with scopes (its secret shown once, working) and revokes it', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.waitForURL(/#\/api-keys/);
    await expect.poll(() => page.getByText('No API keys yet.').isVisible()).toBe(true);
    // Without a name: the server's field error next to it.
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.locator('#key-name-error').textContent()).toContain('Missing required value.');
    await check('api-key-error');

    await page.getByLabel('Name').fill('reporting');
    await page.getByLabel('Collection').selectOption('notes');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByLabel('New API key');
    await expect.poll(() => secret.isVisible()).toBe(true);
    const key = await secret.inputValue();
    expect(key).toMatch(/^bsk_[A-Za-z0-9]{43}$/);
    await expect.poll(() => page.getByRole('cell', { name: 'notes: list, view' }).isVisible()).toBe(true);
    await check('api-key-created');

    const listWithKey = () => fetch(`${server.url}/api/collections/notes/records`, { headers: { Authorization: `Bearer ${key}` } });
    expect((await listWithKey()).status).toBe(200);

    // Shown once: gone after Done and after a reload.
    await page.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => secret.count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.getByRole('cell', { name: 'reporting', exact: true }).isVisible()).toBe(true);
    expect(await page.content()).not.toContain(key);

    // Edited: list taken away, the secret unchanged (the same key works for what is left).
    await page.getByRole('button', { name: 'Edit reporting' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Edit key “reporting”' }).isVisible()).toBe(true);
    expect(await page.getByLabel('Name').inputValue()).toBe('reporting');
    await page.getByRole('group', { name: 'Actions of scope 1' }).getByLabel('list').uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.getByText('Key “reporting” saved.').isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('cell', { name: 'notes: view', exact: true }).isVisible()).toBe(true);
    expect(await page.getByRole('heading', { name: 'Create an API key' }).isVisible()).toBe(true);
    await check('api-key-edited');

    await page.getByRole('button', { name: 'Revoke reporting' }).click();
    await page.getByRole('button', { name: 'Yes, revoke' }).click();
    await expect.poll(() => page.getByText('No API keys yet.').isVisible()).toBe(true);
    expect((await listWithKey()).status).not.toBe(200);
    await check('api-key-revoked');
  });

  it('shows the screens in the dark theme and on a tablet', async () => {
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    for (const [path, ready] of [
      ['#/logs', 'Include superuser requests'],
      ['#/settings/application', 'Application name'],
      ['#/settings/backups', 'New backup name'],
      ['#/api-keys', 'Name'],
    ] as const) {
      await page.goto(`${server.url}/_/${path}`);
      await expect.poll(() => page.getByLabel(ready).first().isVisible()).toBe(true);
      if (path === '#/logs') await expect.poll(() => page.locator('svg rect.bar').count()).toBeGreaterThan(0);
      await check(`dark-${path.replace(/[#/]+/g, '-').replace(/^-/, '')}`);
    }
    await page.setViewportSize({ width: 820, height: 1180 });
    for (const path of ['#/logs', '#/settings/application', '#/api-keys']) {
      await page.goto(`${server.url}/_/${path}`);
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), path).toBe(true);
    }
    await check('tablet');
  });
});
