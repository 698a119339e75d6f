/**
 * The dashboard's screens for Basalt's own additions (issue 13), in the browser against a real
 * `basalt serve` on a fresh data dir (SQLite, or PostgreSQL with BASALT_TEST_DB=postgres), with a
 * hook file of the test's: jobs enqueued through the app's API (a hook route), one failing and
 * retried from the dashboard, one queued and cancelled; a webhook endpoint created against a
 * receiver on loopback started by the test (refused first with the server's reason next to the
 * URL), a record write delivered, seen in the log with its response, and replayed; its secret
 * rotated; a collection's workflow drawn as a diagram, reached from the collection, and from a
 * record's panel its history and available transitions, one fired (the history grows, the
 * highlighted state moves), and one that sets a field fired through that field's input (the
 * server's error under it first).
 *
 * Every step leaves a screenshot (`additions-NN-*.png` in test-artifacts/dashboard/<engine>/)
 * and runs axe-core (no serious or critical violation). The CSP stays enforced: a violation fails it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkStep, launchBrowser, missingPrerequisite, type Server, startServer, Steps, watchProblems } from './dashboard-harness.js';

const missing = missingPrerequisite();
if (missing && process.env.CI) throw new Error(`the dashboard additions journey cannot run: ${missing}`);

const ADMIN = { email: 'additions@example.com', password: 'additions-password-1' };
const POLL = { timeout: 10_000 };

// The app's code: a job whose first attempt of each job fails for good (FailJobNow), so the
// dashboard's retry is what makes it succeed; and a route (superusers only) that enqueues one of
// those and one delayed by an hour, to be cancelled.
const HOOKS = `import { defineHooks, FailJobNow, requireSuperuserAuth } from 'basalt';
const tried = new Set<string>();
export default defineHooks((app) => {
  app.jobs.define('journey-report', async (job) => {
    if (!tried.has(job.id)) {
      tried.add(job.id);
      throw new FailJobNow('the report service is unavailable');
    }
  }, { maxAttempts: 3 });
  app.routerAdd('POST', '/api/journey/enqueue', async () => {
    const failing = await app.jobs.enqueue('journey-report', { report: 'weekly' }) as { id: string };
    const later = await app.jobs.enqueue('journey-report', { report: 'monthly' }, { delay: 3_600_000 }) as { id: string };
    return { failing: failing.id, later: later.id };
  }, requireSuperuserAuth());
});
`;

interface Job { id: string; state: string; lastError: string }
interface Received { headers: IncomingHttpHeaders; body: string }

/** A webhook receiver on loopback: keeps what it is sent, answers 200 `ok`. */
async function startReceiver(): Promise<{ server: HttpServer; port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain', 'x-receiver': 'journey' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, received };
}

describe.skipIf(missing !== '')(`the dashboard's screens for Basalt's additions${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pb: PocketBase;
  let hooksDir = '';
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const steps = new Steps('additions');
  const problems: string[] = [];

  beforeAll(async () => {
    hooksDir = mkdtempSync(join(tmpdir(), 'basalt-additions-hooks-'));
    writeFileSync(join(hooksDir, 'journey.ts'), HOOKS);
    receiver = await startReceiver();
    server = await startServer(['--hooks', hooksDir, '--webhook-allow', `127.0.0.1:${receiver.port}`]);
    const [, token] = await server.waitForOutput(/\/_\/#\/pbinstal\/(\S+)/);
    const installer = new PocketBase(server.url);
    await installer.collection('_superusers').create({ email: ADMIN.email, password: ADMIN.password, passwordConfirm: ADMIN.password }, { headers: { Authorization: token! } });
    pb = new PocketBase(server.url);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await pb.collections.create({ name: 'orders', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }] });

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
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
    await new Promise((r) => receiver?.server.close(r));
    if (hooksDir) rmSync(hooksDir, { recursive: true, force: true });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await steps.shot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  const check = (name: string) => checkStep(steps, page, problems, name);

  const job = (id: string) => pb.send<Job>(`/api/jobs/${id}`, {});

  it('jobs: a failed job found through its queue’s count, its error shown, retried; a queued one cancelled', async () => {
    const { failing, later } = await pb.send<{ failing: string; later: string }>('/api/journey/enqueue', { method: 'POST' });
    await expect.poll(async () => (await job(failing)).state, POLL).toBe('failed');

    await page.getByRole('link', { name: 'Jobs' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/jobs/);
    // The queue's counts: one failed, one queued; the failed count opens the list filtered to it.
    await page.getByRole('link', { name: '1 failed in journey-report' }).click();
    await expect.poll(() => page.url()).toMatch(/queue=journey-report&state=failed/);
    await page.getByRole('link', { name: `Open job ${failing}` }).click();
    const detail = page.getByRole('complementary');
    await expect.poll(() => detail.textContent()).toContain('the report service is unavailable');
    expect(await detail.textContent()).toContain('"report": "weekly"');
    await check('jobs-failed');

    await detail.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => detail.getByRole('status').textContent()).toContain('Job queued again.');
    await expect.poll(async () => (await job(failing)).state, POLL).toBe('completed');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => detail.textContent(), POLL).toContain('completed');
    await check('jobs-retried');

    // The delayed job, through the state filter (keyboard: the select takes the choice).
    await page.getByLabel('State').selectOption('queued');
    await expect.poll(() => page.url()).toMatch(/state=queued/);
    await page.getByRole('link', { name: `Open job ${later}` }).click();
    await expect.poll(() => detail.textContent()).toContain('"report": "monthly"');
    await detail.getByRole('button', { name: 'Cancel job' }).click();
    await expect.poll(() => detail.getByRole('status').textContent()).toContain('Job cancelled.');
    expect((await job(later)).state).toBe('cancelled');
    await check('jobs-cancelled');
  });

  it('webhooks: an endpoint refused with the server’s reason, then created (its secret shown once), a write delivered, seen with its response, replayed, the secret rotated', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/webhooks/);
    await page.getByRole('button', { name: 'New endpoint' }).click();
    const url = page.getByLabel('URL', { exact: true });
    // A private address not allowed with --webhook-allow: the server's reason next to the field.
    await url.fill('http://10.0.0.5/hook');
    await page.getByRole('checkbox', { name: 'orders', exact: true }).check();
    await page.getByLabel('delete').uncheck();
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await expect.poll(() => page.locator('#wh-new-url-error').textContent()).toContain('not allowed');
    expect(await url.getAttribute('aria-invalid')).toBe('true');
    await check('webhooks-refused');

    await url.fill(`http://127.0.0.1:${receiver.port}/hook`);
    await page.getByLabel('Extra headers').fill('X-Tenant: acme');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const secretBox = page.getByLabel('Signing secret', { exact: true });
    await expect.poll(() => secretBox.inputValue()).toMatch(/^whsec_/);
    const firstSecret = await secretBox.inputValue();
    await expect.poll(() => page.url()).toMatch(/hook=(?!new)/);
    await check('webhooks-created');
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await secretBox.count()).toBe(0);

    // A record write: delivered to the receiver, signed, with the endpoint's header.
    await pb.collection('orders').create({ title: 'first order' });
    await expect.poll(() => receiver.received.length, POLL).toBe(1);
    const sent = receiver.received[0]!;
    expect(sent.headers['x-tenant']).toBe('acme');
    expect(sent.headers['webhook-signature']).toMatch(/^v1,/);
    const hookId = new URL(page.url()).hash.match(/hook=([^&]+)/)![1]!;
    const deliveries = () => pb.send<{ items: { id: string; state: string; attempts: number }[] }>(`/api/webhooks/${hookId}/deliveries`, {});
    await expect.poll(async () => (await deliveries()).items[0]?.state, POLL).toBe('succeeded');
    const deliveryId = (await deliveries()).items[0]!.id;
    expect(sent.headers['webhook-id']).toBe(deliveryId);

    await page.getByRole('button', { name: 'Refresh deliveries' }).click();
    await page.getByRole('button', { name: `Open delivery ${deliveryId}` }).click();
    const delivery = page.getByRole('article');
    await expect.poll(() => delivery.textContent()).toContain('first order');
    expect(await delivery.textContent()).toContain('status 200');
    expect(await delivery.textContent()).toContain('"x-receiver": "journey"');
    await check('webhooks-delivery');

    await delivery.getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => delivery.getByRole('status').textContent()).toContain('Delivery replayed');
    await expect.poll(() => receiver.received.length, POLL).toBe(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(deliveryId);
    expect(receiver.received[1]!.body).toBe(sent.body);
    await expect.poll(async () => (await deliveries()).items[0]?.attempts, POLL).toBe(2);
    await page.getByRole('button', { name: 'Refresh deliveries' }).click();
    await expect.poll(() => delivery.textContent(), POLL).toContain('#2');
    await check('webhooks-replayed');

    // Rotation: a bad grace period refused next to its field, then a new secret shown once.
    const grace = page.getByLabel('Grace period (seconds)');
    await grace.fill('-1');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await expect.poll(() => page.locator('#grace-error').textContent()).toContain('whole number');
    await grace.fill('0');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await expect.poll(() => secretBox.inputValue()).toMatch(/^whsec_/);
    expect(await secretBox.inputValue()).not.toBe(firstSecret);
    await check('webhooks-rotated');
    await page.getByRole('button', { name: 'Done' }).click();

    // Edited: a filter the server refuses, shown under it; then fixed and saved.
    const filter = page.getByLabel('Filter (optional)');
    await filter.fill('title ~~ "x"');
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    await expect.poll(() => page.locator(`#wh-${hookId}-filter-error`).textContent()).not.toBe('');
    expect(await filter.getAttribute('aria-invalid')).toBe('true');
    await check('webhooks-edit-refused');
    await filter.fill('title != ""');
    await page.getByLabel('update').uncheck();
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    await expect.poll(() => page.getByText('Endpoint saved.').count()).toBe(1);
    const stored = await pb.send<{ actions: string[]; filter: string }>(`/api/webhooks/${hookId}`, {});
    expect(stored).toMatchObject({ actions: ['create'], filter: 'title != ""' });

    // Deleted after the second click (keyboard: the confirmation is focusable and takes Enter).
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByText('No endpoints yet.').count()).toBe(1);
    expect((await pb.send<{ items: unknown[] }>('/api/webhooks', {})).items).toEqual([]);
  });

  it('workflows: the diagram from the collection, then a record’s transitions from its panel, one fired with a comment', async () => {
    await pb.collections.create({
      name: 'tickets', type: 'base', listRule: '', viewRule: '', createRule: '', updateRule: null,
      fields: [{ name: 'title', type: 'text' }, { name: 'status', type: 'select', maxSelect: 1, values: ['draft', 'submitted', 'approved', 'cancelled'] }, { name: 'reason', type: 'text', max: 50 }],
      workflow: {
        field: 'status', initial: 'draft',
        transitions: [
          { name: 'submit', from: ['draft'], to: 'submitted' },
          { name: 'approve', from: ['submitted'], to: 'approved', approvals: 2 },
          { name: 'cancel', from: ['draft', 'submitted'], to: 'cancelled', rule: '', fields: ['reason'] },
          { name: 'reopen', from: ['cancelled'], to: 'draft', after: '7d' },
        ],
      },
    });
    const ticket = await pb.collection('tickets').create({ title: 'printer on fire' });
    expect(ticket['status']).toBe('draft');

    await page.getByRole('link', { name: 'Collections' }).click();
    await page.getByRole('link', { name: /^tickets/ }).click();
    await page.getByRole('link', { name: 'Workflow of tickets' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/collections\/tickets\/workflow$/);
    const diagram = page.getByRole('img', { name: 'State diagram of the tickets workflow' });
    await expect.poll(() => diagram.locator('.node text').allTextContents()).toEqual(['draft', 'submitted', 'cancelled', 'approved']);
    expect(await diagram.locator('.edge text').allTextContents()).toEqual(expect.arrayContaining(['submit', 'approve', 'cancel', 'reopen']));
    expect(await page.getByRole('table', { name: 'Transitions' }).textContent()).toContain('after 7d');
    await check('workflow-diagram');

    // The record's panel links to its workflow view.
    await page.goto(`${server.url}/_/#/collections/tickets?record=${ticket.id}`);
    await page.getByRole('link', { name: 'Workflow: history and transitions' }).click();
    await expect.poll(() => page.url()).toContain(`workflow?record=${ticket.id}`);
    const mine = page.getByRole('region', { name: /^Record / });
    await expect.poll(() => mine.getByRole('button').allTextContents()).toEqual(['submit → submitted', 'cancel → cancelled…']);
    expect(await diagram.locator('.node.current text').textContent()).toBe('draft');
    await page.getByLabel('Comment (optional, kept in the history)').fill('ready for review');
    await mine.getByRole('button', { name: 'submit → submitted' }).click();
    await expect.poll(() => mine.getByRole('status').textContent()).toContain('“submit” fired.');
    expect((await pb.collection('tickets').getOne(ticket.id))['status']).toBe('submitted');
    await expect.poll(() => diagram.locator('.node.current text').textContent()).toBe('submitted');
    await expect.poll(() => mine.getByRole('list').last().textContent()).toContain('ready for review');
    expect(await mine.textContent()).toContain('by you');
    // approve needs two approvers: the superuser's is one of them.
    await expect.poll(() => mine.textContent()).toContain('0 of 2 approvals');
    await mine.getByRole('button', { name: 'approve → approved' }).click();
    await expect.poll(() => mine.getByRole('status').textContent()).toContain('Approval of “approve” recorded');
    await expect.poll(() => mine.textContent()).toContain('1 of 2 approvals, yours among them');
    await check('workflow-fired');

    // The same approver twice: the server's refusal shown.
    await mine.getByRole('button', { name: 'approve → approved' }).click();
    await expect.poll(() => mine.getByRole('alert').textContent()).toMatch(/already/i);

    // A transition that sets a field: its input first (the server's field error under it), then fired.
    await mine.getByRole('button', { name: 'cancel → cancelled…' }).click();
    const reason = mine.getByLabel(/^reason/);
    await expect.poll(() => reason.isVisible()).toBe(true);
    await reason.fill('x'.repeat(60));
    await mine.getByRole('button', { name: 'Fire “cancel”' }).click();
    await expect.poll(() => mine.locator('#field-reason-error').textContent()).toMatch(/50/);
    expect(await reason.getAttribute('aria-invalid')).toBe('true');
    await check('workflow-field-error');
    await reason.fill('duplicate of another ticket');
    await mine.getByRole('button', { name: 'Fire “cancel”' }).click();
    await expect.poll(() => mine.getByRole('status').textContent()).toContain('“cancel” fired.');
    const cancelled = await pb.collection('tickets').getOne(ticket.id);
    expect([cancelled['status'], cancelled['reason']]).toEqual(['cancelled', 'duplicate of another ticket']);
    await expect.poll(() => diagram.locator('.node.current text').textContent()).toBe('cancelled');

    // The dark theme, tablet-sized.
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    await page.setViewportSize({ width: 820, height: 1180 });
    await check('workflow-dark-tablet');
    await page.getByRole('link', { name: 'Jobs' }).click();
    await expect.poll(() => page.getByRole('link', { name: /completed in journey-report/ }).count()).toBe(1);
    await check('jobs-dark-tablet');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'New endpoint' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Create endpoint' }).count()).toBe(1);
    await check('webhooks-dark-tablet');
    await page.getByRole('button', { name: 'Switch to the light theme' }).click();
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
