/**
 * `POST /api/batch` (spec §1.5), black-box through the HTTP stack: the settings switch, the four
 * record actions in one transaction, per-request expand/fields, rules per request, the failure
 * envelope with nothing persisted, the limits (count, body size, timeout), bad input, the rate
 * limit, and the real SDK's `createBatch()`. Runs on SQLite, and on PostgreSQL with
 * BASALT_TEST_DB=postgres.
 */
import type { AddressInfo } from 'node:net';
import PocketBase, { ClientResponseError } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchRunner } from '../../src/core/records/batch.js';
import { systemCaller } from '../../src/core/records/caller.js';
import type { RecordWriter } from '../../src/core/records/record-writer.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { formBody, type FormPart } from '../harness/form-body.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};

/** Fixed ids, so a batch can name a record it creates earlier in the same batch. */
const NEW_AUTHOR = 'newauthor000001';
const NEW_POST = 'newpost00000001';
const UPSERT_NEW = 'upsertnew000001';

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  tok.user = (await createAuthRecord(t, 'users', { email: 'user@example.com' })).token;
  const signedIn = '@request.auth.id != ""';
  const authors = await createCollection(t, {
    name: 'authors',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: signedIn,
    updateRule: signedIn,
    deleteRule: signedIn,
    fields: [{ name: 'name', type: 'text', required: true }],
  });
  await createCollection(t, {
    name: 'posts',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: signedIn,
    updateRule: signedIn,
    deleteRule: signedIn,
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'views', type: 'number' },
      { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
    ],
  });
  await createCollection(t, { name: 'locked', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }] });
  // Only a batch sub-request carrying X-Token: secret may create here.
  await createCollection(t, {
    name: 'tagged',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '@request.context = "batch" && @request.headers.x_token = "secret"',
    fields: [{ name: 'title', type: 'text' }],
  });
  // bcrypt at cost 13 (~0.4 s a hash): a few creates take longer than a 1 s batch timeout.
  await createCollection(t, { name: 'slow', type: 'base', listRule: '', viewRule: '', createRule: '', fields: [{ name: 'secret', type: 'password', cost: 13 }] });
  await createCollection(t, { name: 'post_titles', type: 'view', listRule: '', viewRule: '', viewQuery: 'SELECT id, title FROM posts' });
  ids.author = String((await createRecord(t, 'authors', { name: 'Existing' })).values.id);
  for (const name of ['p1', 'p2', 'p3']) ids[name] = String((await createRecord(t, 'posts', { title: name, views: 1 })).values.id);
});

afterAll(async () => {
  await t?.close();
});

type Sub = { method: string; url: string; headers?: Record<string, string>; body?: Record<string, unknown> };

/** `auth` '' sends the batch as a guest. */
const batch = (requests: unknown, auth: string = tok.su, url = '/api/batch') => send(t, 'POST', url, { auth, body: { requests } });
const settings = (batchPatch: Record<string, unknown>) => send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { batch: batchPatch } });
const titles = async (collection = 'posts') => {
  const res = await send(t, 'GET', `/api/collections/${collection}/records?perPage=500`, { auth: tok.su });
  if (!res.body.items) throw new Error(res.raw);
  // Sorted here: these collections have no created field to sort by.
  return (res.body.items as { id: string; title?: string; name?: string }[]).map((r) => r.title ?? r.name ?? r.id).sort();
};

/** A multipart batch, as the SDK sends it: `@jsonPayload` plus file parts. */
async function sendMultipart(parts: FormPart[], auth = tok.su) {
  const { payload, headers } = formBody(parts);
  const res = await t.server.inject({ method: 'POST', url: '/api/batch', headers: { ...headers, authorization: auth }, payload });
  return { status: res.statusCode, body: res.body === '' ? undefined : JSON.parse(res.body), raw: res.body };
}

/** The failure envelope of spec §1.5 for request `index`, with its own error as `response`. */
function expectFailedAt(res: { status: number; body: any }, index: number, response: { status: number; message?: string; data?: unknown }) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.message).toBe('Batch transaction failed.');
  expect(Object.keys(res.body.data.requests)).toEqual([String(index)]);
  const failed = res.body.data.requests[String(index)];
  expect(failed).toMatchObject({ code: 'batch_request_failed', message: 'Batch request failed.' });
  expect(Object.keys(failed.response).sort()).toEqual(['data', 'message', 'status']);
  expect(failed.response).toMatchObject(response);
}

describe('the batch switch (settings.batch)', () => {
  runScenarios(() => t, [
    {
      name: 'disabled by default: 403',
      method: 'POST',
      url: '/api/batch',
      auth: () => tok.su,
      body: { requests: [{ method: 'POST', url: '/api/collections/posts/records', body: { title: 'x' } }] },
      status: 403,
      expect: { message: 'Batch requests are not allowed.', data: {} },
    },
    {
      name: 'GET /api/settings shows PocketBase defaults',
      method: 'GET',
      url: '/api/settings',
      auth: () => tok.su,
      status: 200,
      check: (b) => expect(b.batch).toEqual({ enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 }),
    },
  ]);

  it('disabled: even an oversized body is the 403 (checked before the body is read), not a 413', async () => {
    expect((await settings({ maxBodySize: 100 })).status).toBe(200);
    try {
      const res = await batch([{ method: 'POST', url: '/api/collections/posts/records', body: { title: 'x'.repeat(1000) } }]);
      expect(res.status).toBe(403);
    } finally {
      expect((await settings({ maxBodySize: 0 })).status).toBe(200);
    }
  });

  it('enabled through PATCH /api/settings', async () => {
    const res = await settings({ enabled: true });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.batch).toEqual({ enabled: true, maxRequests: 50, timeout: 3, maxBodySize: 0 });
    await expect(titles()).resolves.toEqual(['p1', 'p2', 'p3']);
  });

  it('maxRequests 0 refuses every batch like a disabled one', async () => {
    // PocketBase: an enabled batch needs maxRequests; 0 is only valid while disabled.
    expect((await settings({ enabled: false, maxRequests: 0 })).status).toBe(200);
    expect((await settings({ enabled: true })).status).toBe(400);
    expect((await settings({ enabled: true, maxRequests: 50 })).status).toBe(200);
  });
});

describe('one transaction, four actions', () => {
  it('create, update, delete and both upsert branches, with expand and fields per request', async () => {
    const res = await batch([
      { method: 'POST', url: '/api/collections/authors/records', body: { id: NEW_AUTHOR, name: 'Ann' } },
      // The expand names the author written one request earlier, inside the same transaction.
      { method: 'POST', url: '/api/collections/posts/records?expand=author&fields=id,title,expand.author.name', body: { id: NEW_POST, title: 'new', author: NEW_AUTHOR } },
      { method: 'PATCH', url: `/api/collections/posts/records/${ids.p1}?fields=title,views`, body: { title: 'p1 updated', 'views+': 2 } },
      { method: 'DELETE', url: `/api/collections/posts/records/${ids.p2}` },
      { method: 'PUT', url: '/api/collections/posts/records', body: { id: UPSERT_NEW, title: 'upserted new' } },
      { method: 'put', url: '/api/collections/posts/records?fields=id,title', body: { id: ids.p3, title: 'p3 upserted' } },
      { method: 'PUT', url: '/api/collections/posts/records?fields=title', body: { title: 'upsert without id' } },
    ]);
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toHaveLength(7);
    expect(res.body[0]).toMatchObject({ status: 200, body: { id: NEW_AUTHOR, name: 'Ann', collectionName: 'authors' } });
    expect(res.body[1]).toEqual({ status: 200, body: { id: NEW_POST, title: 'new', expand: { author: { name: 'Ann' } } } });
    expect(res.body[2]).toEqual({ status: 200, body: { title: 'p1 updated', views: 3 } });
    expect(res.body[3]).toEqual({ status: 204, body: null });
    expect(res.body[4]).toMatchObject({ status: 200, body: { id: UPSERT_NEW, title: 'upserted new', collectionName: 'posts' } });
    expect(res.body[5]).toEqual({ status: 200, body: { id: ids.p3, title: 'p3 upserted' } });
    expect(res.body[6]).toEqual({ status: 200, body: { title: 'upsert without id' } });
    expect(await titles()).toEqual(['new', 'p1 updated', 'p3 upserted', 'upsert without id', 'upserted new']);
    expect(await titles('authors')).toEqual(['Ann', 'Existing']);
  });

  it('the batch request\'s own fields applies to the result array', async () => {
    const res = await batch([{ method: 'POST', url: '/api/collections/authors/records', body: { name: 'Fields' } }], tok.su, '/api/batch?fields=status');
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toEqual([{ status: 200 }]);
  });

  it('after-commit events fire once the batch commits, and never for a rolled-back batch', async () => {
    const created: string[] = [];
    const off = t.app.events.on('recordCreated', async (e) => {
      created.push(String(e.record.values.title));
    });
    try {
      const bad = await batch([
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'ev rolled back' } },
        { method: 'POST', url: '/api/collections/posts/records', body: {} },
      ]);
      expect(bad.status).toBe(400);
      expect(created).toEqual([]);
      const ok = await batch([
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'ev 1' } },
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'ev 2' } },
      ]);
      expect(ok.status).toBe(200);
      expect(created).toEqual(['ev 1', 'ev 2']);
    } finally {
      off();
    }
  });
});

describe('a failing request rolls back the whole batch', () => {
  const cases: [string, Sub[], number, { status: number; message?: string; data?: unknown }][] = [
    [
      'a missing record in the middle (404)',
      [
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'rb 1' } },
        { method: 'PATCH', url: '/api/collections/posts/records/doesnotexist123', body: { title: 'x' } },
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'rb 3' } },
      ],
      1,
      { status: 404, message: "The requested resource wasn't found.", data: {} },
    ],
    [
      'a validation error after an update and a delete',
      [
        { method: 'PATCH', url: `/api/collections/posts/records/${NEW_POST}`, body: { title: 'must not stay' } },
        { method: 'DELETE', url: `/api/collections/posts/records/${UPSERT_NEW}` },
        { method: 'POST', url: '/api/collections/posts/records', body: { views: 1 } },
      ],
      2,
      { status: 400, message: 'Failed to create record.', data: { title: { code: 'validation_required' } } },
    ],
    [
      'an unknown collection',
      [
        { method: 'POST', url: '/api/collections/authors/records', body: { name: 'rb author' } },
        { method: 'POST', url: '/api/collections/nope/records', body: {} },
      ],
      1,
      { status: 404, message: 'Missing collection context.' },
    ],
    [
      'a GET is not a batch action',
      [
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'rb get' } },
        { method: 'GET', url: '/api/collections/posts/records' },
      ],
      1,
      { status: 400, message: 'Unknown batch request action.', data: { url: { code: 'validation_batch_action_unsupported' } } },
    ],
    ['the collections API is not a batch action', [{ method: 'POST', url: '/api/collections', body: { name: 'evil', type: 'base' } }], 0, { status: 400, message: 'Unknown batch request action.' }],
    ['a record URL with a host is not a batch action', [{ method: 'POST', url: 'http://127.0.0.1/api/collections/posts/records', body: { title: 'x' } }], 0, { status: 400 }],
    ['DELETE without an id is not a batch action', [{ method: 'DELETE', url: '/api/collections/posts/records' }], 0, { status: 400 }],
    [
      'a unique violation (a duplicate id) after a create',
      [
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'rb dup' } },
        { method: 'POST', url: '/api/collections/posts/records', body: { id: NEW_POST, title: 'dup' } },
      ],
      1,
      { status: 400, message: 'Failed to create record.', data: { id: { code: 'validation_not_unique' } } },
    ],
    ['an invalid expand', [{ method: 'POST', url: '/api/collections/posts/records?expand=a..b', body: { title: 'x' } }], 0, { status: 400, message: 'Invalid "expand" parameter.' }],
    ['an invalid fields', [{ method: 'POST', url: '/api/collections/posts/records?fields=title:nope', body: { title: 'bad fields' } }], 0, { status: 400, message: 'Invalid "fields" parameter.' }],
    [
      'an upsert whose update fails',
      [{ method: 'PUT', url: '/api/collections/posts/records', body: { id: NEW_POST, title: '' } }],
      0,
      { status: 400, message: 'Failed to update record.', data: { title: { code: 'validation_required' } } },
    ],
    ['POST on a record URL is not a batch action', [{ method: 'POST', url: '/api/collections/posts/records/x', body: {} }], 0, { status: 400, message: 'Unknown batch request action.' }],
    ['a view collection cannot be written', [{ method: 'POST', url: '/api/collections/post_titles/records', body: { title: 'x' } }], 0, { status: 400, message: 'Unsupported collection type.' }],
    ['an upsert into a view collection', [{ method: 'PUT', url: '/api/collections/post_titles/records', body: { id: NEW_POST, title: 'x' } }], 0, { status: 400, message: 'Unsupported collection type.' }],
  ];
  for (const [name, requests, index, response] of cases) {
    it(name, async () => {
      const before = { posts: await titles(), authors: await titles('authors') };
      const res = await batch(requests);
      expectFailedAt(res, index, response);
      expect({ posts: await titles(), authors: await titles('authors') }).toEqual(before);
    });
  }

  it('over HTTP, a non-ApiError (a bug) is a bare 500 and nothing is written', async () => {
    const writer = t.app.records.writer;
    const create = writer.create;
    let calls = 0;
    writer.create = function (this: RecordWriter, ...args: Parameters<RecordWriter['create']>) {
      if (++calls === 2) return Promise.reject(new Error('boom: internal detail'));
      return create.apply(this, args);
    };
    try {
      const before = await titles();
      const res = await batch(['bug 1', 'bug 2'].map((title) => ({ method: 'POST', url: '/api/collections/posts/records', body: { title } })));
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ status: 500, message: 'Something went wrong while processing your request.', data: {} });
      expect(res.raw).not.toContain('boom');
      expect(await titles()).toEqual(before);
    } finally {
      writer.create = create;
    }
  });

  it('a non-ApiError (a bug) rolls back and is rethrown as it is (the error handler makes it a bare 500)', async () => {
    const writer = t.app.records.writer;
    let calls = 0;
    const failing = new Proxy(writer, {
      get(target, prop, receiver) {
        if (prop !== 'create') return Reflect.get(target, prop, receiver);
        return (...args: Parameters<RecordWriter['create']>) => {
          if (++calls === 2) throw new Error('boom: internal detail');
          return target.create(...args);
        };
      },
    });
    const runner = new BatchRunner({ db: t.app.db, schema: t.app.registry, clock: t.app.clock, writer: failing, logger: t.app.logger });
    const before = await titles();
    const requests = ['bug 1', 'bug 2'].map((title) => ({ method: 'POST', url: '/api/collections/posts/records', headers: {}, body: { title }, files: [] }));
    await expect(runner.run(requests, systemCaller(), { timeoutMs: 3000 })).rejects.toThrow('boom: internal detail');
    expect(await titles()).toEqual(before);
  });
});

describe('a client that goes away', () => {
  it('aborts the batch: a 400 nobody reads, and nothing written', async () => {
    const runner = new BatchRunner({ db: t.app.db, schema: t.app.registry, clock: t.app.clock, writer: t.app.records.writer, logger: t.app.logger });
    const gone = new AbortController();
    gone.abort();
    const before = await titles();
    const requests = [{ method: 'POST', url: '/api/collections/posts/records', headers: {}, body: { title: 'gone' }, files: [] }];
    await expect(runner.run(requests, systemCaller(), { timeoutMs: 3000, signal: gone.signal })).rejects.toMatchObject({ status: 400, message: 'Batch transaction failed.' });
    expect(await titles()).toEqual(before);
  });
});

describe('auth and rules per request', () => {
  it('an API key acts within its scopes: a create it may do, then a delete it may not → rolled back', async () => {
    const created = await send(t, 'POST', '/api/keys', { auth: tok.su, body: { name: 'batcher', scopes: [{ collection: 'authors', actions: ['create'] }] } });
    expect(created.status, created.raw).toBe(200);
    const key = `Bearer ${created.body.key}`;
    const ok = await batch([{ method: 'POST', url: '/api/collections/authors/records', body: { name: 'by key' } }], key);
    expect(ok.status, ok.raw).toBe(200);
    const before = await titles('authors');
    const res = await batch(
      [
        { method: 'POST', url: '/api/collections/authors/records', body: { name: 'by key 2' } },
        { method: 'DELETE', url: `/api/collections/authors/records/${ids.author}` },
      ],
      key,
    );
    expectFailedAt(res, 1, { status: 403, message: 'The API key is not allowed to delete records of authors.' });
    expect(await titles('authors')).toEqual(before);
  });

  it('a guest is refused by the create rule; an Authorization header in the sub-request changes nothing', async () => {
    const before = await titles();
    const res = await batch(
      [{ method: 'POST', url: '/api/collections/posts/records', headers: { Authorization: tok.su }, body: { title: 'guest post' } }],
      '',
    );
    expectFailedAt(res, 0, { status: 400, message: 'Failed to create record.' });
    expect(await titles()).toEqual(before);
  });

  it('the batch caller\'s auth applies to every request, whatever its headers say', async () => {
    const res = await batch(
      [
        { method: 'POST', url: '/api/collections/authors/records', headers: { Authorization: '' }, body: { name: 'by user' } },
        { method: 'POST', url: '/api/collections/authors/records', headers: { Authorization: 'Bearer garbage' }, body: { name: 'by user 2' } },
      ],
      tok.user,
    );
    expect(res.status, res.raw).toBe(200);
  });

  it('a locked rule is a 403 for a user, inside the envelope', async () => {
    const res = await batch([{ method: 'POST', url: '/api/collections/locked/records', body: { title: 'x' } }], tok.user);
    expectFailedAt(res, 0, { status: 403, message: 'Only superusers can perform this action.' });
  });

  it('per-request headers feed @request.headers, with @request.context "batch"', async () => {
    const ok = await batch([{ method: 'POST', url: '/api/collections/tagged/records', headers: { 'X-Token': 'secret' }, body: { title: 'tagged' } }], tok.user);
    expect(ok.status, ok.raw).toBe(200);
    const missing = await batch([{ method: 'POST', url: '/api/collections/tagged/records', body: { title: 'untagged' } }], tok.user);
    expectFailedAt(missing, 0, { status: 400, message: 'Failed to create record.' });
    // Outside a batch the same request fails the rule: the context is "default".
    const direct = await send(t, 'POST', '/api/collections/tagged/records', { auth: tok.user, headers: { 'x-token': 'secret' }, body: { title: 'direct' } });
    expect(direct.status).toBe(400);
  });

  it('the batch\'s own headers are seen by every request', async () => {
    const res = await send(t, 'POST', '/api/batch', {
      auth: tok.user,
      headers: { 'x-token': 'secret' },
      body: { requests: [{ method: 'POST', url: '/api/collections/tagged/records', body: { title: 'outer header' } }] },
    });
    expect(res.status, res.raw).toBe(200);
  });
});

describe('bad input: a 4xx in the standard shape, nothing written', () => {
  const post = { method: 'POST', url: '/api/collections/posts/records', body: { title: 'never' } };
  const scenarios: Scenario[] = [
    { name: 'no body', method: 'POST', url: '/api/batch', auth: () => tok.su, status: 400, expect: { message: 'Invalid batch request data.', data: { requests: { code: 'validation_required' } } } },
    { name: 'empty requests', method: 'POST', url: '/api/batch', auth: () => tok.su, body: { requests: [] }, status: 400, expect: { data: { requests: { code: 'validation_required' } } } },
    { name: 'requests not an array', method: 'POST', url: '/api/batch', auth: () => tok.su, body: { requests: { 0: post } }, status: 400, expect: { message: 'Failed to read the submitted batch data.', data: { requests: { code: 'validation_invalid_type' } } } },
    { name: 'malformed JSON', method: 'POST', url: '/api/batch', auth: () => tok.su, headers: { 'content-type': 'application/json' }, body: '{"requests": [', status: 400 },
    { name: 'a JSON array body', method: 'POST', url: '/api/batch', auth: () => tok.su, headers: { 'content-type': 'application/json' }, body: '[1]', status: 400 },
    {
      name: 'items that are not requests',
      method: 'POST',
      url: '/api/batch',
      auth: () => tok.su,
      body: { requests: [post, 'x', { method: 'HEAD', url: '/api/collections/posts/records' }, { url: 5 }, { method: 'POST', url: '/x', headers: { a: 1 }, body: [] }] },
      status: 400,
      expect: {
        message: 'Invalid batch request data.',
        data: {
          requests: {
            1: { code: 'validation_invalid_type' },
            2: { method: { code: 'validation_in_invalid' } },
            3: { method: { code: 'validation_required' }, url: { code: 'validation_required' } },
            4: { headers: { code: 'validation_invalid_type' }, body: { code: 'validation_invalid_type' } },
          },
        },
      },
      check: (b) => expect(b.data.requests).not.toHaveProperty('0'),
    },
  ];
  runScenarios(() => t, scenarios);

  it('malformed @jsonPayload in multipart', async () => {
    const res = await sendMultipart([{ name: '@jsonPayload', value: '{"requests": [' }]);
    expect(res.status, res.raw).toBe(400);
    expect(res.body.message).toBe('Failed to load the submitted data due to invalid formatting.');
  });

  it('multipart with @jsonPayload works like JSON', async () => {
    const res = await sendMultipart([{ name: '@jsonPayload', value: JSON.stringify({ requests: [{ method: 'POST', url: '/api/collections/authors/records', body: { name: 'multipart' } }] }) }]);
    expect(res.status, res.raw).toBe(200);
    expect(res.body[0].body.name).toBe('multipart');
  });

  it('file parts requests.N.field / requests[N].field reach request N\'s WriteInput.files as field', async () => {
    // Storing them is the record writer's job (test/api/batch-files.test.ts); this checks only
    // the routing, by watching what the writer is handed.
    const writer = t.app.records.writer;
    const create = writer.create;
    const seen: { title: unknown; files: { field: string; filename: string; text: string }[] }[] = [];
    writer.create = function (this: RecordWriter, ...args: Parameters<RecordWriter['create']>) {
      const input = args[1];
      seen.push({ title: input.data.title, files: (input.files ?? []).map((f) => ({ field: f.field, filename: f.filename, text: f.data.toString() })) });
      // posts has no file fields: the files stop here (batch-files.test.ts stores real ones).
      return create.call(this, args[0], { ...input, files: [] }, ...(args.slice(2) as [Parameters<RecordWriter['create']>[2]]));
    };
    try {
      const res = await sendMultipart([
        {
          name: '@jsonPayload',
          value: JSON.stringify({ requests: ['f0', 'f1', 'f2'].map((title) => ({ method: 'POST', url: '/api/collections/posts/records', body: { title } })) }),
        },
        { name: 'requests.0.doc', value: 'zero', filename: 'a.txt' },
        { name: 'requests[2].attachments+', value: 'two', filename: 'b.txt' },
        { name: 'requests.2.+cover', value: 'two again', filename: 'c.txt' },
        { name: 'requests.9.doc', value: 'no such request', filename: 'd.txt' },
        { name: 'loose', value: 'not a request part', filename: 'e.txt' },
      ]);
      expect(res.status, res.raw).toBe(200);
      expect(seen).toEqual([
        { title: 'f0', files: [{ field: 'doc', filename: 'a.txt', text: 'zero' }] },
        { title: 'f1', files: [] },
        { title: 'f2', files: [{ field: 'attachments+', filename: 'b.txt', text: 'two' }, { field: '+cover', filename: 'c.txt', text: 'two again' }] },
      ]);
    } finally {
      writer.create = create;
    }
  });

  it('more than maxRequests: 400 with a field error naming the limit', async () => {
    expect((await settings({ maxRequests: 2 })).status).toBe(200);
    try {
      const before = await titles();
      const res = await batch([post, post, post]);
      expect(res.status, res.raw).toBe(400);
      expect(res.body).toMatchObject({ message: 'Invalid batch request data.', data: { requests: { code: 'validation_length_too_long', message: 'The length must be no more than 2.', params: { max: 2 } } } });
      expect(await titles()).toEqual(before);
    } finally {
      expect((await settings({ maxRequests: 50 })).status).toBe(200);
    }
  });

  it('a body over maxBodySize: 413 for JSON and for multipart; the limit follows the setting', async () => {
    expect((await settings({ maxBodySize: 2000 })).status).toBe(200);
    try {
      const before = await titles();
      const big = [{ ...post, body: { title: 'x'.repeat(3000) } }];
      const json = await batch(big);
      expect(json.status, json.raw).toBe(413);
      expect(json.body).toEqual({ status: 413, message: 'Request entity too large.', data: {} });
      const form = await sendMultipart([{ name: '@jsonPayload', value: JSON.stringify({ requests: big }) }]);
      expect(form.status, form.raw).toBe(413);
      const file = await sendMultipart([
        { name: '@jsonPayload', value: JSON.stringify({ requests: [post] }) },
        { name: 'requests.0.doc', value: Buffer.alloc(5000, 1), filename: 'a.bin' },
      ]);
      expect(file.status, file.raw).toBe(413);
      // Chunked (no Content-Length): counted while read.
      const chunked = await t.server.inject({
        method: 'POST',
        url: '/api/batch',
        headers: { authorization: tok.su, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        payload: JSON.stringify({ requests: big }),
      });
      expect(chunked.statusCode).toBe(413);
      expect(await titles()).toEqual(before);
      // Under the limit the same route takes the body.
      const small = await batch([{ method: 'POST', url: '/api/collections/authors/records', body: { name: 'small' } }]);
      expect(small.status, small.raw).toBe(200);
    } finally {
      expect((await settings({ maxBodySize: 0 })).status).toBe(200);
    }
    // 0 is the 128 MiB default: the 3000-character title fits again.
    const res = await batch([{ method: 'POST', url: '/api/collections/authors/records', body: { name: 'y'.repeat(3000) } }]);
    expect(res.status, res.raw).toBe(200);
  });
});

describe('timeout', () => {
  it('a batch running past settings.batch.timeout is aborted and rolled back (400)', async () => {
    expect((await settings({ timeout: 1 })).status).toBe(200);
    try {
      const before = await titles('slow');
      const requests = Array.from({ length: 12 }, (_, i) => ({ method: 'POST', url: '/api/collections/slow/records', body: { secret: `password-${i}` } }));
      const started = Date.now();
      const res = await batch(requests);
      const elapsed = Date.now() - started;
      expect(res.status, res.raw).toBe(400);
      expect(res.body).toMatchObject({ message: 'Batch transaction failed.', data: { timeout: { code: 'batch_timeout', params: { timeout: 1 } } } });
      // Stopped at the next statement after the deadline, not after all twelve hashes (~5 s).
      expect(elapsed).toBeLessThan(3500);
      expect(await titles('slow')).toEqual(before);
    } finally {
      expect((await settings({ timeout: 3 })).status).toBe(200);
    }
  }, 20_000);
});

describe('settings.batch validation', () => {
  const cases: [string, Record<string, unknown>, (d: any) => void][] = [
    ['negative maxRequests', { maxRequests: -1 }, (d) => expect(d.batch.maxRequests.code).toBe('validation_min_greater_equal_than_required')],
    ['negative timeout', { timeout: -1 }, (d) => expect(d.batch.timeout.code).toBe('validation_min_greater_equal_than_required')],
    ['negative maxBodySize', { maxBodySize: -5 }, (d) => expect(d.batch.maxBodySize.code).toBe('validation_min_greater_equal_than_required')],
    ['enabled with timeout 0', { enabled: true, timeout: 0 }, (d) => expect(d.batch.timeout.code).toBe('validation_required')],
    ['a string', { maxRequests: '5' }, (d) => expect(d.batch.maxRequests.code).toBe('validation_invalid_type')],
    ['a fraction', { timeout: 1.5 }, (d) => expect(d.batch.timeout.code).toBe('validation_invalid_type')],
    ['unknown key', { max: 1 }, (d) => expect(d.batch.max.code).toBe('validation_unknown_field')],
  ];
  for (const [name, patch, check] of cases) {
    it(name, async () => {
      const res = await settings(patch);
      expect(res.status, res.raw).toBe(400);
      check(res.body.data);
      expect(t.app.settings.get().batch).toEqual({ enabled: true, maxRequests: 50, timeout: 3, maxBodySize: 0 });
    });
  }
});

describe('rate limit', () => {
  it('the default /api/batch rule (3 per second) applies', async () => {
    expect((await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { rateLimits: { enabled: true } } })).status).toBe(200);
    try {
      const one = [{ method: 'POST', url: '/api/collections/authors/records', body: { name: 'limited' } }];
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await batch(one, tok.user)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      expect((await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { rateLimits: { enabled: false } } })).status).toBe(200);
    }
  });
});

describe('the PocketBase SDK', () => {
  let baseURL = '';
  beforeAll(async () => {
    await t.server.listen({ host: '127.0.0.1', port: 0 });
    baseURL = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  });

  it('createBatch(): create, update, delete and upsert, then send()', async () => {
    const pb = new PocketBase(baseURL);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword('admin@example.com', 'password123');
    const victim = await pb.collection('posts').create({ title: 'sdk victim' });
    const target = await pb.collection('posts').create({ title: 'sdk target' });
    const b = pb.createBatch();
    b.collection('posts').create({ id: 'sdkcreated00001', title: 'sdk created' });
    b.collection('posts').update(target.id, { title: 'sdk updated' }, { fields: 'id,title' });
    b.collection('posts').delete(victim.id);
    b.collection('posts').upsert({ id: 'sdkcreated00001', title: 'sdk upserted' });
    b.collection('posts').upsert({ title: 'sdk upsert created' });
    const results = await b.send();
    expect(results.map((r) => r.status)).toEqual([200, 200, 204, 200, 200]);
    expect(results[0].body).toMatchObject({ id: 'sdkcreated00001', title: 'sdk created' });
    expect(results[1].body).toEqual({ id: target.id, title: 'sdk updated' });
    expect(results[2].body).toBeNull();
    expect(results[3].body).toMatchObject({ id: 'sdkcreated00001', title: 'sdk upserted' });
    const all = await pb.collection('posts').getFullList({ filter: 'title ~ "sdk"', sort: 'title' });
    expect(all.map((r) => r.title)).toEqual(['sdk updated', 'sdk upsert created', 'sdk upserted']);
  });

  it('a failed batch rejects with the envelope in ClientResponseError', async () => {
    const pb = new PocketBase(baseURL);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword('admin@example.com', 'password123');
    const b = pb.createBatch();
    b.collection('posts').create({ title: 'sdk rolled back' });
    b.collection('posts').delete('doesnotexist999');
    const err = await b.send().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClientResponseError);
    const e = err as ClientResponseError;
    expect(e.status).toBe(400);
    expect(e.response).toMatchObject({ message: 'Batch transaction failed.', data: { requests: { 1: { code: 'batch_request_failed', response: { status: 404 } } } } });
    expect(await pb.collection('posts').getList(1, 1, { filter: 'title = "sdk rolled back"' })).toMatchObject({ totalItems: 0 });
  });
});
