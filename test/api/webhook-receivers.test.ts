/**
 * Inbound webhook receivers (issue 11 §2): deliveries signed with the providers' own code
 * (`stripe`, `standardwebhooks`, `@octokit/webhooks-methods`), verified on the raw bytes, processed
 * once per event id in one transaction with the handler's writes. Runs on the engine of
 * BASALT_TEST_DB.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBasalt } from '../../src/cli/create-basalt.js';
import { defaultConfig } from '../../src/core/config.js';
import { badRequest } from '../../src/core/errors.js';
import { HookBindings } from '../../src/core/hooks/hook-bindings.js';
import type { HooksApi } from '../../src/core/hooks/hooks-api.js';
import { WEBHOOK_EVENTS_TABLE } from '../../src/core/internal-tables.js';
import type { WebhookEvent } from '../../src/core/webhooks/webhook-event.js';
import { ENGINE } from '../harness/engines.js';
import { addHooks, createCollection, createSuperuser } from '../harness/fixtures.js';
import { ManualClock } from '../harness/manual-clock.js';
import { send } from '../harness/scenario.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let admin = '';
const clock = new ManualClock(Date.now());

const stripe = new Stripe('sk_test_x');
const STRIPE_SECRET = 'whsec_test_stripe_endpoint_secret';
const STANDARD_OLD = 'whsec_' + randomBytes(24).toString('base64');
const STANDARD_NEW = 'whsec_' + randomBytes(24).toString('base64');
const GITHUB_SECRET = 'It’s a Secret to Everybody';
const SHOP_SECRET = 'shop-secret';

/** Switches the Stripe handler's behaviour per test. */
const stripeMode: { fail: boolean; gate: Promise<void> | null; started: number } = { fail: false, gate: null, started: 0 };

interface Delivery {
  payload: string | Buffer;
  headers: Record<string, string>;
}

const nowSeconds = () => Math.floor(clock.now() / 1000);

function stripeDelivery(event: Record<string, unknown>, options: { secret?: string; timestamp?: number } = {}): Delivery {
  const payload = JSON.stringify(event, null, 2); // Stripe pretty-prints its events
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? STRIPE_SECRET, timestamp: options.timestamp ?? nowSeconds() });
  return { payload, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header } };
}

const stripeEvent = (id: string, object: Record<string, unknown> = {}) => ({ id, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: `pi_${id}`, amount: 1200, ...object } } });

function standardDelivery(msgId: string, body: Record<string, unknown>, options: { secret?: string; at?: number } = {}): Delivery {
  const payload = JSON.stringify(body);
  const at = options.at ?? clock.now();
  const signature = new Webhook(options.secret ?? STANDARD_NEW).sign(msgId, new Date(at), payload);
  return { payload, headers: { 'content-type': 'application/json', 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(at / 1000)), 'webhook-signature': signature } };
}

async function githubDelivery(delivery: string, body: Record<string, unknown>, secret = GITHUB_SECRET): Promise<Delivery> {
  const payload = JSON.stringify(body);
  return { payload, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': await githubSign(secret, payload) } };
}

function shopDelivery(payload: string | Buffer, headers: Record<string, string> = {}, secret = SHOP_SECRET): Delivery {
  return { payload, headers: { 'content-type': 'text/plain', 'x-shop-signature': createHmac('sha256', secret).update(payload).digest('base64'), ...headers } };
}

async function post(url: string, d: Delivery): Promise<{ status: number; body: any }> {
  const res = await t.server.inject({ method: 'POST', url, payload: d.payload, headers: d.headers });
  let body: any = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    // not JSON
  }
  return { status: res.statusCode, body };
}

/** Asserts a refusal in the standard error shape. */
function refused(res: { status: number; body: any }, status: number, code?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  expect(res.body.status).toBe(status);
  if (code) expect(res.body.data.signature?.code ?? res.body.data.eventId?.code).toBe(code);
}

const payments = async (filter = '') => (await t.app.hookApp().records('payments').getList(1, 100, filter ? { filter } : {})).items;
const paymentsFor = async (ref: string) => (await payments(`ref = '${ref}'`)).length;
const eventRows = async (receiver?: string) => {
  let q = t.app.db.kysely.selectFrom(WEBHOOK_EVENTS_TABLE).selectAll();
  if (receiver) q = q.where('receiver', '=', receiver);
  return q.execute();
};

function latch() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const record = (source: string) => async (e: WebhookEvent) => {
  await e.app.records('payments').create({ ref: e.event.id, source, kind: e.event.type, note: typeof e.body === 'string' ? e.body : '' });
};

beforeAll(async () => {
  t = await startTestApp({ deps: { clock } });
  admin = (await createSuperuser(t)).token;
  await createCollection(t, { name: 'payments', fields: [{ name: 'ref', type: 'text' }, { name: 'source', type: 'text' }, { name: 'kind', type: 'text' }, { name: 'note', type: 'text' }] });
  addHooks(t, (app) => {
    app.jobs.define('github-push', async () => {});
    app.webhooks.receive('stripe', { verify: 'stripe', secret: STRIPE_SECRET }, async (e) => {
      const object = (e.body as { data: { object: Record<string, unknown> } }).data.object;
      await record('stripe')(e);
      if (object.hold) {
        stripeMode.started++;
        await stripeMode.gate;
      }
      if (object.refuse) throw badRequest('Unknown customer.');
      if (stripeMode.fail) throw new Error('the handler failed');
    });
    app.webhooks.receive('standard', { verify: 'standard', secret: [STANDARD_OLD, STANDARD_NEW] }, record('standard'));
    app.webhooks.receive('github', { verify: 'github', secret: GITHUB_SECRET }, async (e) => {
      await record('github')(e);
      await e.app.jobs.enqueue('github-push', { delivery: e.event.id, ref: (e.body as { ref: string }).ref });
    });
    app.webhooks.receive('/integrations/shop', { verify: { type: 'hmac', header: 'X-Shop-Signature', algorithm: 'sha256', encoding: 'base64' }, secret: SHOP_SECRET, idHeader: 'x-shop-event' }, async (e) => {
      await record('shop')(e);
      e.json(202, { accepted: e.event.id, bytes: e.rawBody.length });
    });
    app.webhooks.receive('plain/orders', { verify: { type: 'hmac', header: 'x-signature', algorithm: 'sha512', encoding: 'hex', prefix: 'sha512=' }, secret: 'plain', retention: 3600 }, async (e) => {
      await record('plain')(e);
      return { id: e.event.id };
    });
    app.webhooks.receive('small', { verify: 'github', secret: GITHUB_SECRET, bodyLimit: 1000 }, record('small'));
  });
});

afterAll(async () => {
  await t?.close();
});

describe('Stripe', () => {
  it('processes an event once: the handler’s record and the event row commit together; a redelivery is acknowledged and skipped', async () => {
    const first = await post('/api/hooks/stripe', stripeDelivery(stripeEvent('evt_1')));
    expect(first).toEqual({ status: 200, body: { received: true } });
    expect(await paymentsFor('evt_1')).toBe(1);
    const [row] = await eventRows('/api/hooks/stripe');
    expect(row).toMatchObject({ receiver: '/api/hooks/stripe', eventId: 'evt_1', type: 'payment_intent.succeeded' });
    expect(row.payloadHash).toMatch(/^[0-9a-f]{64}$/);

    // Stripe signs each retry anew: same event, new header.
    clock.set(clock.now() + 60_000);
    const again = await post('/api/hooks/stripe', stripeDelivery(stripeEvent('evt_1')));
    expect(again).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(await paymentsFor('evt_1')).toBe(1);
  });

  it('concurrent deliveries of one event: the unique index lets one through', async () => {
    const gate = latch();
    stripeMode.gate = gate.opened;
    stripeMode.started = 0;
    try {
      const d = stripeDelivery(stripeEvent('evt_concurrent', { hold: true }));
      const all = Promise.all(Array.from({ length: 5 }, () => post('/api/hooks/stripe', d)));
      await until(() => stripeMode.started > 0);
      // Let the other deliveries reach the event row's insert (or the write lock) before the first commits.
      await new Promise((r) => setTimeout(r, 50));
      gate.open();
      const answers = await all;
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(answers.filter((a) => a.body.duplicate !== true)).toHaveLength(1);
      expect(stripeMode.started).toBe(1);
      expect(await paymentsFor('evt_concurrent')).toBe(1);
    } finally {
      stripeMode.gate = null;
    }
  });

  it('a handler that throws answers 500 and rolls back its writes and the event row; the retry is processed', async () => {
    stripeMode.fail = true;
    try {
      refused(await post('/api/hooks/stripe', stripeDelivery(stripeEvent('evt_fail'))), 500);
    } finally {
      stripeMode.fail = false;
    }
    expect(await paymentsFor('evt_fail')).toBe(0);
    expect((await eventRows()).some((r) => r.eventId === 'evt_fail')).toBe(false);
    expect(await post('/api/hooks/stripe', stripeDelivery(stripeEvent('evt_fail')))).toEqual({ status: 200, body: { received: true } });
    expect(await paymentsFor('evt_fail')).toBe(1);
  });

  it('an ApiError thrown by the handler keeps its status, and rolls back too', async () => {
    const res = await post('/api/hooks/stripe', stripeDelivery(stripeEvent('evt_refused', { refuse: true })));
    refused(res, 400);
    expect(res.body.message).toBe('Unknown customer.');
    expect(await paymentsFor('evt_refused')).toBe(0);
    expect((await eventRows()).some((r) => r.eventId === 'evt_refused')).toBe(false);
  });

  const bad: [string, () => Delivery, number, string?][] = [
    ['a wrong signature', () => ({ ...stripeDelivery(stripeEvent('evt_bad')), headers: { 'content-type': 'application/json', 'stripe-signature': `t=${nowSeconds()},v1=${'ab'.repeat(32)}` } }), 401, 'validation_signature_mismatch'],
    ['no Stripe-Signature header', () => ({ payload: JSON.stringify(stripeEvent('evt_bad')), headers: { 'content-type': 'application/json' } }), 401, 'validation_missing_signature'],
    ['a malformed Stripe-Signature header', () => ({ ...stripeDelivery(stripeEvent('evt_bad')), headers: { 'content-type': 'application/json', 'stripe-signature': 't=soon,v1=zz' } }), 401, 'validation_invalid_signature'],
    ['a stale timestamp (10 minutes old)', () => stripeDelivery(stripeEvent('evt_bad'), { timestamp: nowSeconds() - 600 }), 401, 'validation_stale_timestamp'],
    ['a timestamp 10 minutes ahead', () => stripeDelivery(stripeEvent('evt_bad'), { timestamp: nowSeconds() + 600 }), 401, 'validation_stale_timestamp'],
    ['the body altered by one byte', () => {
      const d = stripeDelivery(stripeEvent('evt_bad', { amount: 1200 }));
      return { ...d, payload: String(d.payload).replace('1200', '9200') };
    }, 401, 'validation_signature_mismatch'],
    ['a whitespace added to the signed body', () => {
      const d = stripeDelivery(stripeEvent('evt_bad'));
      return { ...d, payload: String(d.payload) + '\n' };
    }, 401, 'validation_signature_mismatch'],
    ['the wrong secret', () => stripeDelivery(stripeEvent('evt_bad'), { secret: 'whsec_another_endpoint' }), 401, 'validation_signature_mismatch'],
    ['a signed body that is not JSON', () => {
      const payload = '{"id": "evt_bad", ';
      return { payload, headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET, timestamp: nowSeconds() }) } };
    }, 400],
    ['a signed event without an id', () => stripeDelivery({ object: 'event', type: 'charge.refunded' }), 400, 'validation_required'],
  ];
  it.each(bad)('%s → %i, nothing written', async (_name, delivery, status, code) => {
    const before = (await payments()).length;
    const rows = (await eventRows()).length;
    refused(await post('/api/hooks/stripe', delivery()), status, code);
    expect((await payments()).length).toBe(before);
    expect((await eventRows()).length).toBe(rows);
  });

  it('a body over the receiver’s limit (1 MiB by default) → 413, nothing written', async () => {
    const big = stripeDelivery(stripeEvent('evt_big', { blob: 'x'.repeat(1 << 20) }));
    refused(await post('/api/hooks/stripe', big), 413);
    expect(await paymentsFor('evt_big')).toBe(0);
  });

  it('answers POST only', async () => {
    expect((await send(t, 'GET', '/api/hooks/stripe')).status).toBe(404);
  });
});

describe('Standard Webhooks', () => {
  it('either secret of a rotation verifies; the event type comes from the body; a redelivered webhook-id is skipped', async () => {
    const body = { type: 'invoice.paid', timestamp: new Date(clock.now()).toISOString(), data: { id: 'inv_1' } };
    expect((await post('/api/hooks/standard', standardDelivery('msg_old', body, { secret: STANDARD_OLD }))).body).toEqual({ received: true });
    expect((await post('/api/hooks/standard', standardDelivery('msg_new', body, { secret: STANDARD_NEW }))).body).toEqual({ received: true });
    expect((await payments(`source = 'standard'`)).map((p) => [p.ref, p.kind]).sort()).toEqual([['msg_new', 'invoice.paid'], ['msg_old', 'invoice.paid']]);
    expect((await post('/api/hooks/standard', standardDelivery('msg_new', body, { secret: STANDARD_OLD }))).body).toEqual({ received: true, duplicate: true });
    expect(await paymentsFor('msg_new')).toBe(1);
  });

  it.each([
    ['a third secret', () => standardDelivery('msg_bad', { type: 'x' }, { secret: 'whsec_' + randomBytes(24).toString('base64') }), 'validation_signature_mismatch'],
    ['a stale timestamp', () => standardDelivery('msg_bad', { type: 'x' }, { at: clock.now() - 301_000 }), 'validation_stale_timestamp'],
    ['no signature headers', () => ({ payload: '{"type":"x"}', headers: { 'content-type': 'application/json', 'webhook-id': 'msg_bad' } }), 'validation_missing_signature'],
    ['the body altered by one byte', () => {
      const d = standardDelivery('msg_bad', { type: 'x' });
      return { ...d, payload: String(d.payload).replace('x', 'y') };
    }, 'validation_signature_mismatch'],
    ['another webhook-id than the signed one', () => {
      const d = standardDelivery('msg_bad', { type: 'x' });
      return { ...d, headers: { ...d.headers, 'webhook-id': 'msg_other' } };
    }, 'validation_signature_mismatch'],
  ] as [string, () => Delivery, string][])('%s → 401, nothing written', async (_name, delivery, code) => {
    refused(await post('/api/hooks/standard', delivery()), 401, code);
    expect(await payments(`source = 'standard' && ref != 'msg_old' && ref != 'msg_new'`)).toEqual([]);
    expect((await eventRows('/api/hooks/standard')).length).toBe(2);
  });
});

describe('GitHub', () => {
  it('processes a push, enqueuing a job in the same transaction; a redelivery enqueues nothing more', async () => {
    const d = await githubDelivery('72d3162e-cc78-11e3-81ab-4c9367dc0958', { ref: 'refs/heads/main' });
    expect(await post('/api/hooks/github', d)).toEqual({ status: 200, body: { received: true } });
    const [p] = await payments(`source = 'github'`);
    expect(p).toMatchObject({ ref: '72d3162e-cc78-11e3-81ab-4c9367dc0958', kind: 'push' });
    expect((await post('/api/hooks/github', d)).body).toEqual({ received: true, duplicate: true });
    const jobs = await send(t, 'GET', `/api/jobs?filter=${encodeURIComponent("name='github-push'")}`, { auth: admin });
    expect(jobs.status).toBe(200);
    expect(jobs.body.items.map((j: any) => j.payload)).toEqual([{ delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958', ref: 'refs/heads/main' }]);
  });

  it('refuses a wrong secret (401) and a delivery without X-GitHub-Delivery (400), writing nothing', async () => {
    refused(await post('/api/hooks/github', await githubDelivery('d-wrong', { ref: 'x' }, 'not the secret')), 401, 'validation_signature_mismatch');
    const d = await githubDelivery('d-none', { ref: 'x' });
    delete d.headers['x-github-delivery'];
    refused(await post('/api/hooks/github', d), 400, 'validation_required');
    expect(await payments(`source = 'github' && ref ~ 'd-'`)).toEqual([]);
    expect((await eventRows('/api/hooks/github')).map((r) => r.eventId)).toEqual(['72d3162e-cc78-11e3-81ab-4c9367dc0958']);
  });

  it('event ids are per receiver: the same delivery id at two receivers is two events', async () => {
    for (const path of ['/api/hooks/github', '/api/hooks/small']) expect((await post(path, await githubDelivery('d-shared', { ref: 'x' }))).body).toEqual({ received: true });
    expect((await payments(`ref = 'd-shared'`)).map((p) => p.source).sort()).toEqual(['github', 'small']);
  });

  it('a receiver’s own body limit: over it → 413', async () => {
    refused(await post('/api/hooks/small', await githubDelivery('d-small-1', { pad: 'x'.repeat(1000) })), 413);
    expect(await post('/api/hooks/small', await githubDelivery('d-small-2', { pad: 'x'.repeat(900) }))).toEqual({ status: 200, body: { received: true } });
    expect((await payments(`source = 'small' && ref ~ 'd-small'`)).map((p) => p.ref)).toEqual(['d-small-2']);
  });
});

describe('plain HMAC', () => {
  it('a custom absolute path, the raw bytes (not UTF-8) verified, the body as text, a custom answer, the id from a header', async () => {
    const bytes = Buffer.concat([Buffer.from('order 42 paid '), Buffer.from([0xff, 0xfe, 0x80])]);
    const res = await post('/integrations/shop', shopDelivery(bytes, { 'x-shop-event': 'shop-1' }));
    expect(res).toEqual({ status: 202, body: { accepted: 'shop-1', bytes: 17 } });
    const [p] = await payments(`source = 'shop'`);
    expect(String(p.note).startsWith('order 42 paid ')).toBe(true);
    expect((await post('/integrations/shop', shopDelivery(bytes, { 'x-shop-event': 'shop-1' }))).body).toEqual({ received: true, duplicate: true });
    refused(await post('/integrations/shop', shopDelivery(bytes)), 400, 'validation_required');
    refused(await post('/integrations/shop', shopDelivery(bytes, { 'x-shop-event': 'shop-2' }, 'other')), 401, 'validation_signature_mismatch');
    refused(await post('/integrations/shop', { payload: bytes, headers: { 'content-type': 'text/plain', 'x-shop-event': 'shop-3' } }), 401, 'validation_missing_signature');
    expect(await payments(`source = 'shop'`)).toHaveLength(1);
  });

  it('without an id header, the event id is the SHA-256 of the body: the same body twice is one event', async () => {
    const signed = (payload: string) => ({ payload, headers: { 'content-type': 'application/json', 'x-signature': 'sha512=' + createHmac('sha512', 'plain').update(payload).digest('hex') } });
    const a = await post('/api/hooks/plain/orders', signed('{"type":"order.created","n":1}'));
    expect(a.status).toBe(200);
    expect(a.body.id).toMatch(/^[0-9a-f]{64}$/);
    expect((await post('/api/hooks/plain/orders', signed('{"type":"order.created","n":1}'))).body).toEqual({ received: true, duplicate: true });
    expect((await post('/api/hooks/plain/orders', signed('{"type":"order.created","n":2}'))).status).toBe(200);
    expect((await payments(`source = 'plain'`)).map((p) => p.kind)).toEqual(['order.created', 'order.created']);
    refused(await post('/api/hooks/plain/orders', { ...signed('{}'), headers: { 'content-type': 'application/json', 'x-signature': 'sha256=' + createHmac('sha512', 'plain').update('{}').digest('hex') } }), 401, 'validation_invalid_signature');
  });
});

/** POSTs `chunks` over a real socket with chunked transfer encoding (no Content-Length). */
function postChunked(base: string, path: string, headers: Record<string, string>, chunks: string[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    // The server may answer (413) and close before every chunk is written.
    req.on('error', (err) => (req.destroyed && (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('over a socket', () => {
  it('a chunked delivery (no Content-Length) is read whole and verified; over the limit → 413', async () => {
    const base = await listenOnLoopback(t);
    const d = await githubDelivery('d-chunked', { ref: 'refs/heads/chunked', pad: 'y'.repeat(300) });
    const text = String(d.payload);
    const parts = [text.slice(0, 100), text.slice(100, 200), text.slice(200)];
    expect(await postChunked(base, '/api/hooks/github', d.headers, parts)).toEqual({ status: 200, body: { received: true } });
    expect(await paymentsFor('d-chunked')).toBe(1);
    const big = await githubDelivery('d-chunked-big', { pad: 'z'.repeat(1500) });
    const res = await postChunked(base, '/api/hooks/small', big.headers, [String(big.payload).slice(0, 700), String(big.payload).slice(700)]);
    refused(res, 413);
    expect(await paymentsFor('d-chunked-big')).toBe(0);
  });

  it('rate-limit rules of the receiver’s path apply', async () => {
    const rules = [{ label: '/api/hooks/standard', maxRequests: 1, duration: 60, audience: '' }];
    expect((await send(t, 'PATCH', '/api/settings', { auth: admin, body: { rateLimits: { enabled: true, rules } } })).status).toBe(200);
    try {
      expect((await post('/api/hooks/standard', standardDelivery('msg_limited_1', { type: 'x' }))).status).toBe(200);
      refused(await post('/api/hooks/standard', standardDelivery('msg_limited_2', { type: 'x' })), 429);
      expect(await paymentsFor('msg_limited_2')).toBe(0);
    } finally {
      await send(t, 'PATCH', '/api/settings', { auth: admin, body: { rateLimits: { enabled: false } } });
    }
  });
});

describe('declarations', () => {
  const declare = (setup: (app: HooksApi) => void) => () => addHooks(t, setup);
  const noop = () => {};
  beforeAll(() => addHooks(t, (app) => app.routerAdd('POST', '/api/shop/hook', () => ({}))));

  it.each([
    ['no options', (app: HooksApi) => app.webhooks.receive('x', undefined as never, noop), 'the options'],
    ['an unknown verify', (app: HooksApi) => app.webhooks.receive('x', { verify: 'paypal' as never, secret: 's' }, noop), 'verify must be'],
    ['no secret', (app: HooksApi) => app.webhooks.receive('x', { verify: 'stripe' } as never, noop), 'secret must be'],
    ['an empty secret in a rotation', (app: HooksApi) => app.webhooks.receive('x', { verify: 'github', secret: ['a', ''] }, noop), 'secret must be'],
    ['a Standard Webhooks secret without whsec_', (app: HooksApi) => app.webhooks.receive('x', { verify: 'standard', secret: 'plain' }, noop), 'whsec_'],
    ['an unknown HMAC algorithm', (app: HooksApi) => app.webhooks.receive('x', { verify: { type: 'hmac', header: 'x-sig', algorithm: 'md5' as never }, secret: 's' }, noop), 'verify.algorithm'],
    ['an HMAC without header', (app: HooksApi) => app.webhooks.receive('x', { verify: { type: 'hmac' } as never, secret: 's' }, noop), 'verify.header'],
    ['a negative tolerance', (app: HooksApi) => app.webhooks.receive('x', { verify: 'stripe', secret: 's', tolerance: -1 }, noop), 'tolerance'],
    ['a retention shorter than the tolerance', (app: HooksApi) => app.webhooks.receive('x', { verify: 'stripe', secret: 's', retention: 10 }, noop), 'retention'],
    ['idHeader on a Stripe receiver', (app: HooksApi) => app.webhooks.receive('x', { verify: 'stripe', secret: 's', idHeader: 'x-id' }, noop), 'hmac receivers'],
    ['an unknown option', (app: HooksApi) => app.webhooks.receive('x', { verify: 'stripe', secret: 's', secrets: ['s'] } as never, noop), 'unknown option'],
    ['a path parameter', (app: HooksApi) => app.webhooks.receive('tenants/{id}', { verify: 'stripe', secret: 's' }, noop), 'path segment'],
    ['no handler', (app: HooksApi) => app.webhooks.receive('x', { verify: 'stripe', secret: 's' }, undefined as never), 'handler'],
    ['a built-in route’s path', (app: HooksApi) => app.webhooks.receive('/api/batch', { verify: 'stripe', secret: 's' }, noop), 'built-in route'],
    ['a path served twice', (app: HooksApi) => app.webhooks.receive('/api/shop/hook', { verify: 'stripe', secret: 's' }, noop), 'registered twice'],
  ] as [string, (app: HooksApi) => void, string][])('%s is refused', (_name, setup, message) => {
    expect(declare(setup)).toThrow(message);
  });
});

describe('hook files reloading (--dev)', () => {
  it('a new set replaces the receivers whole; a set that cannot apply leaves the previous one in force', async () => {
    const set = (secret: string, path: string) => {
      const bindings = new HookBindings();
      t.app.hooksApi(bindings, 'hooks/receivers.ts').webhooks.receive(path, { verify: 'github', secret }, record(`reload-${secret}`));
      return bindings;
    };
    t.app.hooks.replaceFileSet(set('one', 'reloadable'));
    expect((await post('/api/hooks/reloadable', await githubDelivery('r-1', {}, 'one'))).status).toBe(200);
    t.app.hooks.replaceFileSet(set('two', 'reloadable'));
    refused(await post('/api/hooks/reloadable', await githubDelivery('r-2', {}, 'one')), 401);
    expect((await post('/api/hooks/reloadable', await githubDelivery('r-3', {}, 'two'))).status).toBe(200);
    expect(() => t.app.hooks.replaceFileSet(set('three', '/api/batch'))).toThrow('built-in route');
    expect((await post('/api/hooks/reloadable', await githubDelivery('r-4', {}, 'two'))).status).toBe(200);
    t.app.hooks.replaceFileSet(new HookBindings());
    expect((await post('/api/hooks/reloadable', await githubDelivery('r-5', {}, 'two'))).status).toBe(404);
    expect((await payments(`source ~ 'reload-'`)).map((p) => [p.source, p.ref]).sort()).toEqual([['reload-one', 'r-1'], ['reload-two', 'r-3'], ['reload-two', 'r-4']]);
  });
});

describe.skipIf(ENGINE !== 'sqlite')('hook files and framework mode', () => {
  it('a hook file and code on the basalt object declare receivers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-receivers-'));
    const hooksDir = mkdtempSync(join(process.cwd(), 'test', '.hooks-receivers-'));
    writeFileSync(
      join(hooksDir, 'stripe.ts'),
      "import { defineHooks } from 'basalt';\nexport default defineHooks((app) => {\n  app.webhooks.receive('from-file', { verify: 'github', secret: 'file-secret' }, (e) => ({ from: 'file', id: e.event.id }));\n});\n",
    );
    const basalt = await createBasalt({ config: defaultConfig({ dataDir: dir, hooksDir, logLevel: 'silent', http: { host: '127.0.0.1', port: 0 } }) });
    try {
      basalt.webhooks.receive('/hooks/from-code', { verify: 'github', secret: 'code-secret' }, (e) => ({ from: 'code', id: e.event.id }));
      const url = await basalt.listen();
      const deliver = async (path: string, secret: string) => {
        const d = await githubDelivery('fw-1', { ref: 'main' }, secret);
        const res = await fetch(url + path, { method: 'POST', headers: d.headers, body: d.payload });
        return { status: res.status, body: await res.json() };
      };
      expect(await deliver('/api/hooks/from-file', 'file-secret')).toEqual({ status: 200, body: { from: 'file', id: 'fw-1' } });
      expect(await deliver('/hooks/from-code', 'code-secret')).toEqual({ status: 200, body: { from: 'code', id: 'fw-1' } });
      expect((await deliver('/hooks/from-code', 'file-secret')).status).toBe(401);
    } finally {
      await basalt.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(hooksDir, { recursive: true, force: true });
    }
  });
});

describe('retention', () => {
  it('the built-in cron prunes events once their receiver’s retention passed; then a redelivery is processed again', async () => {
    const run = () => t.app.crons.runNow('__basaltWebhookEventsCleanup__');
    const total = (await eventRows()).length;
    expect((await eventRows('/api/hooks/plain/orders')).length).toBe(2);
    clock.set(clock.now() + 2 * 3600_000);
    expect(await run()).toBe('done');
    expect((await eventRows('/api/hooks/plain/orders')).length).toBe(0);
    expect((await eventRows()).length).toBe(total - 2);
    clock.set(clock.now() + 31 * 24 * 3600_000);
    expect(await run()).toBe('done');
    expect(await eventRows()).toEqual([]);
    expect(await post('/api/hooks/stripe', stripeDelivery(stripeEvent('evt_1')))).toEqual({ status: 200, body: { received: true } });
    expect(await paymentsFor('evt_1')).toBe(2);
  });
});
