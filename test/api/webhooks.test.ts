/**
 * Outbound webhooks (issue 11 §1): the `/api/webhooks` API and its hostile inputs, deliveries
 * signed as Standard Webhooks (checked with the `standardwebhooks` package, not Basalt's code),
 * the outbox (a rolled-back write sends nothing), retries with Retry-After, 4xx and redirects
 * failing at once, the delivery log and replay, secret rotation, automatic disabling. A receiver
 * on loopback is reached through `--webhook-allow`. Runs on the engine of BASALT_TEST_DB.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import PocketBase from 'pocketbase';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOKS_CONFIG } from '../../src/core/config.js';
import { BadRequestError } from '../../src/public-api.js';
import { addHooks, createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A webhook receiver on loopback: records every request and answers as `answer` says. */
class Receiver {
  readonly received: Received[] = [];
  answer: (r: Received, n: number) => { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } = () => ({ status: 200, body: 'ok' });
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(r);
        const a = this.answer(r, this.received.filter((x) => x.path === r.path).length);
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(a.status, a.headers ?? {});
          res.end(a.body ?? '');
        }, a.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function until(check: () => boolean | Promise<boolean>, ms = 8000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const receiver = new Receiver();
/** An allowed port nobody listens on: connections are refused. */
let deadPort = 0;
let t: TestApp;
let admin: string;
let pb: PocketBase;
let base: string;

const webhookHeaders = (h: IncomingHttpHeaders): Record<string, string> => ({
  'webhook-id': String(h['webhook-id']),
  'webhook-timestamp': String(h['webhook-timestamp']),
  'webhook-signature': String(h['webhook-signature']),
});

async function createEndpoint(body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await send(t, 'POST', '/api/webhooks', { auth: admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

beforeAll(async () => {
  await receiver.start();
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  t = await startTestApp({
    config: {
      webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${receiver.port}`, `127.0.0.1:${deadPort}`], retryScheduleMs: [100, 150, 200], timeoutMs: 1000, disableAfterMs: 86_400_000 },
      jobs: { pollIntervalMs: 200, shutdownGraceMs: 1000, completedRetentionMs: 60_000, failedRetentionMs: 60_000 },
    },
  });
  admin = (await createSuperuser(t)).token;
  await t.server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  pb = new PocketBase(base);
  pb.authStore.save(admin);
  await createCollection(t, {
    name: 'orders',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'status', type: 'text' },
      { name: 'internal', type: 'text', hidden: true },
    ],
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: '',
    deleteRule: '',
  });
  await createCollection(t, { name: 'notes', fields: [{ name: 'text', type: 'text' }], createRule: '' });
  await createCollection(t, { name: 'codes', fields: [{ name: 'code', type: 'text' }], indexes: ['CREATE UNIQUE INDEX idx_codes_code ON codes (code)'], createRule: '', updateRule: '' });
  await createCollection(t, { name: 'order_view', type: 'view', viewQuery: 'SELECT id, title FROM orders' });
  addHooks(t, (app) => {
    app.onRecordCreate(async (e) => {
      await e.next();
      if (e.record.getString('text') === 'roll back') throw new BadRequestError('refused after the insert');
    }, 'notes');
  });
});

afterAll(async () => {
  await t?.close();
  await receiver.stop();
});

describe('the endpoints API', () => {
  it('creates an endpoint with its secret shown once, never again', async () => {
    const created = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/crud`, collections: ['orders'], actions: ['create'], headers: { 'X-Tenant': 'acme', Authorization: 'Bearer s3cret' } });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created).toMatchObject({ collections: [t.app.registry.find('orders')!.id], actions: ['create'], enabled: true, headers: { 'X-Tenant': 'acme', Authorization: '******' } });
    const view = await send(t, 'GET', `/api/webhooks/${created.id}`, { auth: admin });
    expect(view.status).toBe(200);
    expect(JSON.stringify(view.body)).not.toContain('whsec_');
    expect(JSON.stringify(view.body)).not.toContain('s3cret');
    const list = await send(t, 'GET', '/api/webhooks?filter=' + encodeURIComponent(`id = "${created.id}"`), { auth: admin });
    expect(list.body).toMatchObject({ page: 1, totalItems: 1, items: [{ id: created.id }] });
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    // The mask sent back keeps the stored credential.
    const patched = await send(t, 'PATCH', `/api/webhooks/${created.id}`, { auth: admin, body: { headers: { 'X-Tenant': 'other', Authorization: '******' }, actions: ['create', 'update'] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ actions: ['create', 'update'], headers: { 'X-Tenant': 'other', Authorization: '******' } });
    await pb.collection('orders').create({ title: 'headers' });
    await until(() => receiver.on('/crud').length === 1, 8000, 'the delivery');
    expect(receiver.on('/crud')[0]!.headers).toMatchObject({ 'x-tenant': 'other', authorization: 'Bearer s3cret', 'content-type': 'application/json' });
    expect((await send(t, 'DELETE', `/api/webhooks/${created.id}`, { auth: admin })).status).toBe(204);
    expect((await send(t, 'GET', `/api/webhooks/${created.id}`, { auth: admin })).status).toBe(404);
  });

  it('is for superusers only', async () => {
    const user = await send(t, 'GET', '/api/webhooks');
    expect(user.status).toBe(401);
    await createCollection(t, { name: 'members', type: 'auth', fields: [] });
    const member = await t.app.records.writer.create(t.app.registry.find('members')!, { data: { email: 'm@example.com', password: 'password123', passwordConfirm: 'password123' } }, (await import('../../src/core/records/caller.js')).systemCaller());
    const token = await t.app.auth.issueToken(member);
    expect((await send(t, 'POST', '/api/webhooks', { auth: token, body: { url: 'https://example.com', collections: ['orders'] } })).status).toBe(403);
  });

  const ok = () => ({ url: `http://127.0.0.1:${receiver.port}/x`, collections: ['orders'] });
  const hostile: [string, () => unknown, string, string][] = [
    ['not an object', () => [1, 2], 'body', 'validation_invalid_body'],
    ['no url', () => ({ collections: ['orders'] }), 'url', 'validation_required'],
    ['a malformed url', () => ({ ...ok(), url: 'http//nope' }), 'url', 'validation_invalid_url'],
    ['another scheme', () => ({ ...ok(), url: 'ftp://example.com/x' }), 'url', 'validation_invalid_url'],
    ['javascript:', () => ({ ...ok(), url: 'javascript:alert(1)' }), 'url', 'validation_invalid_url'],
    ['credentials in the url', () => ({ ...ok(), url: 'https://user:pw@example.com/x' }), 'url', 'validation_invalid_url'],
    ['a very long url', () => ({ ...ok(), url: 'https://example.com/' + 'a'.repeat(3000) }), 'url', 'validation_invalid_url'],
    ['loopback, another port', () => ({ ...ok(), url: `http://127.0.0.1:${receiver.port + 1}/x` }), 'url', 'validation_url_not_allowed'],
    ['localhost', () => ({ ...ok(), url: 'http://localhost:6379/' }), 'url', 'validation_url_not_allowed'],
    ['a private address', () => ({ ...ok(), url: 'https://10.0.0.1/hook' }), 'url', 'validation_url_not_allowed'],
    ['the metadata address', () => ({ ...ok(), url: 'http://169.254.169.254/latest/meta-data' }), 'url', 'validation_url_not_allowed'],
    ['link-local over https', () => ({ ...ok(), url: 'https://169.254.169.254/' }), 'url', 'validation_url_not_allowed'],
    ['IPv6 loopback', () => ({ ...ok(), url: 'https://[::1]:8443/' }), 'url', 'validation_url_not_allowed'],
    ['IPv4-mapped loopback', () => ({ ...ok(), url: 'https://[::ffff:127.0.0.1]/' }), 'url', 'validation_url_not_allowed'],
    ['plain http to a public host', () => ({ ...ok(), url: 'http://93.184.216.34/hook' }), 'url', 'validation_url_not_allowed'],
    ['no collections', () => ({ ...ok(), collections: [] }), 'collections', 'validation_required'],
    ['collections not a list', () => ({ ...ok(), collections: 'orders' }), 'collections', 'validation_required'],
    ['an unknown collection', () => ({ ...ok(), collections: ['orders', 'nope'] }), 'collections', 'validation_missing_collection'],
    ['a view collection', () => ({ ...ok(), collections: ['order_view'] }), 'collections', 'validation_invalid_value'],
    ['* with others', () => ({ ...ok(), collections: ['*', 'orders'] }), 'collections', 'validation_invalid_value'],
    ['an unknown action', () => ({ ...ok(), actions: ['create', 'explode'] }), 'actions', 'validation_invalid_value'],
    ['no actions', () => ({ ...ok(), actions: [] }), 'actions', 'validation_invalid_value'],
    ['an unparsable filter', () => ({ ...ok(), filter: 'status = ' }), 'filter', 'validation_invalid_filter'],
    ['a filter on an unknown field', () => ({ ...ok(), filter: 'nope = 1' }), 'filter', 'validation_invalid_filter'],
    ['a filter that is not text', () => ({ ...ok(), filter: 42 }), 'filter', 'validation_invalid_filter'],
    ['a reserved header', () => ({ ...ok(), headers: { 'Webhook-Signature': 'v1,forged' } }), 'headers', 'validation_invalid_value'],
    ['a header with a line break', () => ({ ...ok(), headers: { 'X-A': 'a\r\nX-Injected: 1' } }), 'headers', 'validation_invalid_value'],
    ['a bad header name', () => ({ ...ok(), headers: { 'X A': '1' } }), 'headers', 'validation_invalid_value'],
    ['too many headers', () => ({ ...ok(), headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-${i}`, '1'])) }), 'headers', 'validation_invalid_value'],
    ['a header value that is not text', () => ({ ...ok(), headers: { 'X-A': 1 } }), 'headers', 'validation_invalid_value'],
    ['a mask with nothing stored', () => ({ ...ok(), headers: { Authorization: '******' } }), 'headers', 'validation_invalid_value'],
    ['enabled not a boolean', () => ({ ...ok(), enabled: 'yes' }), 'enabled', 'validation_invalid_value'],
    ['a chosen secret', () => ({ ...ok(), secret: 'whsec_mine' }), 'secret', 'validation_read_only'],
  ];

  it.each(hostile)('refuses %s with a 400 and writes nothing', async (_name, body, field, code) => {
    const before = (await send(t, 'GET', '/api/webhooks', { auth: admin })).body.totalItems;
    const res = await send(t, 'POST', '/api/webhooks', { auth: admin, body: body() });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Failed to create webhook.');
    expect(res.body.data[field]).toMatchObject({ code });
    expect((await send(t, 'GET', '/api/webhooks', { auth: admin })).body.totalItems).toBe(before);
  });

  it('refuses a bad update with nothing changed, and unknown ids with 404', async () => {
    const created = await createEndpoint(ok());
    const res = await send(t, 'PATCH', `/api/webhooks/${created.id}`, { auth: admin, body: { url: 'https://10.1.2.3/', actions: ['nope'] } });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.data).sort()).toEqual(['actions', 'url']);
    expect((await send(t, 'GET', `/api/webhooks/${created.id}`, { auth: admin })).body.url).toBe(ok().url);
    for (const path of ['/api/webhooks/nope', '/api/webhooks/..%2f..', '/api/webhooks/nope/deliveries', `/api/webhooks/${created.id}/deliveries/nope`]) {
      expect((await send(t, 'GET', path, { auth: admin })).status, path).toBe(404);
    }
    expect((await send(t, 'POST', `/api/webhooks/${created.id}/rotate-secret`, { auth: admin, body: { graceSeconds: -1 } })).status).toBe(400);
    expect((await send(t, 'POST', `/api/webhooks/${created.id}/rotate-secret`, { auth: admin, body: { graceSeconds: 'a day' } })).status).toBe(400);
    await send(t, 'DELETE', `/api/webhooks/${created.id}`, { auth: admin });
  });
});

describe('deliveries', () => {
  let endpoint: { id: string; secret: string };
  const path = '/orders';

  beforeAll(async () => {
    endpoint = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}${path}`, collections: ['orders'], actions: ['create', 'update', 'delete'] });
  });

  it('signs every event as Standard Webhooks, with the record as a superuser sees it without hidden fields', async () => {
    const order = await pb.collection('orders').create({ title: 'first', status: 'new', internal: 'hidden value' });
    await pb.collection('orders').update(order.id, { status: 'paid' });
    await pb.collection('orders').delete(order.id);
    await until(() => receiver.on(path).length >= 3, 8000, 'three deliveries');
    const wh = new Webhook(endpoint.secret);
    // Deliveries of one endpoint may arrive in any order (they run concurrently): their monotonic
    // message ids put them back in order, as a receiver would.
    const byId = (a: { headers: Record<string, unknown> }, b: { headers: Record<string, unknown> }) => (String(a.headers['webhook-id']) < String(b.headers['webhook-id']) ? -1 : 1);
    const received = [...receiver.on(path)].sort(byId);
    const events = received.map((r) => wh.verify(r.body, webhookHeaders(r.headers)) as any);
    expect(events.map((e) => e.type)).toEqual(['record.created', 'record.updated', 'record.deleted']);
    expect(events[0].data).toMatchObject({ collectionName: 'orders', record: { id: order.id, title: 'first', status: 'new' } });
    expect(events[0].data.record).not.toHaveProperty('internal');
    expect(events[0].data).not.toHaveProperty('previous');
    expect(events[1].data).toMatchObject({ record: { status: 'paid' }, previous: { status: 'new' } });
    expect(events[2].data.record).toMatchObject({ id: order.id, status: 'paid' });
    expect(new Date(events[0].timestamp).toISOString()).toBe(events[0].timestamp);
    // Monotonic message ids and timestamps: in id order, the event times never go back.
    const ids = received.map((r) => String(r.headers['webhook-id']));
    expect(new Set(ids).size).toBe(3);
    const times = events.map((e) => Date.parse(e.timestamp));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // A wrong secret does not verify.
    expect(() => new Webhook('whsec_' + Buffer.from('wrong secret, wrong!').toString('base64')).verify(receiver.on(path)[0]!.body, webhookHeaders(receiver.on(path)[0]!.headers))).toThrow();
  });

  it('logs each delivery with its attempts, filterable', async () => {
    await until(async () => (await send(t, 'GET', `/api/webhooks/${endpoint.id}/deliveries?filter=${encodeURIComponent('state = "succeeded"')}`, { auth: admin })).body.totalItems >= 3, 8000, 'the log');
    const log = await send(t, 'GET', `/api/webhooks/${endpoint.id}/deliveries?perPage=1&sort=-created`, { auth: admin });
    expect(log.body).toMatchObject({ page: 1, perPage: 1, totalItems: 3 });
    const d = log.body.items[0];
    expect(d).toMatchObject({ type: 'record.deleted', state: 'succeeded', attempts: 1, lastStatus: 200, payload: { type: 'record.deleted' } });
    expect(d.attemptLog).toEqual([expect.objectContaining({ attempt: 1, status: 200, responseBody: 'ok', error: '' })]);
    expect(d.attemptLog[0].responseHeaders).toHaveProperty('date');
    const one = await send(t, 'GET', `/api/webhooks/${endpoint.id}/deliveries/${d.id}`, { auth: admin });
    expect(one.body).toMatchObject({ id: d.id, state: 'succeeded' });
    const bad = await send(t, 'GET', `/api/webhooks/${endpoint.id}/deliveries?filter=${encodeURIComponent('payload = 1')}`, { auth: admin });
    expect(bad.status).toBe(400);
  });

  it('replays a delivery with the same message id', async () => {
    const log = await send(t, 'GET', `/api/webhooks/${endpoint.id}/deliveries?sort=created&perPage=1`, { auth: admin });
    const first = log.body.items[0];
    const before = receiver.on(path).length;
    const res = await send(t, 'POST', `/api/webhooks/${endpoint.id}/deliveries/${first.id}/replay`, { auth: admin });
    expect(res.status).toBe(200);
    await until(() => receiver.on(path).length === before + 1, 8000, 'the replay');
    expect(receiver.on(path).at(-1)!.headers['webhook-id']).toBe(first.id);
    await until(async () => (await send(t, 'GET', `/api/webhooks/${endpoint.id}/deliveries/${first.id}`, { auth: admin })).body.attempts === 2, 8000, 'the logged replay');
  });

  it('sends nothing for a write that rolled back', async () => {
    const notes = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/notes`, collections: ['notes'], actions: ['create'] });
    const refused = await send(t, 'POST', '/api/collections/notes/records', { body: { text: 'roll back' } });
    expect(refused.status).toBe(400);
    expect((await send(t, 'POST', '/api/collections/notes/records', { body: { text: 'kept' } })).status).toBe(200);
    await until(() => receiver.on('/notes').length === 1, 8000, 'the committed note');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.on('/notes').map((r) => JSON.parse(r.body).data.record.text)).toEqual(['kept']);
    await send(t, 'DELETE', `/api/webhooks/${notes.id}`, { auth: admin });
  });

  it('sends nothing for a create or update refused by a unique index (the delivery rides on the row statement on PostgreSQL)', async () => {
    const codes = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/codes`, collections: ['codes'], actions: ['create', 'update'] });
    const first = await send(t, 'POST', '/api/collections/codes/records', { body: { code: 'A' } });
    expect(first.status).toBe(200);
    const duplicate = await send(t, 'POST', '/api/collections/codes/records', { body: { code: 'A' } });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.data.code.code).toBe('validation_not_unique');
    const second = await send(t, 'POST', '/api/collections/codes/records', { body: { code: 'B' } });
    const clash = await send(t, 'PATCH', `/api/collections/codes/records/${second.body.id}`, { body: { code: 'A' } });
    expect(clash.status).toBe(400);
    expect(clash.body.data.code.code).toBe('validation_not_unique');
    expect((await send(t, 'PATCH', `/api/collections/codes/records/${second.body.id}`, { body: { code: 'C' } })).status).toBe(200);
    await until(() => receiver.on('/codes').length === 3, 8000, 'the committed writes');
    await new Promise((r) => setTimeout(r, 300));
    // Deliveries of one endpoint may run concurrently: compare them in any order.
    expect(receiver.on('/codes').map((r) => `${JSON.parse(r.body).type} ${JSON.parse(r.body).data.record.code}`).sort()).toEqual(['record.created A', 'record.created B', 'record.updated C']);
    await send(t, 'DELETE', `/api/webhooks/${codes.id}`, { auth: admin });
  });

  it('delivers only the records that match the filter', async () => {
    const paid = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/paid`, collections: ['orders'], actions: ['create', 'update'], filter: 'status = "paid"' });
    await pb.collection('orders').create({ title: 'unpaid', status: 'new' });
    const b = await pb.collection('orders').create({ title: 'paid at once', status: 'paid' });
    await until(() => receiver.on('/paid').length === 1, 8000, 'the matching record');
    expect(JSON.parse(receiver.on('/paid')[0]!.body).data.record.id).toBe(b.id);
    await send(t, 'DELETE', `/api/webhooks/${paid.id}`, { auth: admin });
  });
});

describe('workflows', () => {
  it('delivers a transition as an update carrying it, and a webhook effect as record.transitioned', async () => {
    const effect = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/effect`, collections: ['orders'], actions: ['delete'] });
    await createCollection(t, {
      name: 'tickets',
      fields: [{ name: 'state', type: 'select', values: ['open', 'closed'], maxSelect: 1 }],
      viewRule: '',
      createRule: '',
      workflow: { field: 'state', initial: 'open', transitions: [{ name: 'close', from: ['open'], to: 'closed', rule: '', effects: [{ webhook: effect.id }] }] },
    });
    const flow = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/flow`, collections: ['tickets'], actions: ['update'] });
    const ticket = await pb.collection('tickets').create({});
    const res = await send(t, 'POST', `/api/collections/tickets/records/${ticket.id}/transitions/close`, { body: { comment: 'done' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await until(() => receiver.on('/flow').length === 1 && receiver.on('/effect').length === 1, 8000, 'both deliveries');
    const update = new Webhook(flow.secret).verify(receiver.on('/flow')[0]!.body, webhookHeaders(receiver.on('/flow')[0]!.headers)) as any;
    expect(update).toMatchObject({ type: 'record.updated', data: { record: { state: 'closed' }, previous: { state: 'open' }, transition: { name: 'close', from: 'open', to: 'closed', comment: 'done' } } });
    const moved = new Webhook(effect.secret).verify(receiver.on('/effect')[0]!.body, webhookHeaders(receiver.on('/effect')[0]!.headers)) as any;
    expect(moved).toMatchObject({ type: 'record.transitioned', data: { collectionName: 'tickets', record: { id: ticket.id, state: 'closed' }, transition: { name: 'close' } } });
    for (const id of [effect.id, flow.id]) await send(t, 'DELETE', `/api/webhooks/${id}`, { auth: admin });
  });
});

describe('retries and failures', () => {
  beforeEach(() => {
    receiver.answer = () => ({ status: 200, body: 'ok' });
  });

  it('retries 5xx and 429 (after its Retry-After) until a 2xx', async () => {
    const e = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/flaky`, collections: ['orders'], actions: ['create'] });
    receiver.answer = (r, n) => (r.path !== '/flaky' ? { status: 200 } : n === 1 ? { status: 503, body: 'busy' } : n === 2 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200, body: 'fine' });
    await pb.collection('orders').create({ title: 'flaky' });
    await until(() => receiver.on('/flaky').length === 3, 10_000, 'three attempts');
    const [a, b, c] = receiver.on('/flaky');
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(950);
    // One message: the same id on every attempt, each attempt signed at its own time.
    expect(new Set([a, b, c].map((r) => r!.headers['webhook-id'])).size).toBe(1);
    await until(async () => (await send(t, 'GET', `/api/webhooks/${e.id}/deliveries`, { auth: admin })).body.items[0]?.state === 'succeeded', 8000, 'success');
    const d = (await send(t, 'GET', `/api/webhooks/${e.id}/deliveries`, { auth: admin })).body.items[0];
    expect(d.attemptLog.map((x: any) => x.status)).toEqual([503, 429, 200]);
    expect(d.attemptLog[0].responseBody).toBe('busy');
    const endpoint = (await send(t, 'GET', `/api/webhooks/${e.id}`, { auth: admin })).body;
    expect(endpoint).toMatchObject({ enabled: true, failingSince: '' });
    await send(t, 'DELETE', `/api/webhooks/${e.id}`, { auth: admin });
  });

  it('fails at once on another 4xx and on a redirect, and gives up after the schedule', async () => {
    const e = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/refuse`, collections: ['orders'], actions: ['create'] });
    receiver.answer = (r) => (r.path === '/refuse' ? { status: 410, body: 'gone' } : r.path === '/moved' ? { status: 302, headers: { location: 'http://169.254.169.254/' } } : r.path === '/down' ? { status: 500 } : { status: 200 });
    const moved = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/moved`, collections: ['orders'], actions: ['create'] });
    const down = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/down`, collections: ['orders'], actions: ['create'] });
    await pb.collection('orders').create({ title: 'refused' });
    const stateOf = async (id: string) => (await send(t, 'GET', `/api/webhooks/${id}/deliveries`, { auth: admin })).body.items[0];
    await until(async () => (await stateOf(e.id))?.state === 'failed' && (await stateOf(moved.id))?.state === 'failed', 8000, 'the failures');
    expect(receiver.on('/refuse')).toHaveLength(1);
    expect(receiver.on('/moved')).toHaveLength(1);
    expect((await stateOf(moved.id)).lastError).toMatch(/redirect/);
    // 500s: the first attempt and one per wait of the schedule (three here), then failed.
    await until(async () => (await stateOf(down.id))?.state === 'failed', 10_000, 'the schedule used up');
    expect(receiver.on('/down')).toHaveLength(4);
    expect((await send(t, 'GET', `/api/webhooks/${down.id}`, { auth: admin })).body.failingSince).not.toBe('');
    for (const id of [e.id, moved.id, down.id]) await send(t, 'DELETE', `/api/webhooks/${id}`, { auth: admin });
  });

  it('retries refused connections and timeouts, and keeps only the first 4 KiB of an answer', async () => {
    const dead = await createEndpoint({ url: `http://127.0.0.1:${deadPort}/nobody`, collections: ['orders'], actions: ['create'] });
    const slow = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/slow`, collections: ['orders'], actions: ['create'] });
    const big = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/big`, collections: ['orders'], actions: ['create'] });
    // '/slow' answers its first attempt after the attempt's deadline (1 s here), the next at once.
    receiver.answer = (r, n) => (r.path === '/big' ? { status: 200, body: 'x'.repeat(10_000) } : r.path === '/slow' && n === 1 ? { status: 200, body: 'late', delayMs: 1500 } : { status: 200 });
    await pb.collection('orders').create({ title: 'edge cases' });
    const first = async (id: string) => (await send(t, 'GET', `/api/webhooks/${id}/deliveries`, { auth: admin })).body.items[0];
    await until(async () => (await first(big.id))?.state === 'succeeded', 8000, 'the big answer');
    expect((await first(big.id)).attemptLog[0].responseBody).toHaveLength(4096);
    await until(async () => (await first(dead.id))?.attempts >= 2, 8000, 'a retried refused connection');
    expect((await first(dead.id)).attemptLog[0]).toMatchObject({ status: 0, error: expect.stringMatching(/ECONNREFUSED|connect/i) });
    await send(t, 'DELETE', `/api/webhooks/${dead.id}`, { auth: admin });
    await until(async () => (await first(slow.id))?.state === 'succeeded', 8000, 'the slow endpoint, second attempt');
    expect((await first(slow.id)).attemptLog.map((a: any) => [a.status, a.error])).toEqual([
      [0, 'timed out'],
      [200, ''],
    ]);
    await send(t, 'DELETE', `/api/webhooks/${slow.id}`, { auth: admin });
    await send(t, 'DELETE', `/api/webhooks/${big.id}`, { auth: admin });
  });

  it('signs with the old and the new secret during a rotation', async () => {
    const e = await createEndpoint({ url: `http://127.0.0.1:${receiver.port}/rotate`, collections: ['orders'], actions: ['create'] });
    const rotated = await send(t, 'POST', `/api/webhooks/${e.id}/rotate-secret`, { auth: admin, body: { graceSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(e.secret);
    expect(rotated.body.secretRotating).toBe(true);
    await pb.collection('orders').create({ title: 'rotating' });
    await until(() => receiver.on('/rotate').length === 1, 8000, 'the delivery');
    const r = receiver.on('/rotate')[0]!;
    expect(() => new Webhook(e.secret).verify(r.body, webhookHeaders(r.headers))).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(r.body, webhookHeaders(r.headers))).not.toThrow();
    // Without a grace period the old secret stops signing at once.
    const now = await send(t, 'POST', `/api/webhooks/${e.id}/rotate-secret`, { auth: admin, body: { graceSeconds: 0 } });
    await pb.collection('orders').create({ title: 'rotated' });
    await until(() => receiver.on('/rotate').length === 2, 8000, 'the second delivery');
    const r2 = receiver.on('/rotate')[1]!;
    expect(() => new Webhook(now.body.secret).verify(r2.body, webhookHeaders(r2.headers))).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(r2.body, webhookHeaders(r2.headers))).toThrow();
    await send(t, 'DELETE', `/api/webhooks/${e.id}`, { auth: admin });
  });

  it('disables an endpoint that keeps failing, and tells the superuser', async () => {
    const app2 = await startTestApp({
      config: {
        webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${receiver.port}`], retryScheduleMs: [100, 100, 100, 100, 100], timeoutMs: 2000, disableAfterMs: 250 },
        jobs: { pollIntervalMs: 200, shutdownGraceMs: 1000, completedRetentionMs: 60_000, failedRetentionMs: 60_000 },
      },
    });
    try {
      const su = (await createSuperuser(app2)).token;
      await createCollection(app2, { name: 'things', fields: [{ name: 'n', type: 'number' }] });
      receiver.answer = (r) => (r.path === '/broken' ? { status: 500 } : { status: 200 });
      const e = (await send(app2, 'POST', '/api/webhooks', { auth: su, body: { url: `http://127.0.0.1:${receiver.port}/broken`, collections: ['things'] } })).body;
      await app2.app.records.writer.create(app2.app.registry.find('things')!, { data: { n: 1 } }, (await import('../../src/core/records/caller.js')).systemCaller());
      await until(async () => (await send(app2, 'GET', `/api/webhooks/${e.id}`, { auth: su })).body.enabled === false, 10_000, 'the endpoint disabled');
      const view = (await send(app2, 'GET', `/api/webhooks/${e.id}`, { auth: su })).body;
      expect(view.disabledReason).toMatch(/disabled automatically/);
      // Deliveries of a disabled endpoint are skipped; replay needs it enabled again.
      const d = (await send(app2, 'GET', `/api/webhooks/${e.id}/deliveries`, { auth: su })).body.items[0];
      expect((await send(app2, 'POST', `/api/webhooks/${e.id}/deliveries/${d.id}/replay`, { auth: su })).status).toBe(400);
      const enabled = await send(app2, 'PATCH', `/api/webhooks/${e.id}`, { auth: su, body: { enabled: true } });
      expect(enabled.body).toMatchObject({ enabled: true, failingSince: '', disabledReason: '' });
    } finally {
      await app2.close();
    }
  });
});
