/**
 * The scenario of issue 11 §5, end to end on the engine of BASALT_TEST_DB, with the orders
 * example (examples/orders: its hook file and its collections.json) and the real clients: the
 * `pocketbase` SDK, Stripe's own signing code, and `standardwebhooks` verifying every delivery.
 *
 * 1. In process: a customer places an order with an Idempotency-Key (retried: one order, stock
 *    reserved once); a Stripe-signed payment moves it pending → paid (a redelivery changes
 *    nothing); the customer asks for a refund and two distinct managers approve it; a second,
 *    unpaid order expires by its `after` timer; a receiver on loopback gets a signed delivery for
 *    every step, in `webhook-id` order, transitions as `record.updated` with `data.transition`.
 * 2. The real binary (`node bin/basalt.js serve`, built by `npm run build`): writes acknowledged,
 *    then `kill -9`, then a restart on the same data: every acknowledged write's delivery arrives.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import PocketBase, { ClientResponseError, type RecordModel } from 'pocketbase';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHookFiles, type HookFiles } from '../../src/cli/hook-files.js';
import { DEFAULT_JOBS_CONFIG, DEFAULT_WEBHOOKS_CONFIG } from '../../src/core/config.js';
import { ENGINE } from '../harness/engines.js';
import { createSuperuser } from '../harness/fixtures.js';
import { createPgDatabase, listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples/orders');
const BIN = join(ROOT, 'bin/basalt.js');
const HAS_BUILD = existsSync(join(ROOT, 'dist/cli/main.js'));
const COLLECTIONS = (JSON.parse(readFileSync(join(EXAMPLE, 'collections.json'), 'utf8')) as { collections: unknown[] }).collections;

const STRIPE_SECRET = 'whsec_orders_scenario_stripe_secret';
const stripe = new Stripe('sk_test_x');

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
}

/** A webhook receiver on loopback: records every request, answers as `answer` says. */
class Receiver {
  readonly received: Received[] = [];
  answer: (r: Omit<Received, 'status'>) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 });
  port = 0;
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        const a = this.answer(r);
        this.received.push({ ...r, status: a.status });
        res.writeHead(a.status, a.headers ?? {}).end(a.status < 300 ? 'ok' : 'busy');
      });
    });
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}

interface Delivery {
  id: string;
  type: string;
  record: RecordModel;
  transition?: { name: string; from: string; to: string; comment: string; by: { collectionId: string; id: string } | null };
}

/** Every request received, verified with `standardwebhooks` (throws on a forged one), one per message id, in `webhook-id` order. */
function verifiedDeliveries(received: Received[], secret: string): Delivery[] {
  const wh = new Webhook(secret);
  const byId = new Map<string, Delivery>();
  for (const r of received) {
    const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
    const event = wh.verify(r.body, headers) as { type: string; data: { record: RecordModel; transition?: Delivery['transition'] } };
    byId.set(headers['webhook-id'], { id: headers['webhook-id'], type: event.type, record: event.data.record, transition: event.data.transition });
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** What a delivery says happened: `created`, or the transition's name. */
const step = (d: Delivery) => (d.type === 'record.created' ? 'created' : d.type === 'record.updated' && d.transition ? d.transition.name : d.type);

async function until<T>(what: string, check: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sdk = (base: string) => {
  const pb = new PocketBase(base);
  pb.autoCancellation(false);
  return pb;
};

/** A Stripe `payment_intent.succeeded` event for an order, signed with Stripe's own code. */
function stripePayment(eventId: string, orderId: string): { payload: string; headers: Record<string, string> } {
  const payload = JSON.stringify(
    { id: eventId, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: `pi_${eventId}`, object: 'payment_intent', amount: 5000, currency: 'eur', metadata: { orderId } } } },
    null,
    2,
  );
  return { payload, headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }) } };
}

async function deliverToStripeReceiver(base: string, d: { payload: string; headers: Record<string, string> }): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}/api/hooks/stripe`, { method: 'POST', headers: d.headers, body: d.payload });
  return { status: res.status, body: await res.json() };
}

/** Imports the example's collections, creates the outbound endpoint, a product, a customer and two managers. */
async function setUpShop(base: string, superuser: PocketBase, receiverPort: number) {
  await superuser.collections.import(COLLECTIONS as never, false);
  const endpoint = await superuser.send<{ id: string; secret: string }>('/api/webhooks', {
    method: 'POST',
    body: { url: `http://127.0.0.1:${receiverPort}/orders`, collections: ['orders'], actions: ['create', 'update'] },
  });
  const product = await superuser.collection('products').create({ name: 'Teapot', price: 25, stock: 5 });
  const customer = sdk(base);
  await customer.collection('users').create({ email: 'ada@example.com', password: 'password123', passwordConfirm: 'password123' });
  await customer.collection('users').authWithPassword('ada@example.com', 'password123');
  const managers: PocketBase[] = [];
  for (const email of ['grace@example.com', 'edsger@example.com']) {
    await superuser.collection('staff').create({ email, password: 'password123', passwordConfirm: 'password123', role: 'manager' });
    const manager = sdk(base);
    await manager.collection('staff').authWithPassword(email, 'password123');
    managers.push(manager);
  }
  return { endpoint, productId: product.id, customer, managers };
}

describe('the orders scenario (in process)', () => {
  const receiver = new Receiver();
  let t: TestApp;
  let hooks: HookFiles;
  let base = '';
  let superuser: PocketBase;
  let shop: Awaited<ReturnType<typeof setUpShop>>;
  const orders = { paid: '', unpaid: '' };

  beforeAll(async () => {
    process.env.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET;
    await receiver.start();
    t = await startTestApp({
      config: {
        webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${receiver.port}`], retryScheduleMs: [200, 500, 1000], timeoutMs: 2000 },
        jobs: { ...DEFAULT_JOBS_CONFIG, pollIntervalMs: 200, shutdownGraceMs: 1000 },
      },
    });
    base = await listenOnLoopback(t);
    superuser = sdk(base);
    superuser.authStore.save((await createSuperuser(t)).token);
    shop = await setUpShop(base, superuser, receiver.port);
    hooks = await loadHookFiles(t.app, join(EXAMPLE, 'basalt_hooks'), { dev: false });
  });
  afterAll(async () => {
    hooks?.close();
    await t?.close();
    await receiver.stop();
    delete process.env.STRIPE_WEBHOOK_SECRET;
    delete process.env.ORDER_PAYMENT_WINDOW_SECONDS;
  });

  const stock = async () => (await superuser.collection('products').getOne(shop.productId)).stock as number;
  const history = async (pb: PocketBase, id: string) =>
    (await pb.send<{ history: { transition: string; from: string; to: string; by: { collectionId: string; id: string } | null }[] }>(`/api/collections/orders/records/${id}/transitions`, { method: 'GET' })).history;
  const take = (pb: PocketBase, id: string, name: string, body: Record<string, unknown> = {}) =>
    pb.send<RecordModel>(`/api/collections/orders/records/${id}/transitions/${name}`, { method: 'POST', body });

  it('a customer places an order with an Idempotency-Key, retried once: one order, stock reserved once', async () => {
    const replayed: (string | null)[] = [];
    shop.customer.afterSend = (response, data) => {
      replayed.push(response.headers.get('idempotent-replayed'));
      return data;
    };
    const key = randomUUID();
    const body = { customer: shop.customer.authStore.record!.id, product: shop.productId, quantity: 2 };
    const first = await shop.customer.collection('orders').create(body, { headers: { 'Idempotency-Key': key } });
    const retry = await shop.customer.collection('orders').create(body, { headers: { 'Idempotency-Key': key } });
    shop.customer.afterSend = undefined;
    expect(retry.id).toBe(first.id);
    expect(replayed).toEqual([null, 'true']);
    expect(first).toMatchObject({ status: 'pending', quantity: 2 });
    expect(first.expiresAt).not.toBe('');
    expect((await shop.customer.collection('orders').getList(1, 10)).totalItems).toBe(1);
    expect(await stock()).toBe(3);
    orders.paid = first.id;
  });

  it('an order for more than the stock is refused with a field error, and reserves nothing', async () => {
    const err = await shop.customer
      .collection('orders')
      .create({ customer: shop.customer.authStore.record!.id, product: shop.productId, quantity: 9 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientResponseError);
    expect((err as ClientResponseError).status).toBe(400);
    expect((err as ClientResponseError).response.data).toEqual({ quantity: { code: 'validation_out_of_stock', message: 'Not enough stock left for this order.' } });
    expect(await stock()).toBe(3);
  });

  it('a Stripe-signed payment moves the order pending → paid; the same event again changes nothing', async () => {
    // Neither the customer nor a plain update may mark it paid.
    await expect(take(shop.customer, orders.paid, 'pay')).rejects.toMatchObject({ status: 403 });
    await expect(superuser.collection('orders').update(orders.paid, { status: 'paid' })).rejects.toMatchObject({
      status: 400,
      response: { data: { status: { code: 'validation_transition_required' } } },
    });
    const payment = stripePayment('evt_scenario_1', orders.paid);
    expect(await deliverToStripeReceiver(base, payment)).toEqual({ status: 200, body: { received: true } });
    const paid = await shop.customer.collection('orders').getOne(orders.paid);
    expect(paid).toMatchObject({ status: 'paid', paymentIntent: 'pi_evt_scenario_1' });
    // Stripe redelivers (a new signature over the same event).
    expect(await deliverToStripeReceiver(base, stripePayment('evt_scenario_1', orders.paid))).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const entries = await history(shop.customer, orders.paid);
    expect(entries).toMatchObject([{ transition: 'pay', from: 'pending', to: 'paid', by: null }]);
    // A forged event is refused.
    const forged = { ...payment, payload: payment.payload.replace('5000', '1') };
    expect((await deliverToStripeReceiver(base, forged)).status).toBe(401);
  });

  it('the customer requests a refund; two distinct managers approve it (one approving twice counts once)', async () => {
    const requested = await take(shop.customer, orders.paid, 'request_refund', { comment: 'arrived broken' });
    expect(requested.status).toBe('refund_requested');
    await expect(take(shop.customer, orders.paid, 'refund')).rejects.toMatchObject({ status: 404 });
    const [first, second] = shop.managers as [PocketBase, PocketBase];
    expect((await take(first, orders.paid, 'refund')).status).toBe('refund_requested');
    await expect(take(first, orders.paid, 'refund')).rejects.toMatchObject({ status: 400, response: { data: { name: { code: 'validation_already_approved' } } } });
    expect((await shop.customer.collection('orders').getOne(orders.paid)).status).toBe('refund_requested');
    const refunded = await take(second, orders.paid, 'refund', { comment: 'approved' });
    expect(refunded.status).toBe('refunded');
    const entries = await history(shop.customer, orders.paid);
    expect(entries.map((h) => h.transition)).toEqual(['pay', 'request_refund', 'refund']);
    expect(entries[2]!.by).toEqual({ collectionId: 'pbc_3100000001', id: second.authStore.record!.id });
    expect(await stock()).toBe(5); // the refund gave the stock back
  });

  it('an unpaid order expires by itself at its expiresAt, and gives its stock back', async () => {
    process.env.ORDER_PAYMENT_WINDOW_SECONDS = '1';
    const order = await shop.customer.collection('orders').create({ customer: shop.customer.authStore.record!.id, product: shop.productId, quantity: 1 });
    delete process.env.ORDER_PAYMENT_WINDOW_SECONDS;
    orders.unpaid = order.id;
    expect(order.status).toBe('pending');
    expect(await stock()).toBe(4);
    await until('the order to expire', async () => (await shop.customer.collection('orders').getOne(order.id)).status === 'expired');
    expect(await history(shop.customer, order.id)).toMatchObject([{ transition: 'expire', from: 'pending', to: 'expired', by: null }]);
    expect(await stock()).toBe(5);
    // A payment arriving after the expiry is acknowledged and changes nothing.
    expect(await deliverToStripeReceiver(base, stripePayment('evt_scenario_late', order.id))).toEqual({ status: 200, body: { received: true } });
    expect((await shop.customer.collection('orders').getOne(order.id)).status).toBe('expired');
  });

  it('every step reached the receiver on loopback, signed (verified with standardwebhooks), in webhook-id order', async () => {
    const expected = [
      [orders.paid, 'created'],
      [orders.paid, 'pay'],
      [orders.paid, 'request_refund'],
      [orders.paid, 'refund'],
      [orders.unpaid, 'created'],
      [orders.unpaid, 'expire'],
    ];
    const deliveries = await until('the six deliveries', () => {
      const all = verifiedDeliveries(receiver.received, shop.endpoint.secret);
      return all.length >= expected.length ? all : null;
    });
    expect(deliveries.map((d) => [d.record.id, step(d)])).toEqual(expected);
    expect(deliveries.map((d) => d.type)).toEqual(['record.created', 'record.updated', 'record.updated', 'record.updated', 'record.created', 'record.updated']);
    expect(deliveries[1]!.transition).toMatchObject({ name: 'pay', from: 'pending', to: 'paid', by: null });
    expect(deliveries[1]!.record).toMatchObject({ status: 'paid', paymentIntent: 'pi_evt_scenario_1' });
    expect(deliveries[3]!.transition).toMatchObject({ name: 'refund', from: 'refund_requested', to: 'refunded', comment: 'approved' });
    expect(deliveries[5]!.transition).toMatchObject({ name: 'expire', from: 'pending', to: 'expired', by: null });
    // The delivery log agrees: every message succeeded.
    const log = await superuser.send<{ items: { id: string; state: string }[] }>(`/api/webhooks/${shop.endpoint.id}/deliveries`, { method: 'GET', query: { perPage: 50 } });
    expect(log.items.map((d) => d.id).sort()).toEqual(deliveries.map((d) => d.id));
    expect(log.items.every((d) => d.state === 'succeeded')).toBe(true);
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((done) => srv.listen(0, '127.0.0.1', done));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((done) => srv.close(() => done()));
  return port;
}

describe.skipIf(!HAS_BUILD)('kill -9 of the real binary loses no delivery', () => {
  const receiver = new Receiver();
  const children: ChildProcess[] = [];
  let dir = '';
  let dropDb = async () => {};
  let dbArgs: string[] = [];

  beforeAll(async () => {
    await receiver.start();
    dir = mkdtempSync(join(tmpdir(), 'basalt-orders-'));
    if (ENGINE === 'postgres') {
      const db = await createPgDatabase();
      dropDb = db.drop;
      dbArgs = ['--db', db.url];
    }
  });
  afterAll(async () => {
    // Only the processes this file started, by their own handle.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await receiver.stop();
    await dropDb();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ PATH: process.env.PATH, STRIPE_WEBHOOK_SECRET: STRIPE_SECRET, BASALT_LOG_LEVEL: 'warn' });

  /** Starts `basalt serve` on the example and waits until it answers. */
  async function serve(port: number, extra: string[] = []): Promise<{ child: ChildProcess; exited: Promise<NodeJS.Signals | number | null> }> {
    const args = ['serve', '--dir', dir, ...dbArgs, '--hooks', join(EXAMPLE, 'basalt_hooks'), '--webhook-allow', `127.0.0.1:${receiver.port}`, '--http', `127.0.0.1:${port}`, ...extra];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => (output += String(d)));
    child.stderr!.on('data', (d) => (output += String(d)));
    const exited = new Promise<NodeJS.Signals | number | null>((done) => child.on('exit', (code, signal) => done(signal ?? code)));
    await until(
      'basalt serve to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`basalt serve exited (${child.exitCode}): ${output}`);
        return fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.ok, () => false);
      },
      15_000,
    );
    return { child, exited };
  }

  it('writes acknowledged just before a SIGKILL are all delivered after the restart (at least once, signed)', async () => {
    await promisify(execFile)(process.execPath, [BIN, 'superuser', 'upsert', 'admin@example.com', 'password123', '--dir', dir, ...dbArgs], { env: env() });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // First run: an API node (`--webhook-concurrency 0`): it writes and relays deliveries but sends
    // none, so every delivery is still pending when it dies.
    const first = await serve(port, ['--webhook-concurrency', '0']);
    const superuser = sdk(base);
    await superuser.collection('_superusers').authWithPassword('admin@example.com', 'password123');
    const shop = await setUpShop(base, superuser, receiver.port);
    const customerId = shop.customer.authStore.record!.id;
    const placed: string[] = [];
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    const place = (key: string) => shop.customer.collection('orders').create({ customer: customerId, product: shop.productId, quantity: 1 }, { headers: { 'Idempotency-Key': key } });
    for (const key of keys) placed.push((await place(key)).id);
    expect(await deliverToStripeReceiver(base, stripePayment('evt_kill_1', placed[0]!))).toEqual({ status: 200, body: { received: true } });
    const requested = await shop.customer.send<RecordModel>(`/api/collections/orders/records/${placed[0]!}/transitions/request_refund`, { method: 'POST', body: {} });
    expect(requested.status).toBe('refund_requested');
    // Acknowledged: kill it at once.
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(receiver.received).toHaveLength(0);

    // The receiver is busy at first (503 with Retry-After: 1), then accepts: deliveries are retried.
    const failedOnce = new Set<string>();
    receiver.answer = (r) => {
      const id = String(r.headers['webhook-id']);
      if (failedOnce.has(id)) return { status: 200 };
      failedOnce.add(id);
      return { status: 503, headers: { 'retry-after': '1' } };
    };
    const second = await serve(port);
    // The customer's app retries its last order after the crash: the stored answer, no new order.
    expect((await place(keys[2]!)).id).toBe(placed[2]);
    expect((await shop.customer.collection('orders').getList(1, 10)).totalItems).toBe(3);
    const superuser2 = sdk(base);
    await superuser2.collection('_superusers').authWithPassword('admin@example.com', 'password123');
    expect((await superuser2.collection('products').getOne(shop.productId)).stock).toBe(2);
    const expected = [...placed.map((id) => [id, 'created']), [placed[0]!, 'pay'], [placed[0]!, 'request_refund']];
    const key = (pair: string[]) => pair.join(' ');
    const deliveries = await until(
      'every acknowledged write to be delivered',
      () => {
        const accepted = verifiedDeliveries(receiver.received.filter((r) => r.status === 200), shop.endpoint.secret);
        return accepted.length >= expected.length ? accepted : null;
      },
      15_000,
    );
    expect(deliveries.map((d) => key([d.record.id, step(d)])).sort()).toEqual(expected.map(key).sort());
    // Each was refused once and retried; every request, the refused ones too, was signed.
    expect(failedOnce.size).toBe(expected.length);
    expect(verifiedDeliveries(receiver.received, shop.endpoint.secret)).toHaveLength(expected.length);
    // No message id of the delivery log is missing at the receiver.
    const log = await superuser2.send<{ items: { id: string; state: string }[] }>(`/api/webhooks/${shop.endpoint.id}/deliveries`, { method: 'GET', query: { perPage: 50 } });
    expect(log.items.map((d) => d.id).sort()).toEqual(deliveries.map((d) => d.id));
    await until('the delivery log to show every delivery succeeded', async () => {
      const now = await superuser2.send<{ items: { state: string }[] }>(`/api/webhooks/${shop.endpoint.id}/deliveries`, { method: 'GET', query: { perPage: 50 } });
      return now.items.every((d) => d.state === 'succeeded');
    });
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
