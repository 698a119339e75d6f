/**
 * The README's e-commerce example (examples/shop/basalt_hooks/shop.ts), as a test on every
 * engine: an order decrements stock atomically, an order that would make stock negative is a
 * 400 with a field error, concurrent orders for the last item: exactly one succeeds, and the
 * confirmation mail is sent by a job through a real SMTP server after the commit.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHookFiles, type HookFiles } from '../../src/cli/hook-files.js';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startSmtpSink, type SmtpSink } from '../harness/smtp-sink.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let sink: SmtpSink;
let hooks: HookFiles;
let productId: string;
let admin: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp();
  admin = (await createSuperuser(t)).token;
  await send(t, 'PATCH', '/api/settings', { auth: admin, body: { smtp: { enabled: true, host: '127.0.0.1', port: sink.port }, meta: { senderAddress: 'shop@example.com' } } });
  await createCollection(t, { name: 'products', fields: [{ name: 'name', type: 'text', required: true }, { name: 'stock', type: 'number', onlyInt: true, min: 0 }], listRule: '', viewRule: '' });
  const products = t.app.registry.find('products')!;
  await createCollection(t, {
    name: 'orders',
    fields: [
      { name: 'product', type: 'relation', collectionId: products.id, maxSelect: 1, required: true },
      { name: 'quantity', type: 'number', onlyInt: true, min: 1, required: true },
      { name: 'email', type: 'email', required: true },
    ],
    createRule: '',
  });
  hooks = await loadHookFiles(t.app, join(process.cwd(), 'examples/shop/basalt_hooks'), { dev: false });
  productId = String((await t.app.hookApp().records('products').create({ name: 'Teapot', stock: 3 })).id);
});
afterAll(async () => {
  hooks?.close();
  await t?.close();
  await sink?.close();
});

const stock = async () => Number((await t.app.hookApp().records('products').getOne(productId)).stock);
const order = (quantity: number, email = 'ada@example.com') => send(t, 'POST', '/api/collections/orders/records', { body: { product: productId, quantity, email } });

describe('the shop example', () => {
  it('an order takes its quantity out of the stock, and the confirmation arrives by mail after the commit', async () => {
    const res = await order(2);
    expect(res.status).toBe(200);
    expect(await stock()).toBe(1);
    const mail = await sink.waitFor((m) => m.subject === `Your order ${String(res.body.id)}`, 10_000);
    expect(mail.to).toEqual(['ada@example.com']);
    expect(mail.text).toContain('2 × Teapot');
  });

  it('an order that would make the stock negative is a 400 with a field error, and changes nothing', async () => {
    const res = await order(5, 'greedy@example.com');
    expect(res.status).toBe(400);
    expect(res.body.data).toEqual({ quantity: { code: 'validation_out_of_stock', message: 'Not enough stock left for this order.' } });
    expect(await stock()).toBe(1);
    await sink.expectNone((m) => m.to.includes('greedy@example.com'), 500);
  });

  it('concurrent orders for the last item: exactly one succeeds, and only its mail is sent', async () => {
    const buyers = Array.from({ length: 6 }, (_, i) => `buyer${i}@example.com`);
    const results = await Promise.all(buyers.map((email) => order(1, email)));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(5);
    expect(await stock()).toBe(0);
    const winner = buyers[results.indexOf(won[0]!)]!;
    await sink.waitFor((m) => m.to.includes(winner), 10_000);
    await sink.expectNone((m) => m.to.some((to) => to !== winner && buyers.includes(to)), 500);
    const orders = await t.app.hookApp().records('orders').getList(1, 50, { filter: 'product = {:p}', params: { p: productId } });
    expect(orders.totalItems).toBe(2);
  });

  it('its superuser route lists the products low on stock, and its cron is registered', async () => {
    expect((await send(t, 'GET', '/api/shop/low-stock')).status).toBe(401);
    const res = await send(t, 'GET', '/api/shop/low-stock', { auth: admin });
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { name: string }) => p.name)).toContain('Teapot');
    const crons = await send(t, 'GET', '/api/crons', { auth: admin });
    expect(crons.body).toContainEqual({ id: 'restock-report', expression: '0 3 * * *' });
  });
});
