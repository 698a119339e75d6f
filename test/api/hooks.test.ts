/**
 * Record hooks (core/hooks): order and e.next(), changes to e.record, refusal with field errors,
 * writes in before-hooks committed or rolled back with the write, after-success and after-error
 * hooks, request hooks answering in place of the action, batch and cascades seeing the same hooks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, BadRequestError, ForbiddenError } from '../../src/public-api.js';
import { addHooks, createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { multipart, urlencoded } from './records-helpers.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let admin: string;
const log: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  admin = (await createSuperuser(t)).token;
  await send(t, 'PATCH', '/api/settings', { auth: admin, body: { batch: { enabled: true } } });
  await createCollection(t, { name: 'products', fields: [{ name: 'name', type: 'text', required: true }, { name: 'stock', type: 'number', onlyInt: true, min: 0 }], createRule: '', listRule: '', viewRule: '', updateRule: '' });
  await createCollection(t, { name: 'audit', fields: [{ name: 'what', type: 'text' }] });
  const products = t.app.registry.find('products')!;
  await createCollection(t, { name: 'reviews', fields: [{ name: 'text', type: 'text' }, { name: 'product', type: 'relation', collectionId: products.id, cascadeDelete: true, maxSelect: 1 }], createRule: '', deleteRule: '' });
  await createCollection(t, { name: 'notes', fields: [{ name: 'title', type: 'text' }], createRule: '', listRule: '', deleteRule: '' });

  addHooks(t, (app) => {
    app.onRecordCreate(async (e) => {
      log.push(`first before ${e.record.getString('name')}`);
      await e.next();
      log.push(`first after ${e.record.id !== ''}`);
    }, 'products');
    app.onRecordCreate(async (e) => {
      log.push('second before');
      e.record.set('name', e.record.getString('name').toUpperCase());
      await e.next();
      log.push('second after');
    }, 'products');
    app.onRecordValidate(async (e) => {
      if (e.record.getString('name').includes('FORBIDDEN')) throw new BadRequestError('Failed to create record.', { name: { code: 'validation_forbidden_word', message: 'That word is not allowed.' } });
      await e.next();
    }, 'products');
    app.onRecordAfterCreateSuccess(async (e) => {
      log.push(`committed ${e.record.getString('name')}`);
      await e.next();
    }, 'products');
    app.onRecordAfterCreateError(async (e) => {
      log.push(`failed ${(e.error as ApiError).status}`);
      await e.next();
    }, 'products');
    // Writes of a before-hook share the write's transaction.
    app.onRecordCreate(async (e) => {
      await e.app.records('audit').create({ what: `note ${e.record.getString('title')}` });
      await e.next();
      if (e.record.getString('title') === 'explode after') throw new Error('internal detail: boom');
    }, 'notes');
    app.onRecordCreateRequest(async (e) => {
      if (e.record.getString('title') === 'teapot') return e.json(418, { short: 'and stout', by: e.auth?.id ?? 'guest' });
      await e.next();
    }, 'notes');
    app.onRecordDelete(async (e) => {
      log.push(`delete ${e.collection.name}`);
      await e.next();
    }, 'reviews', 'products');
  });
});
afterAll(async () => {
  await t?.close();
});

const audits = async () => (await t.app.hookApp().records('audit').getList(1, 100)).items.map((r) => r.what);

describe('record hooks', () => {
  it('run in order around the write, each before and after e.next(), and may change e.record', async () => {
    log.length = 0;
    const res = await send(t, 'POST', '/api/collections/products/records', { body: { name: 'lamp', stock: 3 } });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('LAMP');
    expect(log).toEqual(['first before lamp', 'second before', 'second after', 'first after true', 'committed LAMP']);
  });

  it('a hook refuses with field errors: the client gets them in the standard shape, and after-error hooks run', async () => {
    log.length = 0;
    const res = await send(t, 'POST', '/api/collections/products/records', { body: { name: 'forbidden thing' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ status: 400, message: 'Failed to create record.', data: { name: { code: 'validation_forbidden_word', message: 'That word is not allowed.' } } });
    expect(log).toContain('failed 400');
    expect(log.some((l) => l.startsWith('committed'))).toBe(false);
  });

  it('what a before-hook writes through e.app commits with the record', async () => {
    const res = await send(t, 'POST', '/api/collections/notes/records', { body: { title: 'kept' } });
    expect(res.status).toBe(200);
    expect(await audits()).toContain('note kept');
  });

  it('a hook that throws a plain error: 500 with nothing leaked, and its writes and the record rolled back', async () => {
    const res = await send(t, 'POST', '/api/collections/notes/records', { body: { title: 'explode after' } });
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('boom');
    expect(await audits()).not.toContain('note explode after');
    const list = await send(t, 'GET', `/api/collections/notes/records?filter=${encodeURIComponent("title='explode after'")}`);
    expect(list.body.totalItems).toBe(0);
  });

  it('a request hook may answer in place of the action (e.json): nothing is written', async () => {
    const res = await send(t, 'POST', '/api/collections/notes/records', { body: { title: 'teapot' } });
    expect(res.status).toBe(418);
    expect(res.body).toEqual({ short: 'and stout', by: 'guest' });
    const list = await send(t, 'GET', `/api/collections/notes/records?filter=${encodeURIComponent("title='teapot'")}`);
    expect(list.body.totalItems).toBe(0);
  });

  it('batch sub-requests see the same hooks, inside the batch transaction', async () => {
    log.length = 0;
    const res = await send(t, 'POST', '/api/batch', {
      auth: admin,
      body: { requests: [{ method: 'POST', url: '/api/collections/products/records', body: { name: 'desk' } }, { method: 'POST', url: '/api/collections/notes/records', body: { title: 'teapot' } }] },
    });
    expect(res.status).toBe(200);
    expect(res.body[0].body.name).toBe('DESK');
    expect(res.body[1]).toEqual({ status: 418, body: { short: 'and stout', by: expect.any(String) } });
  });

  it('a failing batch rolls back what the hooks wrote in it', async () => {
    const res = await send(t, 'POST', '/api/batch', {
      auth: admin,
      body: { requests: [{ method: 'POST', url: '/api/collections/notes/records', body: { title: 'batched' } }, { method: 'POST', url: '/api/collections/products/records', body: { name: '' } }] },
    });
    expect(res.status).toBe(400);
    expect(await audits()).not.toContain('note batched');
  });

  it('cascaded deletes run the delete hooks of each record', async () => {
    const p = await t.app.hookApp().records('products').create({ name: 'chair' });
    await t.app.hookApp().records('reviews').create({ text: 'comfy', product: p.id });
    log.length = 0;
    const res = await send(t, 'DELETE', `/api/collections/products/records/${String(p.id)}`, { auth: admin });
    expect(res.status).toBe(204);
    expect(log).toEqual(['delete products', 'delete reviews']);
  });
});

describe('e.app', () => {
  it('reads with filters and {:params} bound as literals, never as filter text', async () => {
    const app = t.app.hookApp();
    await app.records('products').create({ name: "o'clock \" && 1=1" });
    const found = await app.records('products').getFirst('name = {:name}', { params: { name: 'O\'CLOCK " && 1=1' } });
    expect(found?.name).toBe('O\'CLOCK " && 1=1');
    expect(await app.records('products').getFirst('name = {:name}', { params: { name: "x' || name != '" } })).toBeNull();
    await expect(app.records('products').getFirst('name = {:missing}')).rejects.toThrow('no parameter "missing"');
  });

  it('acts as a given auth record with the rules applying', async () => {
    const app = t.app.hookApp();
    // audit has no rules set (superusers only): a user is refused, Basalt itself is not.
    const user = await app.records('users').create({ email: 'u1@example.com', password: 'password123', passwordConfirm: 'password123' });
    const asUser = { as: t.app.registry.find('users') ? { collection: t.app.registry.find('users')!, values: { ...user } } : null };
    await expect(app.records('audit').getList(1, 10, asUser)).rejects.toMatchObject({ status: 403 });
    expect((await app.records('audit').getList(1, 1)).page).toBe(1);
  });

  it('runInTransaction commits or rolls back together', async () => {
    const app = t.app.hookApp();
    await expect(
      app.runInTransaction(async (tx) => {
        await tx.records('audit').create({ what: 'tx-rolled-back' });
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    await app.runInTransaction(async (tx) => {
      await tx.records('audit').create({ what: 'tx-committed' });
    });
    const all = await audits();
    expect(all).toContain('tx-committed');
    expect(all).not.toContain('tx-rolled-back');
  });
});

describe('cronAdd from hook code', () => {
  it('is listed and run by the crons API, with e.app; a malformed expression is refused with its source, changing nothing', async () => {
    const ran: string[] = [];
    addHooks(t, (app) => {
      app.cronAdd('hooks-report', '0 3 * * *', async ({ app: hookApp, tick }) => {
        await hookApp.records('audit').create({ what: `cron ${tick === null ? 'manual' : 'tick'}` });
        ran.push('ran');
      });
    });
    const list = await send(t, 'GET', '/api/crons', { auth: admin });
    expect(list.body).toContainEqual({ id: 'hooks-report', expression: '0 3 * * *' });
    expect((await send(t, 'POST', '/api/crons/hooks-report', { auth: admin })).status).toBe(204);
    await expect.poll(() => ran.length).toBe(1);
    expect(await audits()).toContain('cron manual');
    expect(() => addHooks(t, (app) => app.cronAdd('hooks-bad', '61 * * * *', () => {}))).toThrow(/test: .*hooks-bad/);
    expect((await send(t, 'GET', '/api/crons', { auth: admin })).body.some((c: { id: string }) => c.id === 'hooks-bad')).toBe(false);
  });
});

describe('onRecordEnrich', () => {
  it('adds computed fields and hides others in every answer (list, view, expand), per caller', async () => {
    await createCollection(t, { name: 'gadgets', fields: [{ name: 'name', type: 'text' }, { name: 'cost', type: 'number' }], listRule: '', viewRule: '' });
    const gadgets = t.app.registry.find('gadgets')!;
    await createCollection(t, { name: 'parts', fields: [{ name: 'gadget', type: 'relation', collectionId: gadgets.id, maxSelect: 1 }], listRule: '', viewRule: '' });
    addHooks(t, (app) => {
      app.onRecordEnrich(async (e) => {
        e.record.set('label', `${String(e.record.get('name'))} (${e.collection.name})`);
        if (!e.requestInfo().auth) e.record.hide('cost');
        await e.next();
      }, 'gadgets');
    });
    const g = await t.app.hookApp().records('gadgets').create({ name: 'widget', cost: 7 });
    await t.app.hookApp().records('parts').create({ gadget: g.id });
    const list = await send(t, 'GET', '/api/collections/gadgets/records');
    expect(list.body.items[0]).toMatchObject({ name: 'widget', label: 'widget (gadgets)' });
    expect(list.body.items[0]).not.toHaveProperty('cost');
    const asAdmin = await send(t, 'GET', `/api/collections/gadgets/records/${String(g.id)}`, { auth: admin });
    expect(asAdmin.body).toMatchObject({ cost: 7, label: 'widget (gadgets)' });
    const expanded = await send(t, 'GET', '/api/collections/parts/records?expand=gadget&fields=expand.gadget.label');
    expect(expanded.body.items[0]).toEqual({ expand: { gadget: { label: 'widget (gadgets)' } } });
  });
});

describe('onRecordAuthRequest', () => {
  it('changes the sign-in answer, or refuses it', async () => {
    addHooks(t, (app) => {
      app.onRecordAuthRequest(async (e) => {
        if (e.record.getString('email') === 'blocked@example.com') throw new ForbiddenError('This account is suspended.');
        e.meta = { greeting: `hi ${e.record.getString('email')}`, via: e.authMethod };
        await e.next();
      }, 'users');
    });
    for (const email of ['fine@example.com', 'blocked@example.com']) await t.app.hookApp().records('users').create({ email, password: 'password123', passwordConfirm: 'password123' });
    const ok = await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'fine@example.com', password: 'password123' } });
    expect(ok.status).toBe(200);
    expect(ok.body.meta).toEqual({ greeting: 'hi fine@example.com', via: 'password' });
    expect(typeof ok.body.token).toBe('string');
    const refused = await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'blocked@example.com', password: 'password123' } });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ status: 403, message: 'This account is suspended.', data: {} });
  });
});

describe('custom routes', () => {
  it('stream an answer (server-sent events), and fall under the rate-limit rules of their path', async () => {
    addHooks(t, (app) => {
      app.routerAdd('GET', '/api/ticks', (e) => {
        async function* ticks() {
          for (let i = 1; i <= 3; i++) yield `data: ${i}\n\n`;
        }
        e.stream(200, 'text/event-stream', ticks(), { 'cache-control': 'no-store' });
      });
    });
    const res = await send(t, 'GET', '/api/ticks');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.raw).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\n');

    const rules = [{ label: '/api/ticks', maxRequests: 2, duration: 60, audience: '' }];
    expect((await send(t, 'PATCH', '/api/settings', { auth: admin, body: { rateLimits: { enabled: true, rules } } })).status).toBe(200);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(t, 'GET', '/api/ticks')).status);
      expect(statuses).toEqual([200, 200, 429, 429]);
    } finally {
      await send(t, 'PATCH', '/api/settings', { auth: admin, body: { rateLimits: { enabled: false } } });
    }
  });

  it('read JSON, form and multipart bodies (files included), and requestInfo()', async () => {
    addHooks(t, (app) => {
      app.routerAdd('POST', '/api/echo', (e) => {
        const body = e.body as Record<string, unknown>;
        const files = (body.files as { field: string; filename: string; data: Buffer }[] | undefined) ?? [];
        return {
          fields: Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'files')),
          files: files.map((f) => ({ field: f.field, name: f.filename, size: f.data.length })),
          method: e.requestInfo().method,
          query: e.requestInfo().query,
        };
      });
    });
    const json = await send(t, 'POST', '/api/echo?x=1', { body: { a: 1, list: [1, 2] } });
    expect(json.body).toEqual({ fields: { a: 1, list: [1, 2] }, files: [], method: 'POST', query: { x: '1' } });
    const form = urlencoded({ a: 'one', b: 'two' });
    expect((await send(t, 'POST', '/api/echo', { body: form.body, headers: form.headers })).body.fields).toEqual({ a: 'one', b: 'two' });
    const mp = multipart([['note', 'hi'], ['doc', { filename: 'a.txt', contentType: 'text/plain', content: 'hello' }]]);
    const res = await send(t, 'POST', '/api/echo', { body: mp.body, headers: mp.headers });
    expect(res.body.fields).toEqual({ note: 'hi' });
    expect(res.body.files).toEqual([{ field: 'doc', name: 'a.txt', size: 5 }]);
  });
});

