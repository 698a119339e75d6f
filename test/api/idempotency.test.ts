/**
 * `Idempotency-Key` (docs/idempotency.md): record creates, updates and deletes, batch and custom
 * routes retried with the same key get the first answer (`Idempotent-Replayed: true`) and write
 * once; the key with another request is a 422; a retry while the first runs waits for it, or
 * gets a 409 past the wait; callers never share answers; 4xx answers replay, 5xx ones do not;
 * answers expire after 24 hours and the built-in cron prunes them; a committed write whose answer
 * was lost is never run again.
 */
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addHooks, createAuthRecord, createCollection, createSuperuser } from '../harness/fixtures.js';
import { ManualClock } from '../harness/manual-clock.js';
import { send, type ScenarioResponse } from '../harness/scenario.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';
import { multipart } from './records-helpers.js';
import { IDEMPOTENCY_TABLE } from '../../src/core/internal-tables.js';
import { principalScope, requestFingerprint, scopeId } from '../../src/core/idempotency/idempotency-key.js';
import { GUEST } from '../../src/core/auth/principal.js';

let t: TestApp;
let clock: ManualClock;
let admin: string;
let alice: string;
let bob: string;
let keyCounter = 0;
/** A fresh key per test step (the tests share one app). */
const newKey = () => `key-${++keyCounter}-${Math.random().toString(36).slice(2)}`;

/** Gates of the `slow` collection's create hook: a create waits until its title's gate opens. */
const gates = new Map<string, { entered: () => void; open: Promise<void> }>();
let flaky = 0;
let charges = 0;

/** Holds the next create of a `slow` record titled `title` inside its write until `open()`. */
function gate(title: string): { isIn: Promise<void>; open: () => void } {
  let entered!: () => void;
  let open!: () => void;
  const isIn = new Promise<void>((r) => (entered = r));
  gates.set(title, { entered, open: new Promise<void>((r) => (open = r)) });
  return { isIn, open };
}
const key = (k: string) => ({ 'idempotency-key': k });
const count = async (collection: string) => (await send(t, 'GET', `/api/collections/${collection}/records`, { auth: admin })).body.totalItems as number;
const storedRows = async () => Number((await t.app.db.kysely.selectFrom(IDEMPOTENCY_TABLE).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

function expectReplayOf(first: ScenarioResponse, retry: ScenarioResponse): void {
  expect(first.headers['idempotent-replayed']).toBeUndefined();
  expect(retry.headers['idempotent-replayed']).toBe('true');
  expect(retry.status).toBe(first.status);
  expect(retry.raw).toBe(first.raw);
  expect(retry.headers['content-type']).toBe(first.headers['content-type']);
}

function expectError(res: ScenarioResponse, status: number, code?: string): void {
  expect(res.status, res.raw).toBe(status);
  expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  expect(res.body.status).toBe(status);
  if (code) expect(res.body.data.idempotencyKey.code).toBe(code);
}

beforeAll(async () => {
  clock = new ManualClock(Date.parse('2030-01-01T00:00:00.000Z'));
  // A short query deadline: a retry waits that long for the first request before its 409.
  t = await startTestApp({ deps: { clock }, config: { queryTimeoutMs: 1000 } });
  admin = (await createSuperuser(t)).token;
  await send(t, 'PATCH', '/api/settings', { auth: admin, body: { batch: { enabled: true } } });
  const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
  await createCollection(t, { name: 'orders', ...open, fields: [{ name: 'item', type: 'text', required: true }, { name: 'qty', type: 'number' }, { name: 'receipt', type: 'file', maxSelect: 1 }] });
  await createCollection(t, { name: 'slow', ...open, fields: [{ name: 'title', type: 'text' }] });
  await createCollection(t, { name: 'members', type: 'auth', ...open, fields: [] });
  await createCollection(t, {
    name: 'tickets',
    ...open,
    fields: [{ name: 'state', type: 'select', values: ['open', 'closed'], maxSelect: 1 }],
    workflow: { field: 'state', initial: 'open', transitions: [{ name: 'close', from: ['open'], to: 'closed' }, { name: 'reopen', from: ['closed'], to: 'open' }] },
  });
  await createCollection(t, { name: 'big', ...open, fields: [{ name: 'text', type: 'text', max: 2_000_000 }] });
  alice = (await createAuthRecord(t, 'members', { email: 'alice@example.com' })).token;
  bob = (await createAuthRecord(t, 'members', { email: 'bob@example.com' })).token;
  addHooks(t, (app) => {
    app.onRecordCreate(async (e) => {
      const gate = gates.get(e.record.getString('title'));
      if (gate) {
        gate.entered();
        await gate.open;
      }
      await e.next();
    }, 'slow');
    app.onRecordCreate(async (e) => {
      // Fails with a 500 the first time only: a retry must run again.
      if (e.record.getString('item') === 'flaky' && flaky++ === 0) throw new Error('internal detail: transient failure');
      await e.next();
    }, 'orders');
    app.routerAdd('POST', '/api/charge', async (e) => {
      charges++;
      const body = e.body as { amount?: number };
      if (typeof body.amount !== 'number') return e.json(400, { status: 400, message: 'Missing amount.', data: {} });
      await e.app.records('orders').create({ item: `charge ${body.amount}`, qty: body.amount });
      return { charged: body.amount, n: charges };
    });
    app.routerAdd('POST', '/api/big', () => {
      charges++;
      return { blob: 'x'.repeat(1_100_000) };
    });
    app.routerAdd('POST', '/api/receipt', (e) => {
      e.string(201, `receipt ${(e.body as { n?: number }).n ?? 0}`);
    });
  });
});

afterAll(async () => {
  await t?.close();
});

describe('Idempotency-Key on record writes', () => {
  it('a create retried with the same key through the SDK writes one record and answers the same', async () => {
    const pb = new PocketBase(await listenOnLoopback(t));
    pb.autoCancellation(false);
    const k = newKey();
    const before = await count('orders');
    const first = await pb.collection('orders').create({ item: 'book', qty: 2 }, { headers: { 'Idempotency-Key': k } });
    const again = await pb.collection('orders').create({ item: 'book', qty: 2 }, { headers: { 'Idempotency-Key': k } });
    expect(again).toEqual(first);
    expect(await count('orders')).toBe(before + 1);
    // Files through the SDK: multipart with a new random boundary on each send, still one request.
    const k2 = newKey();
    const upload = () => pb.collection('orders').create({ item: 'scan', receipt: new Blob(['%PDF-1.4 receipt'], { type: 'application/pdf' }) }, { headers: { 'Idempotency-Key': k2 } });
    const withFile = await upload();
    expect(await upload()).toEqual(withFile);
    expect(withFile.receipt).toMatch(/\.pdf$/);
    expect(await count('orders')).toBe(before + 2);
  });

  it('the retry carries Idempotent-Replayed: true and the stored status, body and content type', async () => {
    const k = newKey();
    const first = await send(t, 'POST', '/api/collections/orders/records?fields=id,item', { body: { item: 'pen' }, headers: key(k) });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['id', 'item']);
    const retry = await send(t, 'POST', '/api/collections/orders/records?fields=id,item', { body: { item: 'pen' }, headers: key(k) });
    expectReplayOf(first, retry);
  });

  it('the same fields in another order are the same request; multipart with another boundary too', async () => {
    const k = newKey();
    const first = await send(t, 'POST', '/api/collections/orders/records', { body: '{"item":"cup","qty":1}', headers: { ...key(k), 'content-type': 'application/json' } });
    const retry = await send(t, 'POST', '/api/collections/orders/records', { body: '{"qty":1,"item":"cup"}', headers: { ...key(k), 'content-type': 'application/json' } });
    expectReplayOf(first, retry);
    const k2 = newKey();
    const one = multipart([['item', 'mug'], ['receipt', { filename: 'r.txt', contentType: 'text/plain', content: 'paid' }]], 'boundaryAAA');
    const two = multipart([['item', 'mug'], ['receipt', { filename: 'r.txt', contentType: 'text/plain', content: 'paid' }]], 'boundaryBBB');
    const m1 = await send(t, 'POST', '/api/collections/orders/records', { body: one.body, headers: { ...one.headers, ...key(k2) } });
    expect(m1.status, m1.raw).toBe(200);
    expectReplayOf(m1, await send(t, 'POST', '/api/collections/orders/records', { body: two.body, headers: { ...two.headers, ...key(k2) } }));
    // Another file content under the same key is another request.
    const three = multipart([['item', 'mug'], ['receipt', { filename: 'r.txt', contentType: 'text/plain', content: 'PAID' }]], 'boundaryCCC');
    expectError(await send(t, 'POST', '/api/collections/orders/records', { body: three.body, headers: { ...three.headers, ...key(k2) } }), 422, 'validation_idempotency_key_reused');
  });

  it('the key with a different body, query or method is a 422 and writes nothing', async () => {
    const k = newKey();
    expect((await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'lamp' }, headers: key(k) })).status).toBe(200);
    const before = await count('orders');
    expectError(await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'lamp', qty: 9 }, headers: key(k) }), 422, 'validation_idempotency_key_reused');
    expectError(await send(t, 'POST', '/api/collections/orders/records?expand=x', { body: { item: 'lamp' }, headers: key(k) }), 422, 'validation_idempotency_key_reused');
    expect(await count('orders')).toBe(before);
  });

  it('an update retried applies once', async () => {
    const created = await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'stock', qty: 10 } });
    const k = newKey();
    const url = `/api/collections/orders/records/${created.body.id}`;
    const first = await send(t, 'PATCH', url, { body: { 'qty+': 5 }, headers: key(k) });
    expect(first.body.qty).toBe(15);
    const retry = await send(t, 'PATCH', url, { body: { 'qty+': 5 }, headers: key(k) });
    expectReplayOf(first, retry);
    expect((await send(t, 'GET', url)).body.qty).toBe(15);
    // Without a key, the same request is a new update.
    expect((await send(t, 'PATCH', url, { body: { 'qty+': 5 } })).body.qty).toBe(20);
  });

  it('a delete retried answers 204 again instead of a 404', async () => {
    const created = await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'gone' } });
    const k = newKey();
    const url = `/api/collections/orders/records/${created.body.id}`;
    const first = await send(t, 'DELETE', url, { headers: key(k) });
    expect(first.status).toBe(204);
    const retry = await send(t, 'DELETE', url, { headers: key(k) });
    expectReplayOf(first, retry);
    expect((await send(t, 'DELETE', url)).status).toBe(404);
  });

  it('a workflow transition retried is taken once', async () => {
    const ticket = await send(t, 'POST', '/api/collections/tickets/records', { body: {} });
    const url = `/api/collections/tickets/records/${ticket.body.id}/transitions/close`;
    const k = newKey();
    const first = await send(t, 'POST', url, { body: { comment: 'done' }, headers: key(k) });
    expect(first.status, first.raw).toBe(200);
    expect(first.body.state).toBe('closed');
    expectReplayOf(first, await send(t, 'POST', url, { body: { comment: 'done' }, headers: key(k) }));
    expect((await send(t, 'GET', `/api/collections/tickets/records/${ticket.body.id}/transitions`)).body.history).toHaveLength(1);
    // Without the key, the same transition again is refused: the ticket is closed already.
    expect((await send(t, 'POST', url, { body: { comment: 'done' } })).status).toBe(400);
  });

  it('auth-collection sign-ups take the key too', async () => {
    const k = newKey();
    const body = { email: 'carol@example.com', password: 'password123', passwordConfirm: 'password123' };
    const first = await send(t, 'POST', '/api/collections/members/records', { body, headers: key(k) });
    expect(first.status, first.raw).toBe(200);
    expectReplayOf(first, await send(t, 'POST', '/api/collections/members/records', { body, headers: key(k) }));
  });
});

describe('concurrent duplicates', () => {

  it('a retry while the first runs waits for it and gets its answer: one write', async () => {
    const g = gate('together');
    const k = newKey();
    const first = send(t, 'POST', '/api/collections/slow/records', { body: { title: 'together' }, headers: key(k) });
    await g.isIn; // the first holds the key and is inside its write
    const second = send(t, 'POST', '/api/collections/slow/records', { body: { title: 'together' }, headers: key(k) });
    setTimeout(g.open, 100);
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(200);
    expectReplayOf(a, b);
    expect(await count('slow')).toBe(1);
  });

  it('past the wait (the query deadline) the retry gets a 409; once the first ends, its answer', async () => {
    const g = gate('long');
    const k = newKey();
    const first = send(t, 'POST', '/api/collections/slow/records', { body: { title: 'long' }, headers: key(k) });
    await g.isIn;
    expectError(await send(t, 'POST', '/api/collections/slow/records', { body: { title: 'long' }, headers: key(k) }), 409, 'idempotency_key_in_progress');
    g.open();
    const a = await first;
    expectReplayOf(a, await send(t, 'POST', '/api/collections/slow/records', { body: { title: 'long' }, headers: key(k) }));
    expect(await count('slow')).toBe(2);
  });
});

describe('callers', () => {
  it('a guest, two users and a superuser with the same key each get their own write', async () => {
    const k = newKey();
    const before = await count('orders');
    const answers = [];
    for (const auth of [undefined, alice, bob, admin]) {
      const res = await send(t, 'POST', '/api/collections/orders/records', { auth, body: { item: 'shared key' }, headers: key(k) });
      expect(res.status).toBe(200);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      answers.push(res.body.id);
    }
    expect(new Set(answers).size).toBe(4);
    expect(await count('orders')).toBe(before + 4);
    // Each one's retry is its own answer.
    expect((await send(t, 'POST', '/api/collections/orders/records', { auth: bob, body: { item: 'shared key' }, headers: key(k) })).body.id).toBe(answers[2]);
  });
});

describe('errors', () => {
  it('a validation 400 is stored and replayed', async () => {
    const k = newKey();
    const first = await send(t, 'POST', '/api/collections/orders/records', { body: { qty: 1 }, headers: key(k) });
    expectError(first, 400);
    expect(first.body.data.item.code).toBe('validation_required');
    expectReplayOf(first, await send(t, 'POST', '/api/collections/orders/records', { body: { qty: 1 }, headers: key(k) }));
  });

  it('a 500 is not stored: the retry runs for real', async () => {
    const k = newKey();
    const before = await count('orders');
    expectError(await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'flaky' }, headers: key(k) }), 500);
    const retry = await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'flaky' }, headers: key(k) });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await count('orders')).toBe(before + 1);
  });

  it('a request refused by a rate limit (429) stores nothing: the retry runs', async () => {
    const rules = [{ label: '/api/collections/orders/records', maxRequests: 1, duration: 60, audience: '' }];
    expect((await send(t, 'PATCH', '/api/settings', { auth: admin, body: { rateLimits: { enabled: true, rules } } })).status).toBe(200);
    const k = newKey();
    try {
      expect((await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'limited' } })).status).toBe(200);
      expectError(await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'limited' }, headers: key(k) }), 429);
    } finally {
      await send(t, 'PATCH', '/api/settings', { auth: admin, body: { rateLimits: { enabled: false } } });
    }
    const retry = await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'limited' }, headers: key(k) });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['not ASCII', 'clé'],
    ['a control character', 'a\tb'],
  ])('an invalid key (%s) is a 400 and writes nothing', async (_name, bad) => {
    const before = await count('orders');
    const rows = await storedRows();
    const res = await t.server.inject({ method: 'POST', url: '/api/collections/orders/records', headers: { 'idempotency-key': bad, 'content-type': 'application/json' }, payload: JSON.stringify({ item: 'bad key' }) });
    expectError({ status: res.statusCode, body: JSON.parse(res.body), raw: res.body, headers: res.headers }, 400, 'validation_invalid_idempotency_key');
    expect(await count('orders')).toBe(before);
    expect(await storedRows()).toBe(rows);
  });

  it('a key of 255 printable characters is accepted; requests without a key store nothing', async () => {
    expect((await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'long key' }, headers: key('~'.repeat(255)) })).status).toBe(200);
    const rows = await storedRows();
    expect((await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'no key' } })).status).toBe(200);
    expect(await storedRows()).toBe(rows);
  });
});

describe('batch and custom routes', () => {
  it('a batch retried runs once', async () => {
    const k = newKey();
    const before = await count('orders');
    const body = { requests: [{ method: 'POST', url: '/api/collections/orders/records', body: { item: 'b1' } }, { method: 'POST', url: '/api/collections/orders/records', body: { item: 'b2' } }] };
    const first = await send(t, 'POST', '/api/batch', { body, headers: key(k) });
    expect(first.status, first.raw).toBe(200);
    expectReplayOf(first, await send(t, 'POST', '/api/batch', { body, headers: key(k) }));
    expect(await count('orders')).toBe(before + 2);
    expectError(await send(t, 'POST', '/api/batch', { body: { requests: body.requests.slice(0, 1) }, headers: key(k) }), 422);
  });

  it('a batch stopped by its timeout keeps nothing: the retry runs for real', async () => {
    expect((await send(t, 'PATCH', '/api/settings', { auth: admin, body: { batch: { enabled: true, timeout: 1 } } })).status).toBe(200);
    const g = gate('late');
    const k = newKey();
    const body = { requests: [{ method: 'POST', url: '/api/collections/slow/records', body: { title: 'late' } }] };
    const first = send(t, 'POST', '/api/batch', { body, headers: key(k) });
    await g.isIn;
    await new Promise((r) => setTimeout(r, 1200)); // past the batch's 1 s timeout
    g.open();
    const timedOut = await first;
    expectError(timedOut, 400);
    expect(timedOut.body.data.timeout.code).toBe('batch_timeout');
    gates.delete('late');
    expect((await send(t, 'PATCH', '/api/settings', { auth: admin, body: { batch: { enabled: true, timeout: 3 } } })).status).toBe(200);
    const before = await count('slow');
    const retry = await send(t, 'POST', '/api/batch', { body, headers: key(k) });
    expect(retry.status, retry.raw).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await count('slow')).toBe(before + 1);
  });

  it('a custom route retried runs once; its 4xx and text answers replay too', async () => {
    const k = newKey();
    const before = await count('orders');
    const ran = charges;
    const first = await send(t, 'POST', '/api/charge', { body: { amount: 5 }, headers: key(k) });
    expect(first.body).toEqual({ charged: 5, n: ran + 1 });
    expectReplayOf(first, await send(t, 'POST', '/api/charge', { body: { amount: 5 }, headers: key(k) }));
    expect(charges).toBe(ran + 1);
    expect(await count('orders')).toBe(before + 1);
    expectError(await send(t, 'POST', '/api/charge', { body: { amount: 6 }, headers: key(k) }), 422);

    const k2 = newKey();
    const bad = await send(t, 'POST', '/api/charge', { body: {}, headers: key(k2) });
    expectError(bad, 400);
    expectReplayOf(bad, await send(t, 'POST', '/api/charge', { body: {}, headers: key(k2) }));

    const k3 = newKey();
    const text = await send(t, 'POST', '/api/receipt', { body: { n: 7 }, headers: key(k3) });
    expect(text.status).toBe(201);
    expect(text.raw).toBe('receipt 7');
    expectReplayOf(text, await send(t, 'POST', '/api/receipt', { body: { n: 7 }, headers: key(k3) }));
  });
});

describe('answers over the 1 MiB cap', () => {
  it('a record write that committed is not run again: the retry gets a 409', async () => {
    const k = newKey();
    const body = { text: 'y'.repeat(1_100_000) };
    const first = await send(t, 'POST', '/api/collections/big/records', { body, headers: key(k) });
    expect(first.status).toBe(200);
    // The write marked the key `committed` in its own transaction; the answer was not stored.
    expectError(await send(t, 'POST', '/api/collections/big/records', { body, headers: key(k) }), 409, 'idempotency_answer_not_stored');
    expect(await count('big')).toBe(1);
  });

  it('a custom route (no write transaction to mark) gives its key back: the retry runs again', async () => {
    const k = newKey();
    const ran = charges;
    expect((await send(t, 'POST', '/api/big', { body: {}, headers: key(k) })).status).toBe(200);
    const retry = await send(t, 'POST', '/api/big', { body: {}, headers: key(k) });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(charges).toBe(ran + 2);
  });
});

describe('lifetime and crashes', () => {
  it('an answer is kept 24 hours; then the key is new again, and the cron prunes old rows', async () => {
    const k = newKey();
    const first = await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'day one' }, headers: key(k) });
    await clock.advance(24 * 60 * 60 * 1000 - 1000);
    expectReplayOf(first, await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'day one' }, headers: key(k) }));
    await clock.advance(2000);
    // Expired: the key may be used again, even with another body.
    const later = await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'day two' }, headers: key(k) });
    expect(later.status).toBe(200);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    await clock.advance(24 * 60 * 60 * 1000 + 1000);
    expect(await t.app.crons.runNow('__basaltIdempotencyCleanup__')).toBe('done');
    expect(await storedRows()).toBe(0);
  });

  /** Claims a guest create of `body` on `orders` as a node that then stopped would have left it. */
  async function leftByStoppedNode(k: string, body: Record<string, unknown>, committed: boolean): Promise<void> {
    const path = '/api/collections/orders/records';
    const principal = principalScope(GUEST);
    const scope = { id: scopeId(principal, 'POST', path, k), key: k, principal, route: `POST ${path}` };
    const outcome = await t.app.idempotency.claim(scope, requestFingerprint('POST', path, '', body));
    if (outcome.kind !== 'claimed') throw new Error(outcome.kind);
    if (committed) await t.app.idempotency.markCommitted(t.app.db, outcome.claim);
  }

  it('a claim abandoned before its write committed is taken over once its lease is over', async () => {
    const k = newKey();
    await leftByStoppedNode(k, { item: 'orphan' }, false);
    expectError(await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'orphan' }, headers: key(k) }), 409, 'idempotency_key_in_progress');
    await clock.advance(3 * 60 * 1000);
    const res = await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'orphan' }, headers: key(k) });
    expect(res.status).toBe(200);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a write that committed but lost its answer is never run again: 409', async () => {
    const k = newKey();
    const before = await count('orders');
    await leftByStoppedNode(k, { item: 'committed' }, true);
    await clock.advance(3 * 60 * 1000);
    expectError(await send(t, 'POST', '/api/collections/orders/records', { body: { item: 'committed' }, headers: key(k) }), 409, 'idempotency_answer_not_stored');
    expect(await count('orders')).toBe(before);
  });
});
