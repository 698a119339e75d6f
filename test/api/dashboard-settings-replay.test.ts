/**
 * PocketBase's dashboard settings screens, replayed against Basalt through the SDK over a socket:
 * each screen's load (what it GETs), the exact body its save sends (built as the screen builds it
 * from what it loaded: the sections it owns, `filterRedactedProps`, nulls from cleared number
 * inputs), then a reload that must show what was saved. Source: pocketbase/ui/src/settings/*,
 * ui/src/logs/*, ui/src/base/s3ConfigFields.js and s3Test.js.
 */
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuperuser } from '../harness/fixtures.js';
import { startSmtpSink, type SmtpSink } from '../harness/smtp-sink.js';
import { startTestS3, type TestS3 } from '../harness/s3-server.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let pb: PocketBase;
let sink: SmtpSink;
let s3: TestS3;

const EMAIL = 'admin@example.com';
const PASSWORD = 'password123';

beforeAll(async () => {
  t = await startTestApp();
  await createSuperuser(t, EMAIL, PASSWORD);
  sink = await startSmtpSink();
  s3 = await startTestS3('dashboard-replay');
  pb = new PocketBase(await listenOnLoopback(t));
  pb.autoCancellation(false);
  await pb.collection('_superusers').authWithPassword(EMAIL, PASSWORD);
});

afterAll(async () => {
  await t?.close();
  await sink?.close();
  await s3?.close();
});

type Json = Record<string, any>;

/** ui/src/utils.js filterRedactedProps: drops every value equal to the "******" mask, deeply. */
function filterRedactedProps(obj: unknown, mask = '******'): Json {
  const result = JSON.parse(JSON.stringify(obj || {}));
  for (const prop in result) {
    if (typeof result[prop] === 'object' && result[prop] !== null) result[prop] = filterRedactedProps(result[prop], mask);
    else if (result[prop] === mask) delete result[prop];
  }
  return result;
}

/** What the browser sends: JSON.stringify turns NaN (a cleared number input) into null. */
const asSent = (body: Json): Json => JSON.parse(JSON.stringify(body));

/** The S3 fields of s3ConfigFields.js, filled in by the superuser (the secret typed in). */
function typedS3(section: Json): Json {
  return { ...section, enabled: true, endpoint: s3.options.endpoint, bucket: s3.options.bucket, region: s3.options.region, accessKey: s3.options.accessKey, secret: s3.options.secret, forcePathStyle: true };
}

describe('Settings › Application (pageApplicationSettings.js)', () => {
  it('saves meta, batch, trusted proxy, rate limits and superuser IPs as the screen sends them', async () => {
    const settings: Json = await pb.settings.getAll();
    // trustedProxyAccordion.js loads the proxy hints from the health check.
    const health = await pb.health.check({ requestKey: 'loadProxyInfo' });
    expect(health.data).toMatchObject({ realIP: '127.0.0.1', possibleProxyHeader: '' });
    // init(): the sections the screen owns, as loaded.
    const form: Json = JSON.parse(
      JSON.stringify({
        superuserIPs: settings.superuserIPs || [],
        meta: settings.meta || {},
        batch: settings.batch || {},
        trustedProxy: settings.trustedProxy || { headers: [] },
        rateLimits: settings.rateLimits || { excludedIPs: [], rules: [] },
      }),
    );
    form.meta.appName = 'Replayed';
    form.meta.appURL = 'https://replayed.example.com';
    form.meta.hideControls = true;
    form.meta.accentColor = '#ff8800';
    form.batch.enabled = true;
    form.batch.maxRequests = Number('100') << 0; // `e.target.value << 0`
    form.batch.timeout = parseInt('5', 10);
    form.batch.maxBodySize = parseInt('', 10); // cleared: NaN, sent as null
    form.trustedProxy.headers = 'X-Forwarded-For, '.split(',').map((h) => h.trim()).filter(Boolean); // splitNonEmpty
    form.trustedProxy.useLeftmostIP = false;
    form.rateLimits.enabled = true;
    // "+ Add rate limit rule", then the label typed in.
    form.rateLimits.rules.push({ label: '', maxRequests: 200, duration: 3, audience: '' });
    form.rateLimits.rules[form.rateLimits.rules.length - 1].label = '/api/health';
    form.rateLimits.excludedIPs = ['10.0.0.0/8'];
    form.superuserIPs = ['127.0.0.1'];

    const body = asSent(filterRedactedProps(form));
    expect(body.batch.maxBodySize).toBeNull();
    const saved: Json = await pb.settings.update(body);
    // Changed superuser IPs: the screen re-authenticates to check it still has access.
    await pb.collection('_superusers').authRefresh();

    const reloaded: Json = await pb.settings.getAll();
    for (const s of [saved, reloaded]) {
      expect(s.meta).toEqual(form.meta);
      // null left maxBodySize as it was (PocketBase's Go decoding does the same).
      expect(s.batch).toEqual({ enabled: true, maxRequests: 100, timeout: 5, maxBodySize: settings.batch.maxBodySize });
      expect(s.trustedProxy).toEqual({ headers: ['X-Forwarded-For'], useLeftmostIP: false });
      expect(s.rateLimits).toEqual({ enabled: true, rules: body.rateLimits.rules, excludedIPs: ['10.0.0.0/8'] });
      expect(s.superuserIPs).toEqual(['127.0.0.1']);
    }

    // Put back what other screens' requests depend on (no limiter, no allowlist, no proxy header).
    await pb.settings.update({ superuserIPs: [], rateLimits: { enabled: false }, trustedProxy: { headers: [] } });
  });
});

describe('Settings › Mail settings (pageMailSettings.js, mailTestModal.js)', () => {
  it('saves sender and SMTP, keeps the unsent password, and sends a test email', async () => {
    sink.requireAuth('mailer', 'smtp-pass');
    let settings: Json = await pb.settings.getAll();
    let form: Json = JSON.parse(JSON.stringify({ meta: settings.meta || {}, smtp: settings.smtp || {} }));
    if (!form.smtp.authMethod) form.smtp.authMethod = 'PLAIN';
    form.meta.senderName = 'Replay Support';
    form.meta.senderAddress = 'support@replayed.example.com';
    form.smtp.enabled = true;
    form.smtp.host = '127.0.0.1';
    form.smtp.port = parseInt(String(sink.port), 10);
    form.smtp.username = 'mailer';
    form.smtp.password = 'smtp-pass'; // typed in
    form.smtp.tls = false;
    form.smtp.localName = '';

    const body = asSent(filterRedactedProps(form));
    const saved: Json = await pb.settings.update(body);
    const reloaded: Json = await pb.settings.getAll();
    const { password: _password, ...shownSmtp } = body.smtp;
    for (const s of [saved, reloaded]) {
      expect(s.meta).toEqual(body.meta);
      expect(s.smtp).toEqual(shownSmtp);
      expect(s.smtp).not.toHaveProperty('password');
    }

    // A second save from the reloaded form: the password field was never typed in, so it is not sent.
    settings = reloaded;
    form = JSON.parse(JSON.stringify({ meta: settings.meta, smtp: settings.smtp }));
    form.meta.senderName = 'Replay Team';
    const second = asSent(filterRedactedProps(form));
    expect(second.smtp).not.toHaveProperty('password');
    await pb.settings.update(second);

    // "Send test email": the first auth collection preselected, the superuser's address.
    const collections = await pb.collections.getFullList({ filter: "type='auth'" });
    expect(await pb.settings.testEmail(collections[0].id, 'ops@replayed.example.com', 'verification')).toBe(true);
    const mail = await sink.waitFor((m) => m.to.includes('ops@replayed.example.com'));
    expect(mail.from).toContain('support@replayed.example.com');
    for (const template of ['password-reset', 'email-change', 'otp', 'login-alert']) {
      expect(await pb.settings.testEmail('_superusers', 'ops@replayed.example.com', template)).toBe(true);
    }
  });
});

describe('Settings › File storage (pageStorageSettings.js, s3ConfigFields.js, s3Test.js)', () => {
  it('turns S3 on with the typed secret, tests it, and turns it off again', async () => {
    const settings: Json = await pb.settings.getAll();
    const form: Json = { s3: JSON.parse(JSON.stringify(settings.s3 || {})) };
    form.s3 = typedS3(form.s3);

    const body = asSent(filterRedactedProps(form));
    const saved: Json = await pb.settings.update(body);
    const reloaded: Json = await pb.settings.getAll();
    const { secret: _secret, ...shown } = body.s3;
    for (const s of [saved, reloaded]) expect(s.s3).toEqual(shown);

    // The green "S3 connected successfully" label: s3Test posts {filesystem: "storage"}.
    expect(await pb.settings.testS3('storage')).toBe(true);

    // Off again (the secret not re-sent): saved, and the test says it is not enabled.
    const off = asSent(filterRedactedProps({ s3: { ...reloaded.s3, enabled: false } }));
    expect((await pb.settings.update(off)).s3.enabled).toBe(false);
    await expect(pb.settings.testS3('storage')).rejects.toMatchObject({ status: 400 });
    // On again without retyping the secret: the stored one is kept.
    expect((await pb.settings.update({ s3: { ...reloaded.s3, enabled: true } })).s3.enabled).toBe(true);
    expect(await pb.settings.testS3('storage')).toBe(true);
    await pb.settings.update({ s3: { enabled: false } });
  });
});

describe('Settings › Backups (backupsForm.js, backupsList.js, backupCreateModal.js)', () => {
  it('saves the backups section (cron, cronMaxKeep, S3) and tests its bucket', async () => {
    const settings: Json = await pb.settings.getAll();
    expect(settings).toHaveProperty('backups');
    const form: Json = { backups: JSON.parse(JSON.stringify(settings.backups || {})) };
    form.backups.cron = '0 0 * * *'; // the first preset
    form.backups.cronMaxKeep = parseInt('3', 10);
    form.backups.s3 = typedS3(form.backups.s3 || {});
    const body = asSent(filterRedactedProps(form));
    const saved: Json = await pb.settings.update(body);
    const reloaded: Json = await pb.settings.getAll();
    const { secret: _secret, ...shownS3 } = body.backups.s3;
    for (const s of [saved, reloaded]) expect(s.backups).toEqual({ ...body.backups, s3: shownS3 });
    expect(await pb.settings.testS3('backups')).toBe(true);
    // Auto backups off again: the screen clears the cron expression.
    await pb.settings.update({ backups: { cron: '', s3: { enabled: false } } });
  });

  it('lists, creates, downloads and deletes a backup', async () => {
    const before = await pb.backups.getFullList();
    expect(await pb.backups.create('replay.zip')).toBe(true);
    const list = await pb.backups.getFullList();
    expect(list.length).toBe(before.length + 1);
    const token = await pb.files.getToken();
    const download = await fetch(pb.backups.getDownloadURL(token, 'replay.zip'));
    expect(download.status).toBe(200);
    expect(await pb.backups.delete('replay.zip')).toBe(true);
  });
});

describe('Logs (pageLogs.js, logsList.js, logsChart.js, logPreviewModal.js, logsSettingsModal.js)', () => {
  it('saves the logs settings as the modal sends them', async () => {
    const settings: Json = await pb.settings.getAll({ requestKey: 'logsSettings' });
    const form: Json = { logs: JSON.parse(JSON.stringify(settings.logs || {})) };
    form.logs.maxDays = Number('7') << 0;
    form.logs.minLevel = Number('-4') << 0;
    form.logs.logIP = false;
    form.logs.logAuthId = true;
    const body = asSent(filterRedactedProps(form));
    const saved: Json = await pb.settings.update(body);
    const reloaded: Json = await pb.settings.getAll();
    for (const s of [saved, reloaded]) expect(s.logs).toEqual(body.logs);
  });

  it('loads the list, the chart, a search and a zoom, and one entry', async () => {
    await pb.health.check();
    await t.app.logs.writer?.flush();
    // logsList.js passes `skipTotal: 1` (sent as `skipTotal=1`); the SDK's type says boolean.
    const SKIP_TOTAL = 1 as unknown as boolean;
    const withoutSuperusers = "data.auth!='_superusers'";
    const join = (filters: string[]) => filters.filter(Boolean).map((f) => '(' + f + ')').join('&&');
    const loadStart = new Date(Date.now() + 1000).toISOString().replace('T', ' ');

    const page = await pb.logs.getList(1, 50, { skipTotal: SKIP_TOTAL, sort: '-@rowid', requestKey: 'logs_list', filter: join([withoutSuperusers, `created <= "${loadStart}"`]) });
    expect(page.page).toBe(1);
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((l) => l.data?.auth !== '_superusers')).toBe(true);

    const stats = await pb.logs.getStats({ filter: join([withoutSuperusers]) });
    expect(Array.isArray(stats)).toBe(true);
    expect(stats[0]).toMatchObject({ total: expect.any(Number), date: expect.any(String) });

    // normalizeSearchFilter: a plain term becomes `f?~{:searchTerm}` over level, message, data.
    const search = ['level', 'message', 'data'].map((f) => pb.filter(`${f}?~{:searchTerm}`, { searchTerm: 'health' })).join('||');
    const found = await pb.logs.getList(1, 50, { skipTotal: SKIP_TOTAL, sort: '-@rowid', filter: join([search, `created <= "${loadStart}"`]) });
    expect(found.items.length).toBeGreaterThan(0);
    await pb.logs.getStats({ filter: join([search]) });

    // A zoomed chart: the minute range of the selection.
    const min = new Date(Date.now() - 3600_000);
    min.setSeconds(0, 0);
    const max = new Date(Date.now() + 60_000);
    max.setSeconds(59, 999);
    const zoom = `created >= "${min.toISOString().replace('T', ' ')}" && created <= "${max.toISOString().replace('T', ' ')}"`;
    const zoomed = await pb.logs.getList(1, 50, { skipTotal: SKIP_TOTAL, sort: '-@rowid', filter: join([withoutSuperusers, zoom]) });
    expect(zoomed.items.length).toBeGreaterThan(0);

    const one = await pb.logs.getOne(page.items[0].id);
    expect(one.id).toBe(page.items[0].id);
  });
});

describe('Settings › Crons (cronsList.js)', () => {
  it('lists the jobs and runs one', async () => {
    const crons = await pb.crons.getFullList();
    expect(crons.length).toBeGreaterThan(0);
    expect(crons[0]).toEqual({ id: expect.any(String), expression: expect.any(String) });
    expect(await pb.crons.run('__pbLogsCleanup__')).toBe(true);
  });
});

describe('Settings › SQL console (pageSQLConsole.js)', () => {
  it('runs a query and gets columns and rows', async () => {
    const result: Json = await pb.sql.run('SELECT 1 AS one', { requestKey: 'sql_run' });
    expect(result).toMatchObject({ execTime: expect.any(Number), affectedRows: expect.any(Number), columns: [{ name: 'one' }], rows: [[expect.anything()]] });
  });
});
