/**
 * State machines on records (docs/workflows.md), black-box on every engine: the workflow is
 * validated when its collection is saved; the state field changes only through transitions; the
 * order example draft → submitted → approved (two distinct approvers) → paid (effects: a job and
 * an email) → shipped through the PocketBase SDK; illegal transitions, rule misses, bad bodies;
 * concurrent transitions of one record (one wins); the hooks; `after` timers; the history.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import PocketBase, { ClientResponseError } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/public-api.js';
import { DEFAULT_WEBHOOKS_CONFIG } from '../../src/core/config.js';
import { WORKFLOW_HISTORY_TABLE } from '../../src/core/internal-tables.js';
import { addHooks, createAuthRecord, createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startSmtpSink, type SmtpSink } from '../harness/smtp-sink.js';
import { openSse } from '../harness/sse-client.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let sink: SmtpSink;
let baseURL = '';
const tok = { su: '', customer: '', manager1: '', manager2: '' };
const ids = { customer: '', manager1: '', manager2: '' };
const invoices: unknown[] = [];
const transitionsSeen: string[] = [];
/** Bodies an outbound webhook receiver on loopback got. */
const delivered: any[] = [];
let receiver: Server;

const ORDER_STATES = ['draft', 'submitted', 'approved', 'paid', 'shipped', 'cancelled'];
const orderWorkflow = {
  field: 'status',
  initial: 'draft',
  transitions: [
    { name: 'submit', from: ['draft'], to: 'submitted', rule: '@request.auth.id != ""', fields: ['note'] },
    { name: 'approve', from: ['submitted'], to: 'approved', rule: '@request.auth.role = "manager"', approvals: 2 },
    {
      name: 'pay',
      from: ['approved'],
      to: 'paid',
      rule: '@request.auth.id != "" && @request.body.reference != ""',
      fields: ['reference'],
      effects: [{ job: 'invoice', payload: { kind: 'invoice' } }, { email: { to: 'email', subject: 'Order {RECORD:title} paid', body: '<p>Paid: {COMMENT}</p>' } }],
    },
    { name: 'ship', from: ['paid'], to: 'shipped' },
    { name: 'cancel', from: ['draft', 'submitted'], to: 'cancelled', rule: '' },
  ],
};

beforeAll(async () => {
  sink = await startSmtpSink();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      delivered.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as AddressInfo).port;
  t = await startTestApp({ config: { webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${receiverPort}`] } } });
  tok.su = (await createSuperuser(t)).token;
  await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { smtp: { enabled: true, host: '127.0.0.1', port: sink.port }, meta: { senderAddress: 'shop@example.com' } } });
  const users = (await send(t, 'GET', '/api/collections/users', { auth: tok.su })).body;
  const role = { name: 'role', type: 'select', values: ['customer', 'manager'], maxSelect: 1 };
  expect((await send(t, 'PATCH', '/api/collections/users', { auth: tok.su, body: { fields: [...users.fields, role] } })).status).toBe(200);
  for (const [key, role] of [['customer', 'customer'], ['manager1', 'manager'], ['manager2', 'manager']] as const) {
    const user = await createAuthRecord(t, 'users', { email: `${key}@example.com`, role });
    tok[key] = user.token;
    ids[key] = user.id;
  }
  addHooks(t, (api) => {
    api.jobs.define('invoice', async (job) => {
      invoices.push(job.payload);
    });
    api.onRecordTransition(async (e) => {
      if (e.transition.name === 'cancel' && e.record.getString('title') === 'keep') throw new BadRequestError('This order cannot be cancelled.');
      if (e.transition.name === 'submit') e.record.set('hookNote', `${e.transition.from}->${e.transition.to}`);
      await e.next();
    }, 'orders');
    api.onRecordAfterTransitionSuccess(async (e) => {
      transitionsSeen.push(`${e.record.id}:${e.transition.name}`);
      await e.next();
    }, 'orders');
  });
  const created = await send(t, 'POST', '/api/collections', {
    auth: tok.su,
    body: {
      name: 'orders',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'email', type: 'email' },
        { name: 'note', type: 'text' },
        { name: 'hookNote', type: 'text' },
        { name: 'reference', type: 'text' },
        { name: 'status', type: 'select', values: ORDER_STATES, maxSelect: 1 },
      ],
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: '@request.auth.id != ""',
      workflow: orderWorkflow,
    },
  });
  expect(created.status).toBe(200);
  await t.server.listen({ host: '127.0.0.1', port: 0 });
  baseURL = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

const sdk = (token = '') => {
  const pb = new PocketBase(baseURL);
  pb.autoCancellation(false);
  if (token) pb.authStore.save(token);
  return pb;
};
const take = (id: string, name: string, token = '', body: unknown = {}, collection = 'orders') =>
  send(t, 'POST', `/api/collections/${collection}/records/${id}/transitions/${name}`, { auth: token || undefined, body });
const overview = (id: string, token = '', collection = 'orders') => send(t, 'GET', `/api/collections/${collection}/records/${id}/transitions`, { auth: token || undefined });
const stateOf = async (id: string, collection = 'orders', field = collection === 'orders' ? 'status' : 'state') => String((await t.app.hookApp().records(collection).getOne(id))[field]);
const newOrder = async (title = 'order', token = tok.customer) => String((await send(t, 'POST', '/api/collections/orders/records', { auth: token, body: { title, email: 'buyer@example.com' } })).body.id);

function expectError(res: { status: number; body: any }, status: number): void {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ status, message: expect.any(String), data: expect.any(Object) });
}

describe('the workflow definition', () => {
  const base = (workflow: unknown, fields: unknown[] = [{ name: 'state', type: 'select', values: ['a', 'b', 'c'], maxSelect: 1 }, { name: 'title', type: 'text' }, { name: 'due', type: 'date' }]) => ({
    name: 'wfcheck',
    fields,
    workflow,
  });
  const ab = (extra: Record<string, unknown> = {}) => ({ name: 'go', from: ['a'], to: 'b', ...extra });
  const bc = { name: 'next', from: ['b'], to: 'c' };
  const cases: [string, unknown, string[], string, unknown[]?][] = [
    ['a field that is not a select', { field: 'title', initial: 'a', transitions: [] }, ['field'], 'validation_invalid_workflow'],
    ['a multi-valued select', { field: 'state', initial: 'a', transitions: [] }, ['field'], 'validation_invalid_workflow', [{ name: 'state', type: 'select', values: ['a'], maxSelect: 2 }]],
    ['an unknown field', { field: 'nope', initial: 'a', transitions: [] }, ['field'], 'validation_invalid_workflow'],
    ['an initial state that is not a value', { field: 'state', initial: 'z', transitions: [ab(), bc] }, ['initial'], 'validation_unknown_state'],
    ['a transition to an unknown state', { field: 'state', initial: 'a', transitions: [ab(), bc, { name: 'x', from: ['a'], to: 'z' }] }, ['transitions', '2', 'to'], 'validation_unknown_state'],
    ['a transition from an unknown state', { field: 'state', initial: 'a', transitions: [ab({ from: ['q'] }), bc] }, ['transitions', '0', 'from'], 'validation_unknown_state'],
    ['duplicate transition names', { field: 'state', initial: 'a', transitions: [ab(), { ...bc, name: 'go' }] }, ['transitions', '1', 'name'], 'validation_duplicate_transition'],
    ['an unreachable state', { field: 'state', initial: 'a', transitions: [ab()] }, ['field'], 'validation_unreachable_state'],
    ['a transition to itself without a reason', { field: 'state', initial: 'a', transitions: [ab(), bc, { name: 'again', from: ['c'], to: 'c' }] }, ['transitions', '2', 'to'], 'validation_pointless_transition'],
    ['an unparsable rule', { field: 'state', initial: 'a', transitions: [ab({ rule: 'title = ' }), bc] }, ['transitions', '0', 'rule'], 'validation_invalid_rule'],
    ['a rule on an unknown field', { field: 'state', initial: 'a', transitions: [ab(), { ...bc, rule: 'missing = 1' }] }, ['transitions', '1', 'rule'], 'validation_invalid_rule'],
    ['a bad after duration', { field: 'state', initial: 'a', transitions: [ab({ after: '48x' }), bc] }, ['transitions', '0', 'after'], 'validation_invalid_duration'],
    ['an after field that is not a date', { field: 'state', initial: 'a', transitions: [ab({ after: { field: 'title' } }), bc] }, ['transitions', '0', 'after', 'field'], 'validation_invalid_workflow'],
    ['an unknown effect', { field: 'state', initial: 'a', transitions: [ab({ effects: [{ sms: '1' }] }), bc] }, ['transitions', '0', 'effects', '0'], 'validation_invalid_workflow'],
    ['an email effect without a subject', { field: 'state', initial: 'a', transitions: [ab({ effects: [{ email: { to: 'a@b.c', body: 'x' } }] }), bc] }, ['transitions', '0', 'effects', '0', 'email', 'subject'], 'validation_invalid_workflow'],
    ['a transition setting the state field', { field: 'state', initial: 'a', transitions: [ab({ fields: ['state'] }), bc] }, ['transitions', '0', 'fields'], 'validation_invalid_workflow'],
    ['approvals that are not a count', { field: 'state', initial: 'a', transitions: [ab({ approvals: 0 }), bc] }, ['transitions', '0', 'approvals'], 'validation_invalid_workflow'],
    ['an unknown key', { field: 'state', initial: 'a', transitions: [ab({ when: 'now' }), bc] }, ['transitions', '0', 'when'], 'validation_invalid_workflow'],
    ['a workflow that is not an object', 'a->b', [], 'validation_invalid_workflow'],
  ];
  for (const [name, workflow, path, code, fields] of cases) {
    it(`refuses ${name} with a field error under workflow, and creates nothing`, async () => {
      const res = await send(t, 'POST', '/api/collections', { auth: tok.su, body: base(workflow, fields) });
      expectError(res, 400);
      let error = res.body.data.workflow;
      for (const key of path) error = error?.[key];
      expect(error).toMatchObject({ code, message: expect.any(String) });
      expect(t.app.registry.find('wfcheck')).toBeUndefined();
    });
  }

  it('accepts a transition to itself with a reason, keeps the workflow on an update without it, removes it with null', async () => {
    const created = await send(t, 'POST', '/api/collections', {
      auth: tok.su,
      body: base({ field: 'state', initial: 'a', transitions: [ab({ after: { field: 'due' } }), bc, { name: 'remind', from: ['c'], to: 'c', effects: [{ webhook: 'ep1' }] }] }),
    });
    expect(created.status).toBe(200);
    expect(created.body.workflow).toMatchObject({ field: 'state', initial: 'a', transitions: [{ name: 'go', after: { field: 'due' } }, { name: 'next' }, { name: 'remind' }] });
    // A PocketBase client that does not know workflows keeps it.
    const renamed = await send(t, 'PATCH', '/api/collections/wfcheck', { auth: tok.su, body: { listRule: '' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.workflow.initial).toBe('a');
    expect((await send(t, 'GET', '/api/collections/wfcheck', { auth: tok.su })).body.workflow.field).toBe('state');
    // Removing a state that transitions use, or the state field, is refused where it happens.
    const fields = created.body.fields as Record<string, unknown>[];
    const withoutC = fields.map((f) => (f.name === 'state' ? { ...f, values: ['a', 'b'] } : f));
    const r1 = await send(t, 'PATCH', '/api/collections/wfcheck', { auth: tok.su, body: { fields: withoutC } });
    expectError(r1, 400);
    expect(r1.body.data.workflow.transitions['1'].to.code).toBe('validation_unknown_state');
    const renamedField = fields.map((f) => (f.name === 'state' ? { ...f, name: 'phase' } : f));
    const r2 = await send(t, 'PATCH', '/api/collections/wfcheck', { auth: tok.su, body: { fields: renamedField } });
    expectError(r2, 400);
    expect(r2.body.data.workflow.field.code).toBe('validation_invalid_workflow');
    // Import carries workflows too, and validates them.
    const exported = (await send(t, 'GET', '/api/collections/wfcheck', { auth: tok.su })).body;
    const badImport = await send(t, 'PUT', '/api/collections/import', { auth: tok.su, body: { collections: [{ ...exported, workflow: { ...exported.workflow, initial: 'z' } }] } });
    expectError(badImport, 400);
    expect(badImport.body.data.collections['0'].data.workflow.initial.code).toBe('validation_unknown_state');
    const goodImport = await send(t, 'PUT', '/api/collections/import', { auth: tok.su, body: { collections: [{ ...exported, workflow: { ...exported.workflow, transitions: exported.workflow.transitions.slice(0, 2) } }] } });
    expect(goodImport.status).toBe(204);
    expect(t.app.registry.find('wfcheck')!.data.workflow!.transitions.map((x) => x.name)).toEqual(['go', 'next']);
    const removed = await send(t, 'PATCH', '/api/collections/wfcheck', { auth: tok.su, body: { workflow: null } });
    expect(removed.status).toBe(200);
    expect(removed.body.workflow).toBeUndefined();
    expect((await send(t, 'DELETE', '/api/collections/wfcheck', { auth: tok.su })).status).toBe(204);
  });
});

describe('the state field', () => {
  it('starts at the initial state; a create naming another state is refused', async () => {
    const pb = sdk(tok.customer);
    const order = await pb.collection('orders').create({ title: 'fresh', email: 'buyer@example.com' });
    expect(order.status).toBe('draft');
    const err = await pb.collection('orders').create({ title: 'cheat', status: 'paid' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientResponseError);
    expect((err as ClientResponseError).status).toBe(400);
    expect((err as ClientResponseError).response.data.status.code).toBe('validation_transition_required');
    expect((await send(t, 'GET', `/api/collections/orders/records?filter=${encodeURIComponent('title="cheat"')}`)).body.totalItems).toBe(0);
  });

  it('a plain update that changes it is refused (PATCH, batch, hooks), other fields still change', async () => {
    const id = await newOrder('plain');
    const patch = await send(t, 'PATCH', `/api/collections/orders/records/${id}`, { auth: tok.customer, body: { status: 'shipped', note: 'x' } });
    expectError(patch, 400);
    expect(patch.body.data.status.code).toBe('validation_transition_required');
    await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { batch: { enabled: true, maxRequests: 10 } } });
    const batch = await send(t, 'POST', '/api/batch', { auth: tok.su, body: { requests: [{ method: 'PATCH', url: `/api/collections/orders/records/${id}`, body: { status: 'paid' } }] } });
    expectError(batch, 400);
    await expect(t.app.hookApp().records('orders').update(id, { status: 'paid' })).rejects.toMatchObject({ status: 400 });
    expect(await stateOf(id)).toBe('draft');
    const ok = await send(t, 'PATCH', `/api/collections/orders/records/${id}`, { auth: tok.customer, body: { note: 'changed', status: 'draft' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ note: 'changed', status: 'draft' });
  });
});

describe('the order example', () => {
  it('draft → submitted → approved (two approvers) → paid (a job and an email) → shipped, with its history', async () => {
    const customer = sdk(tok.customer);
    const order = await customer.collection('orders').create({ title: 'Teapot', email: 'buyer@example.com' });
    const path = (name: string) => `/api/collections/orders/records/${order.id}/transitions/${name}`;
    const submitted = await customer.send(path('submit'), { method: 'POST', body: { note: 'please', comment: 'ready' } });
    expect(submitted).toMatchObject({ id: order.id, status: 'submitted', note: 'please', hookNote: 'draft->submitted' });

    const m1 = sdk(tok.manager1);
    const first = await m1.send(path('approve'), { method: 'POST', body: {} });
    expect(first.status).toBe('submitted');
    const again = await m1.send(path('approve'), { method: 'POST', body: {} }).catch((e: unknown) => e);
    expect((again as ClientResponseError).status).toBe(400);
    expect((again as ClientResponseError).response.data.name.code).toBe('validation_already_approved');
    const pending = await m1.send(`/api/collections/orders/records/${order.id}/transitions`, { method: 'GET' });
    expect(pending.available).toContainEqual({ name: 'approve', to: 'approved', approvals: { required: 2, given: 1, mine: true } });
    const approved = await sdk(tok.manager2).send(path('approve'), { method: 'POST', body: { comment: 'ok' } });
    expect(approved.status).toBe('approved');
    // The approvals were for that stay in "submitted": gone with it.
    expect(await t.app.db.kysely.selectFrom('_workflowApprovals').select('id').where('recordRef', '=', order.id).execute()).toEqual([]);

    const noRef = await take(order.id, 'pay', tok.customer, { reference: '' });
    expectError(noRef, 404);
    const paid = await customer.send(path('pay'), { method: 'POST', body: { reference: 'INV-1', comment: 'card' } });
    expect(paid).toMatchObject({ status: 'paid', reference: 'INV-1' });
    const mail = await sink.waitFor((m) => m.subject === 'Order Teapot paid', 10_000);
    expect(mail.to).toEqual(['buyer@example.com']);
    expect(mail.html).toContain('Paid: card');
    await expect.poll(() => invoices.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(invoices[0]).toMatchObject({ collectionName: 'orders', recordId: order.id, name: 'pay', from: 'approved', to: 'paid', comment: 'card', by: { id: ids.customer }, payload: { kind: 'invoice' } });

    const shipped = await customer.send(path('ship'), { method: 'POST' });
    expect(shipped.status).toBe('shipped');

    const view = await customer.send(`/api/collections/orders/records/${order.id}/transitions`, { method: 'GET' });
    expect(view.available).toEqual([]);
    const by = (id: string) => ({ collectionId: t.app.registry.find('users')!.id, id });
    expect(view.history.map((h: any) => [h.transition, h.from, h.to, h.by, h.comment])).toEqual([
      ['submit', 'draft', 'submitted', by(ids.customer), 'ready'],
      ['approve', 'submitted', 'approved', by(ids.manager2), 'ok'],
      ['pay', 'approved', 'paid', by(ids.customer), 'card'],
      ['ship', 'paid', 'shipped', by(ids.customer), ''],
    ]);
    expect(view.history[0]).toMatchObject({ id: expect.any(String), created: expect.any(String) });
    expect(transitionsSeen.filter((s) => s.startsWith(order.id))).toEqual(['submit', 'approve', 'pay', 'ship'].map((n) => `${order.id}:${n}`));
  });

  it('hook and job code takes transitions with e.app.records(…).transition, as Basalt or as a record', async () => {
    const id = await newOrder('by code');
    const orders = t.app.hookApp().records('orders');
    await expect(orders.transition(id, 'submit', {}, { as: null })).rejects.toMatchObject({ status: 404 });
    const submitted = await orders.transition(id, 'submit', { comment: 'from a hook', note: 'n' });
    expect(submitted).toMatchObject({ id, status: 'submitted', note: 'n' });
    // As Basalt itself, approvals do not apply: one call approves.
    expect((await orders.transition(id, 'approve')).status).toBe('approved');
    await expect(t.app.hookApp().runInTransaction(async (app) => {
      await app.records('orders').transition(id, 'pay', { reference: 'R' });
      throw new Error('roll back');
    })).rejects.toThrow('roll back');
    expect(await stateOf(id)).toBe('approved');
    const history = (await overview(id, tok.customer)).body.history;
    expect(history.map((h: any) => [h.transition, h.by, h.comment])).toEqual([['submit', null, 'from a hook'], ['approve', null, '']]);
  });

  it('realtime subscribers receive a transition as an update', async () => {
    const id = await newOrder('live');
    const c = await openSse(baseURL);
    try {
      const res = await fetch(`${baseURL}/api/realtime`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: c.clientId, subscriptions: [`orders/${id}`] }) });
      expect(res.status).toBe(204);
      expect((await take(id, 'submit', tok.customer, { comment: 'live' })).status).toBe(200);
      const message = await c.next((m) => m.event === `orders/${id}`, 5000);
      expect(JSON.parse(message.data)).toMatchObject({ action: 'update', record: { id, status: 'submitted' } });
    } finally {
      c.close();
    }
  });

  it('outbound webhooks deliver a transition as an update that names the transition', async () => {
    const port = (receiver.address() as AddressInfo).port;
    const endpoint = await send(t, 'POST', '/api/webhooks', { auth: tok.su, body: { url: `http://127.0.0.1:${port}/orders`, collections: ['orders'], actions: ['update'], enabled: true } });
    expect(endpoint.status).toBe(200);
    try {
      const id = await newOrder('hooked');
      expect((await take(id, 'submit', tok.customer, { comment: 'go' })).status).toBe(200);
      await expect.poll(() => delivered.find((d) => d.data?.record?.id === id), { timeout: 10_000 }).toBeTruthy();
      const body = delivered.find((d) => d.data.record.id === id);
      expect(body).toMatchObject({ type: 'record.updated', data: { collectionName: 'orders', record: { status: 'submitted' }, previous: { status: 'draft' }, transition: { name: 'submit', from: 'draft', to: 'submitted', comment: 'go' } } });
    } finally {
      await send(t, 'DELETE', `/api/webhooks/${String(endpoint.body.id)}`, { auth: tok.su });
    }
  });

  it('a transition is an update: after-commit consumers see recordUpdated', async () => {
    const id = await newOrder('events');
    const updates: string[] = [];
    const off = t.app.events.on('recordUpdated', ({ record, previous }) => {
      if (record.values.id === id) updates.push(`${String(previous.values.status)}->${String(record.values.status)}`);
    });
    const res = await send(t, 'POST', `/api/collections/orders/records/${id}/transitions/submit?fields=id,status`, { auth: tok.customer, body: {} });
    expect(res.status).toBe(200);
    // Answered as a record update is: `fields` (and `expand`) apply.
    expect(res.body).toEqual({ id, status: 'submitted' });
    off?.();
    expect(updates).toEqual(['draft->submitted']);
  });
});

describe('refusals', () => {
  it('an unknown transition is a 400 naming the transitions', async () => {
    const id = await newOrder();
    const res = await take(id, 'teleport', tok.customer);
    expectError(res, 400);
    expect(res.body.message).toContain('"submit"');
    expect(res.body.data.name.code).toBe('validation_unknown_transition');
  });

  it('a transition not allowed from the current state is a 400 naming the allowed ones, and changes nothing', async () => {
    const id = await newOrder();
    const res = await take(id, 'ship', tok.customer);
    expectError(res, 400);
    expect(res.body.data.name.code).toBe('validation_transition_not_allowed');
    expect(res.body.message).toContain('"submit"');
    expect(res.body.message).toContain('"cancel"');
    expect(await stateOf(id)).toBe('draft');
    expect((await overview(id, tok.customer)).body.history).toEqual([]);
  });

  it('a rule miss is a 404 as the update rule answers (guest, customer approving); a locked update rule a 403', async () => {
    const id = await newOrder();
    expectError(await take(id, 'submit', ''), 404);
    expect((await take(id, 'submit', tok.customer)).status).toBe(200);
    expectError(await take(id, 'approve', tok.customer), 404);
    expect((await overview(id, tok.customer)).body.available.map((a: any) => a.name)).toEqual(['cancel']);
    expect((await overview(id, tok.manager1)).body.available.map((a: any) => a.name)).toEqual(['approve', 'cancel']);
    expect(await stateOf(id)).toBe('submitted');

    await createCollection(t, {
      name: 'locked',
      fields: [{ name: 'state', type: 'select', values: ['open', 'closed'], maxSelect: 1 }],
      viewRule: '',
      updateRule: null,
      workflow: { field: 'state', initial: 'open', transitions: [{ name: 'close', from: ['open'], to: 'closed' }] },
    });
    const rec = await t.app.hookApp().records('locked').create({});
    expectError(await take(String(rec.id), 'close', tok.customer, {}, 'locked'), 403);
    expect((await take(String(rec.id), 'close', tok.su, {}, 'locked')).body.state).toBe('closed');
  });

  it('a body with fields the transition does not set, or a bad comment, is a 400 and writes nothing', async () => {
    const id = await newOrder();
    const res = await take(id, 'submit', tok.customer, { title: 'renamed' });
    expectError(res, 400);
    expect(res.body.data.title.code).toBe('validation_transition_field_not_allowed');
    expectError(await take(id, 'submit', tok.customer, { status: 'paid' }), 400);
    expectError(await take(id, 'submit', tok.customer, { comment: 'x'.repeat(1001) }), 400);
    expect(await stateOf(id)).toBe('draft');
  });

  it('a hook refusing the transition rolls it back; a collection without a workflow has no transitions', async () => {
    const id = await newOrder('keep');
    const res = await take(id, 'cancel', tok.customer);
    expectError(res, 400);
    expect(res.body.message).toBe('This order cannot be cancelled.');
    expect(await stateOf(id)).toBe('draft');
    expect((await overview(id, tok.customer)).body.history).toEqual([]);
    expectError(await send(t, 'GET', `/api/collections/users/records/${ids.customer}/transitions`, { auth: tok.customer }), 404);
    expectError(await take(ids.customer, 'x', tok.customer, {}, 'users'), 404);
  });

  it('a webhook effect naming an endpoint that no longer exists is skipped: the transition goes on', async () => {
    await createCollection(t, {
      name: 'pings',
      fields: [{ name: 'state', type: 'select', values: ['new', 'sent'], maxSelect: 1 }],
      viewRule: '',
      workflow: { field: 'state', initial: 'new', transitions: [{ name: 'send', from: ['new'], to: 'sent', rule: '', effects: [{ webhook: 'endpoint1' }] }] },
    });
    const id = String((await t.app.hookApp().records('pings').create({})).id);
    expect((await take(id, 'send', '', {}, 'pings')).status).toBe(200);
    expect(await stateOf(id, 'pings')).toBe('sent');
    expect((await overview(id, '', 'pings')).body.history).toHaveLength(1);
  });

  it('two concurrent transitions of one record: exactly one wins, the other sees the new state', async () => {
    for (let round = 0; round < 3; round++) {
      const id = await newOrder(`race ${round}`);
      const results = await Promise.all([take(id, 'submit', tok.customer), take(id, 'submit', tok.customer), take(id, 'cancel', tok.customer)]);
      const statuses = results.map((r) => r.status).sort();
      // submit+submit: one wins; cancel is allowed from both draft and submitted, so it may win too.
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
      const history = (await overview(id, tok.customer)).body.history as { from: string; to: string }[];
      expect(history.filter((h) => h.to === 'submitted').length).toBeLessThanOrEqual(1);
      // Each entry starts where the previous one ended: no lost update.
      for (let i = 1; i < history.length; i++) expect(history[i]!.from).toBe(history[i - 1]!.to);
      expect(history[0]!.from).toBe('draft');
      for (const r of results.filter((x) => x.status !== 200)) expect(r.body.data.name.code).toBe('validation_transition_not_allowed');
    }
  });

  it('deleting a record deletes its history', async () => {
    const id = await newOrder();
    await take(id, 'submit', tok.customer);
    const count = async () => (await t.app.db.kysely.selectFrom(WORKFLOW_HISTORY_TABLE).select('id').where('recordRef', '=', id).execute()).length;
    expect(await count()).toBe(1);
    expect((await send(t, 'DELETE', `/api/collections/orders/records/${id}`, { auth: tok.su })).status).toBe(204);
    expect(await count()).toBe(0);
  });
});

describe('after timers', () => {
  beforeAll(async () => {
    await createCollection(t, {
      name: 'holds',
      fields: [{ name: 'state', type: 'select', values: ['held', 'released', 'expired'], maxSelect: 1 }],
      viewRule: '',
      workflow: {
        field: 'state',
        initial: 'held',
        transitions: [
          { name: 'release', from: ['held'], to: 'released', rule: '' },
          { name: 'rehold', from: ['released'], to: 'held', rule: '' },
          { name: 'expire', from: ['held'], to: 'expired', after: '1s' },
        ],
      },
    });
    await createCollection(t, {
      name: 'offers',
      fields: [
        { name: 'state', type: 'select', values: ['open', 'expired'], maxSelect: 1 },
        { name: 'expiresAt', type: 'date' },
      ],
      viewRule: '',
      workflow: { field: 'state', initial: 'open', transitions: [{ name: 'expire', from: ['open'], to: 'expired', after: { field: 'expiresAt' } }] },
    });
  });

  const timerRuns = async () => (await t.app.jobs.stats()).names['basalt.workflow.timer']?.completed ?? 0;

  it('fires by itself after the duration, as Basalt; a record that left the state first is not touched', async () => {
    const before = await timerRuns();
    const waiting = String((await t.app.hookApp().records('holds').create({})).id);
    const left = String((await t.app.hookApp().records('holds').create({})).id);
    expect((await take(left, 'release', '', {}, 'holds')).status).toBe(200);
    await expect.poll(timerRuns, { timeout: 15_000, interval: 100 }).toBe(before + 2);
    expect(await stateOf(waiting, 'holds')).toBe('expired');
    expect(await stateOf(left, 'holds')).toBe('released');
    const history = (await overview(waiting, '', 'holds')).body.history;
    expect(history).toMatchObject([{ transition: 'expire', from: 'held', to: 'expired', by: null, comment: '' }]);
    expect((await overview(left, '', 'holds')).body.history.map((h: any) => h.transition)).toEqual(['release']);
  });

  it('a timer of an earlier stay in the state is a no-op: leaving and coming back sets a new one', async () => {
    const id = String((await t.app.hookApp().records('holds').create({})).id);
    const holds = t.app.registry.find('holds')!;
    const marker = async () => String((await t.app.db.kysely.selectFrom('_workflowStates').select('entry').where('recordRef', '=', id).execute())[0]?.entry);
    const first = await marker();
    expect((await take(id, 'release', '', {}, 'holds')).status).toBe(200);
    expect((await take(id, 'rehold', '', {}, 'holds')).status).toBe(200);
    expect(await marker()).not.toBe(first);
    // The first stay's timer, run now: the record is "held" again, but not in the stay it was set for.
    await t.app.workflows.runTimer({ collectionId: holds.id, recordId: id, transition: 'expire', entry: first });
    expect(await stateOf(id, 'holds')).toBe('held');
    await t.app.workflows.runTimer({ collectionId: holds.id, recordId: id, transition: 'expire', entry: await marker() });
    expect(await stateOf(id, 'holds')).toBe('expired');
  });

  it('fires at a date field\'s time; an empty date sets no timer', async () => {
    const soon = new Date(t.app.clock.now() + 300).toISOString().replace('T', ' ');
    const dated = String((await t.app.hookApp().records('offers').create({ expiresAt: soon })).id);
    const undated = String((await t.app.hookApp().records('offers').create({})).id);
    await expect.poll(() => stateOf(dated, 'offers'), { timeout: 15_000, interval: 100 }).toBe('expired');
    expect(await stateOf(undated, 'offers')).toBe('open');
    const timers = await t.app.db.kysely.selectFrom('_jobs').select('payload').where('name', '=', 'basalt.workflow.timer').execute();
    expect(timers.some((j) => String(j.payload).includes(dated))).toBe(true);
    expect(timers.some((j) => String(j.payload).includes(undated))).toBe(false);
  });
});
