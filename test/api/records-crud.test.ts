/**
 * Records CRUD (spec §1.1, §1.2, §3): envelopes, record JSON, statuses, the three body formats,
 * server-managed and validated fields, unique indexes and the relation consequences of deletes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import {
  CREATE_FAILED,
  DATE_RE,
  DELETE_FAILED,
  ID_RE,
  MISSING_COLLECTION,
  NOT_FOUND,
  UPDATE_FAILED,
  countAsSuperuser,
  multipart,
  tick,
  urlencoded,
  viewAsSuperuser,
} from './records-helpers.js';

let t: TestApp;
let su = '';
const ids: Record<string, string> = {};
let postsId = '';
const app = () => t;
const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
const P = '/api/collections/posts/records';

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  const posts = await createCollection(t, {
    name: 'posts',
    type: 'base',
    ...open,
    fields: [
      { name: 'title', type: 'text', required: true, max: 100 },
      { name: 'body', type: 'text' },
      { name: 'views', type: 'number' },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  postsId = posts.id;
  await createCollection(t, { name: 'posts_view', type: 'view', listRule: '', viewRule: '', viewQuery: 'SELECT id, title FROM posts' });
  await createCollection(t, {
    name: 'typed',
    type: 'base',
    ...open,
    fields: [
      { name: 'int_only', type: 'number', onlyInt: true },
      { name: 'ranged', type: 'number', min: 1, max: 10 },
      { name: 'short', type: 'text', min: 2, max: 5 },
      { name: 'lower', type: 'text', pattern: '^[a-z]+$' },
      { name: 'mail', type: 'email' },
      { name: 'link', type: 'url' },
      { name: 'one', type: 'select', values: ['a', 'b', 'c'], maxSelect: 1 },
      { name: 'many', type: 'select', values: ['a', 'b', 'c'], maxSelect: 2 },
      { name: 'day', type: 'date', min: '2020-01-01 00:00:00.000Z', max: '2030-12-31 23:59:59.000Z' },
      { name: 'meta', type: 'json', maxSize: 20 },
      { name: 'flag', type: 'bool' },
    ],
  });
  await createCollection(t, {
    name: 'reqs',
    type: 'base',
    ...open,
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'count', type: 'number', required: true },
      { name: 'choice', type: 'select', values: ['x', 'y'], required: true },
      { name: 'when', type: 'date', required: true },
      { name: 'agreed', type: 'bool', required: true },
      { name: 'note', type: 'text' },
    ],
  });
  await createCollection(t, {
    name: 'codes',
    type: 'base',
    ...open,
    fields: [
      { name: 'code', type: 'text', required: true },
      { name: 'label', type: 'text' },
    ],
    indexes: ['CREATE UNIQUE INDEX idx_codes_code ON codes (code)'],
  });
  await createCollection(t, { name: 'authors', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }] });
  await createCollection(t, {
    name: 'books',
    type: 'base',
    ...open,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'author', type: 'relation', collectionId: 'authors', maxSelect: 1, cascadeDelete: true },
    ],
  });
  await createCollection(t, {
    name: 'reviews',
    type: 'base',
    ...open,
    fields: [
      { name: 'text', type: 'text' },
      { name: 'book', type: 'relation', collectionId: 'books', maxSelect: 1, required: true, cascadeDelete: false },
    ],
  });
  await createCollection(t, { name: 'tags', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }] });
  await createCollection(t, {
    name: 'notes',
    type: 'base',
    ...open,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'tags', type: 'relation', collectionId: 'tags', maxSelect: 5 },
      { name: 'main', type: 'relation', collectionId: 'tags', maxSelect: 1 },
    ],
  });
  await createCollection(t, { name: 'songs', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }] });
  await createCollection(t, {
    name: 'playlists',
    type: 'base',
    ...open,
    fields: [
      { name: 'name', type: 'text' },
      { name: 'songs', type: 'relation', collectionId: 'songs', maxSelect: 5, cascadeDelete: true },
    ],
  });
});

afterAll(async () => {
  await t?.close();
});

describe('list, create, view, update, delete', () => {
  const scenarios: Scenario[] = [
    {
      name: 'empty list has the exact envelope',
      method: 'GET',
      url: P,
      status: 200,
      expect: { page: 1, perPage: 30, totalItems: 0, totalPages: 0, items: [] },
      check: (body) => expect(Object.keys(body).sort()).toEqual(['items', 'page', 'perPage', 'totalItems', 'totalPages']),
    },
    {
      name: 'create (JSON) answers 200 with the record',
      method: 'POST',
      url: P,
      body: { title: 'Hello', body: 'World', views: 3 },
      status: 200,
      expect: { collectionName: 'posts', title: 'Hello', body: 'World', views: 3 },
      check: (body) => {
        expect(body.collectionId).toBe(postsId);
        expect(body.id).toMatch(ID_RE);
        expect(body.created).toMatch(DATE_RE);
        expect(body.updated).toMatch(DATE_RE);
        expect(body.updated).toBe(body.created);
        expect(Object.keys(body).sort()).toEqual(['body', 'collectionId', 'collectionName', 'created', 'id', 'title', 'updated', 'views']);
        expect(body).not.toHaveProperty('expand');
      },
      after: (body) => {
        ids.first = body.id;
        ids.firstCreated = body.created;
        ids.firstUpdated = body.updated;
      },
    },
    {
      name: 'list holds the new record',
      method: 'GET',
      url: P,
      status: 200,
      expect: { page: 1, perPage: 30, totalItems: 1, totalPages: 1 },
      check: (body) => {
        expect(body.items).toHaveLength(1);
        expect(body.items[0]).toMatchObject({ id: ids.first, collectionId: postsId, collectionName: 'posts', title: 'Hello', views: 3 });
      },
    },
    {
      name: 'view by collection name',
      method: 'GET',
      url: () => `${P}/${ids.first}`,
      status: 200,
      check: (body) => expect(body).toMatchObject({ id: ids.first, title: 'Hello', body: 'World', views: 3, created: ids.firstCreated }),
    },
    {
      name: 'view by collection id',
      method: 'GET',
      url: () => `/api/collections/${postsId}/records/${ids.first}`,
      status: 200,
      check: (body) => expect(body).toMatchObject({ id: ids.first, collectionName: 'posts' }),
    },
    {
      name: 'create with a custom id',
      method: 'POST',
      url: P,
      body: { id: 'customid0000001', title: 'Custom' },
      status: 200,
      expect: { id: 'customid0000001', title: 'Custom' },
    },
    {
      name: 'create with a duplicate id',
      method: 'POST',
      url: P,
      body: { id: 'customid0000001', title: 'Again' },
      status: 400,
      expect: { message: CREATE_FAILED, data: { id: { code: 'validation_not_unique' } } },
      check: async () => {
        expect(await countAsSuperuser(t, su, 'posts')).toBe(2);
        expect((await viewAsSuperuser(t, su, 'posts', 'customid0000001')).title).toBe('Custom');
      },
    },
    {
      name: 'create with a too short custom id',
      method: 'POST',
      url: P,
      body: { id: 'short', title: 'x' },
      status: 400,
      expect: { message: CREATE_FAILED, data: { id: { code: 'validation_min_text_constraint' } } },
    },
    {
      name: 'create with a custom id outside [a-z0-9]',
      method: 'POST',
      url: P,
      body: { id: 'UPPERCASE000000', title: 'x' },
      status: 400,
      expect: { message: CREATE_FAILED, data: { id: { code: 'validation_invalid_format' } } },
      check: async () => expect(await countAsSuperuser(t, su, 'posts')).toBe(2),
    },
    {
      name: 'update answers 200 with the changed record',
      method: 'PATCH',
      url: () => `${P}/${ids.first}`,
      before: () => tick(),
      body: { title: 'Hello again' },
      status: 200,
      check: (body) => {
        expect(body).toMatchObject({ id: ids.first, collectionName: 'posts', title: 'Hello again', body: 'World', views: 3, created: ids.firstCreated });
        expect(body.updated).toMatch(DATE_RE);
        expect(body.updated > ids.firstUpdated).toBe(true);
      },
      after: (body) => {
        ids.firstUpdated = body.updated;
      },
    },
    {
      name: 'the update is stored',
      method: 'GET',
      url: () => `${P}/${ids.first}`,
      status: 200,
      check: (body) => expect(body).toMatchObject({ title: 'Hello again', updated: ids.firstUpdated }),
    },
    {
      name: 'autodate values in an update body are ignored',
      method: 'PATCH',
      url: () => `${P}/${ids.first}`,
      before: () => tick(),
      body: { created: '2000-01-01 00:00:00.000Z', updated: '2000-01-01 00:00:00.000Z', views: 4 },
      status: 200,
      check: (body) => {
        expect(body.views).toBe(4);
        expect(body.created).toBe(ids.firstCreated);
        expect(body.updated > ids.firstUpdated).toBe(true);
      },
    },
    {
      name: 'autodate values in a create body are ignored',
      method: 'POST',
      url: P,
      body: { title: 'Dated', created: '2000-01-01 00:00:00.000Z', updated: '2001-01-01 00:00:00.000Z' },
      status: 200,
      check: (body) => {
        expect(body.created).toMatch(DATE_RE);
        expect(Math.abs(Date.parse(body.created.replace(' ', 'T')) - Date.now())).toBeLessThan(60_000);
        expect(body.updated).toBe(body.created);
      },
      after: (body) => {
        ids.dated = body.id;
      },
    },
    {
      name: 'delete answers 204 with an empty body',
      method: 'DELETE',
      url: () => `${P}/${ids.dated}`,
      status: 204,
      check: (_body, raw) => expect(raw).toBe(''),
    },
    {
      name: 'a deleted record is gone',
      method: 'GET',
      url: () => `${P}/${ids.dated}`,
      status: 404,
      expect: { status: 404, message: NOT_FOUND, data: {} },
    },
    { name: 'view a missing record', method: 'GET', url: `${P}/missingrecord00`, status: 404, expect: { message: NOT_FOUND } },
    { name: 'fields never reduces an error', method: 'GET', url: `${P}/missingrecord00?fields=id`, status: 404, expect: { status: 404, message: NOT_FOUND, data: {} } },
    { name: 'update a missing record', method: 'PATCH', url: `${P}/missingrecord00`, body: { title: 'x' }, status: 404, expect: { message: NOT_FOUND } },
    { name: 'delete a missing record', method: 'DELETE', url: `${P}/missingrecord00`, status: 404, expect: { message: NOT_FOUND } },
    {
      name: 'update a missing record as superuser',
      method: 'PATCH',
      url: `${P}/missingrecord00`,
      auth: () => su,
      body: { title: 'x' },
      status: 404,
      expect: { message: NOT_FOUND },
      check: async () => expect(await countAsSuperuser(t, su, 'posts')).toBe(2),
    },
  ];
  runScenarios(app, scenarios);
});

describe('missing collection and view collections', () => {
  const missing = '/api/collections/missing/records';
  const V = '/api/collections/posts_view/records';
  runScenarios(app, [
    { name: 'list of a missing collection', method: 'GET', url: missing, status: 404, expect: { message: MISSING_COLLECTION, data: {} } },
    { name: 'view in a missing collection', method: 'GET', url: `${missing}/abc`, status: 404, expect: { message: MISSING_COLLECTION } },
    { name: 'create in a missing collection', method: 'POST', url: missing, body: { a: 1 }, status: 404, expect: { message: MISSING_COLLECTION } },
    { name: 'update in a missing collection', method: 'PATCH', url: `${missing}/abc`, body: { a: 1 }, status: 404, expect: { message: MISSING_COLLECTION } },
    { name: 'delete in a missing collection', method: 'DELETE', url: `${missing}/abc`, status: 404, expect: { message: MISSING_COLLECTION } },
    {
      name: 'missing collection as superuser',
      method: 'GET',
      url: missing,
      auth: () => su,
      status: 404,
      expect: { message: MISSING_COLLECTION },
    },
    {
      name: 'a view collection lists',
      method: 'GET',
      url: `${V}?sort=title`,
      status: 200,
      check: (body) => {
        expect(body.totalItems).toBe(2);
        expect(body.items.map((i: any) => i.title)).toEqual(['Custom', 'Hello again']);
        expect(body.items[0].collectionName).toBe('posts_view');
      },
    },
    {
      name: 'create in a view collection',
      method: 'POST',
      url: V,
      body: { title: 'x' },
      status: 400,
      expect: { message: 'Unsupported collection type.', data: {} },
    },
    {
      name: 'create in a view collection as superuser',
      method: 'POST',
      url: V,
      auth: () => su,
      body: { title: 'x' },
      status: 400,
      expect: { message: 'Unsupported collection type.' },
    },
    {
      name: 'update in a view collection',
      method: 'PATCH',
      url: () => `${V}/${ids.first}`,
      auth: () => su,
      body: { title: 'x' },
      status: 400,
      expect: { message: 'Unsupported collection type.' },
    },
    {
      name: 'delete in a view collection',
      method: 'DELETE',
      url: () => `${V}/${ids.first}`,
      auth: () => su,
      status: 400,
      expect: { message: 'Unsupported collection type.' },
      check: async () => expect(await viewAsSuperuser(t, su, 'posts', ids.first)).not.toBeNull(),
    },
  ]);
});

describe('body formats', () => {
  runScenarios(app, [
    {
      name: 'create from an urlencoded form (strings coerced per field type)',
      method: 'POST',
      url: P,
      ...urlencoded({ title: 'Form post', views: '7' }),
      status: 200,
      expect: { title: 'Form post', views: 7, body: '' },
      after: (body) => {
        ids.form = body.id;
      },
    },
    {
      name: 'update from an urlencoded form',
      method: 'PATCH',
      url: () => `${P}/${ids.form}`,
      ...urlencoded({ body: 'form body', views: '8.5' }),
      status: 200,
      expect: { title: 'Form post', body: 'form body', views: 8.5 },
    },
    {
      name: 'create from multipart with @jsonPayload merged',
      method: 'POST',
      url: P,
      ...multipart({ title: 'Multipart', '@jsonPayload': JSON.stringify({ views: 9, body: 'from json' }) }),
      status: 200,
      expect: { title: 'Multipart', views: 9, body: 'from json' },
      check: (body) => expect(body).not.toHaveProperty('@jsonPayload'),
      after: (body) => {
        ids.multipart = body.id;
      },
    },
    {
      name: 'multipart plain parts are coerced per field type',
      method: 'PATCH',
      url: () => `${P}/${ids.multipart}`,
      ...multipart({ views: '12', body: 'plain part' }),
      status: 200,
      expect: { title: 'Multipart', views: 12, body: 'plain part' },
    },
    {
      name: 'update from multipart with only @jsonPayload',
      method: 'PATCH',
      url: () => `${P}/${ids.multipart}`,
      ...multipart({ '@jsonPayload': JSON.stringify({ title: 'Multipart 2' }) }),
      status: 200,
      expect: { title: 'Multipart 2', views: 12 },
    },
    {
      name: 'the multipart writes are stored',
      method: 'GET',
      url: () => `${P}/${ids.multipart}`,
      status: 200,
      expect: { title: 'Multipart 2', views: 12, body: 'plain part' },
    },
    {
      name: 'multipart with an invalid @jsonPayload',
      method: 'POST',
      url: P,
      ...multipart({ title: 'Bad payload', '@jsonPayload': '{not json' }),
      status: 400,
      check: async () => expect(await countAsSuperuser(t, su, 'posts', "title = 'Bad payload'")).toBe(0),
    },
  ]);
});

describe('field values and validation', () => {
  const T = '/api/collections/typed/records';
  const valid: Scenario[] = [
    {
      name: 'an empty body gives every field its zero value',
      method: 'POST',
      url: T,
      body: {},
      status: 200,
      check: (body) => {
        expect(body).toMatchObject({ int_only: 0, ranged: 0, short: '', lower: '', mail: '', link: '', one: '', day: '', meta: null, flag: false });
        expect(body.many).toEqual([]);
      },
    },
    {
      name: 'valid values are stored and normalized',
      method: 'POST',
      url: T,
      body: {
        int_only: 42,
        ranged: 10,
        short: 'abcde',
        lower: 'abc',
        mail: 'ann@example.com',
        link: 'https://example.com/a?b=c',
        one: 'b',
        many: ['c', 'a'],
        day: '2024-05-06T07:08:09Z',
        meta: { a: 1 },
        flag: true,
      },
      status: 200,
      expect: {
        int_only: 42,
        ranged: 10,
        short: 'abcde',
        lower: 'abc',
        mail: 'ann@example.com',
        link: 'https://example.com/a?b=c',
        one: 'b',
        many: ['c', 'a'],
        day: '2024-05-06 07:08:09.000Z',
        meta: { a: 1 },
        flag: true,
      },
      after: (body) => {
        ids.typed = body.id;
      },
    },
    {
      name: 'stored values read back the same',
      method: 'GET',
      url: () => `${T}/${ids.typed}`,
      status: 200,
      expect: { int_only: 42, one: 'b', many: ['c', 'a'], day: '2024-05-06 07:08:09.000Z', meta: { a: 1 }, flag: true },
    },
  ];
  runScenarios(app, valid);

  const invalid: [string, Record<string, unknown>, string, string][] = [
    ['a decimal in an onlyInt number', { int_only: 1.5 }, 'int_only', 'validation_only_int_constraint'],
    ['a number below min', { ranged: 0.5 }, 'ranged', 'validation_min_number_constraint'],
    ['a number above max', { ranged: 11 }, 'ranged', 'validation_max_number_constraint'],
    ['a text shorter than min', { short: 'a' }, 'short', 'validation_min_text_constraint'],
    ['a text longer than max', { short: 'abcdef' }, 'short', 'validation_max_text_constraint'],
    ['a text not matching the pattern', { lower: 'ABC' }, 'lower', 'validation_invalid_format'],
    ['an invalid email', { mail: 'not-an-email' }, 'mail', 'validation_is_email'],
    ['an invalid url', { link: 'not a url' }, 'link', 'validation_is_url'],
    ['a select value outside the values', { one: 'z' }, 'one', 'validation_invalid_value'],
    ['a multiple select value outside the values', { many: ['a', 'zz'] }, 'many', 'validation_invalid_value'],
    ['more select values than maxSelect', { many: ['a', 'b', 'c'] }, 'many', 'validation_too_many_values'],
    ['a json value larger than maxSize', { meta: { text: 'x'.repeat(40) } }, 'meta', 'validation_json_size_limit'],
    ['an unparsable date', { day: 'not a date' }, 'day', 'validation_invalid_value'],
    ['a bool that is neither true nor false', { flag: 'maybe' }, 'flag', 'validation_invalid_value'],
  ];
  runScenarios(
    app,
    invalid.map(([what, body, field, code]) => ({
      name: `create with ${what}`,
      method: 'POST' as const,
      url: T,
      body,
      status: 400,
      expect: { message: CREATE_FAILED, data: { [field]: { code } } },
      check: (res: any) => {
        expect(Object.keys(res.data)).toEqual([field]);
        expect(typeof res.data[field].message).toBe('string');
      },
    })),
  );
  runScenarios(
    app,
    invalid.slice(0, 6).map(([what, body, field, code]) => ({
      name: `update with ${what}`,
      method: 'PATCH' as const,
      url: () => `${T}/${ids.typed}`,
      body,
      status: 400,
      expect: { message: UPDATE_FAILED, data: { [field]: { code } } },
    })),
  );
  runScenarios(app, [
    {
      name: 'a date before min is refused',
      method: 'POST',
      url: T,
      body: { day: '2019-12-31 23:59:59.000Z' },
      status: 400,
      expect: { message: CREATE_FAILED },
      check: (body) => expect(Object.keys(body.data)).toEqual(['day']),
    },
    {
      name: 'a date after max is refused',
      method: 'POST',
      url: T,
      body: { day: '2031-01-01' },
      status: 400,
      check: (body) => expect(Object.keys(body.data)).toEqual(['day']),
    },
    {
      name: 'failed writes changed nothing',
      method: 'GET',
      url: () => `${T}/${ids.typed}`,
      status: 200,
      expect: { int_only: 42, ranged: 10, short: 'abcde', lower: 'abc' },
      check: async () => expect(await countAsSuperuser(t, su, 'typed')).toBe(2),
    },
  ]);

  describe('date min/max error codes', () => {
    runScenarios(app, [
      {
        name: 'a date before min has PocketBase’s code',
        method: 'POST',
        url: T,
        body: { day: '2019-12-31 23:59:59.000Z' },
        status: 400,
        expect: { data: { day: { code: 'validation_min_greater_equal_than_required' } } },
      },
      {
        name: 'a date after max has PocketBase’s code',
        method: 'POST',
        url: T,
        body: { day: '2031-01-01' },
        status: 400,
        expect: { data: { day: { code: 'validation_max_less_equal_than_required' } } },
      },
    ]);
  });
});

describe('required fields', () => {
  const R = '/api/collections/reqs/records';
  runScenarios(app, [
    {
      name: 'every missing required field is reported',
      method: 'POST',
      url: R,
      body: { note: 'only the optional one' },
      status: 400,
      expect: {
        message: CREATE_FAILED,
        data: {
          title: { code: 'validation_required', message: 'Missing required value.' },
          count: { code: 'validation_required' },
          choice: { code: 'validation_required' },
          when: { code: 'validation_required' },
          agreed: { code: 'validation_required' },
        },
      },
      check: (body) => expect(Object.keys(body.data).sort()).toEqual(['agreed', 'choice', 'count', 'title', 'when']),
    },
    {
      name: 'empty values do not satisfy required',
      method: 'POST',
      url: R,
      body: { title: '', count: 0, choice: '', when: '', agreed: false },
      status: 400,
      check: (body) => expect(Object.keys(body.data).sort()).toEqual(['agreed', 'choice', 'count', 'title', 'when']),
    },
    {
      name: 'all required fields given',
      method: 'POST',
      url: R,
      body: { title: 't', count: 2, choice: 'x', when: '2024-01-01', agreed: true },
      status: 200,
      expect: { title: 't', count: 2, choice: 'x', when: '2024-01-01 00:00:00.000Z', agreed: true, note: '' },
      after: (body) => {
        ids.req = body.id;
      },
    },
    {
      name: 'an update may not blank a required field',
      method: 'PATCH',
      url: () => `${R}/${ids.req}`,
      body: { title: '' },
      status: 400,
      expect: { message: UPDATE_FAILED, data: { title: { code: 'validation_required' } } },
    },
    {
      name: 'an update that does not touch required fields is fine',
      method: 'PATCH',
      url: () => `${R}/${ids.req}`,
      body: { note: 'n' },
      status: 200,
      expect: { title: 't', note: 'n' },
      check: async () => expect(await countAsSuperuser(t, su, 'reqs')).toBe(1),
    },
  ]);
});

describe('unique indexes', () => {
  const C = '/api/collections/codes/records';
  runScenarios(app, [
    { name: 'first value', method: 'POST', url: C, body: { code: 'A1' }, status: 200, after: (b) => void (ids.codeA = b.id) },
    { name: 'second value', method: 'POST', url: C, body: { code: 'B2' }, status: 200, after: (b) => void (ids.codeB = b.id) },
    {
      name: 'a duplicate on create is a field error, not a 500',
      method: 'POST',
      url: C,
      body: { code: 'A1', label: 'dup' },
      status: 400,
      expect: { message: CREATE_FAILED, data: { code: { code: 'validation_not_unique', message: 'Value must be unique.' } } },
      check: async () => expect(await countAsSuperuser(t, su, 'codes')).toBe(2),
    },
    {
      name: 'a duplicate on update is a field error, not a 500',
      method: 'PATCH',
      url: () => `${C}/${ids.codeB}`,
      body: { code: 'A1' },
      status: 400,
      expect: { message: UPDATE_FAILED, data: { code: { code: 'validation_not_unique' } } },
      check: async () => expect((await viewAsSuperuser(t, su, 'codes', ids.codeB)).code).toBe('B2'),
    },
    {
      name: 'a duplicate through multipart is a field error too',
      method: 'POST',
      url: C,
      auth: () => su,
      ...multipart({ code: 'B2' }),
      status: 400,
      expect: { data: { code: { code: 'validation_not_unique' } } },
    },
    { name: 'updating a record to its own value is fine', method: 'PATCH', url: () => `${C}/${ids.codeA}`, body: { code: 'A1', label: 'same' }, status: 200, expect: { code: 'A1', label: 'same' } },
  ]);
});

describe('relations', () => {
  const B = '/api/collections/books/records';
  const N = '/api/collections/notes/records';
  const seeded: Record<string, string> = {};

  beforeAll(async () => {
    const id = async (c: string, data: Record<string, unknown>) => String((await createRecord(t, c, data)).values.id);
    seeded.authorC = await id('authors', { name: 'cascaded' });
    seeded.bookC1 = await id('books', { title: 'c1', author: seeded.authorC });
    seeded.bookC2 = await id('books', { title: 'c2', author: seeded.authorC });
    seeded.bookR = await id('books', { title: 'reviewed' });
    seeded.reviewR = await id('reviews', { text: 'r', book: seeded.bookR });
    seeded.authorX = await id('authors', { name: 'blocked' });
    seeded.bookX = await id('books', { title: 'x', author: seeded.authorX });
    seeded.reviewX = await id('reviews', { text: 'x', book: seeded.bookX });
    seeded.tag1 = await id('tags', { name: 't1' });
    seeded.tag2 = await id('tags', { name: 't2' });
    seeded.note = await id('notes', { title: 'n', tags: [seeded.tag1, seeded.tag2], main: seeded.tag1 });
    for (const name of ['s1', 's2', 's3']) seeded[name] = await id('songs', { name });
    seeded.mixtape = await id('playlists', { name: 'mixtape', songs: [seeded.s1, seeded.s2] });
    seeded.single = await id('playlists', { name: 'single', songs: [seeded.s3] });
  });

  runScenarios(app, [
    {
      name: 'a relation to a missing record',
      method: 'POST',
      url: B,
      body: { title: 'orphan', author: 'missingauthor00' },
      status: 400,
      expect: { message: CREATE_FAILED, data: { author: { code: 'validation_missing_rel_records' } } },
      check: async () => expect(await countAsSuperuser(t, su, 'books', "title = 'orphan'")).toBe(0),
    },
    {
      name: 'a multiple relation with one missing record',
      method: 'POST',
      url: N,
      body: () => ({ title: 'half', tags: [seeded.tag1, 'missingtag00000'] }),
      status: 400,
      expect: { data: { tags: { code: 'validation_missing_rel_records' } } },
      check: async () => expect(await countAsSuperuser(t, su, 'notes')).toBe(1),
    },
    {
      name: 'an update to a missing relation record',
      method: 'PATCH',
      url: () => `${N}/${seeded.note}`,
      body: { main: 'missingtag00000' },
      status: 400,
      expect: { message: UPDATE_FAILED, data: { main: { code: 'validation_missing_rel_records' } } },
    },
    {
      name: 'a relation to an existing record',
      method: 'POST',
      url: B,
      body: () => ({ title: 'linked', author: seeded.authorC }),
      status: 200,
      check: (body) => expect(body.author).toBe(seeded.authorC),
      after: (body) => {
        seeded.bookC3 = body.id;
      },
    },
    {
      name: 'deleting a record cascades to cascadeDelete relations',
      method: 'DELETE',
      url: () => `/api/collections/authors/records/${seeded.authorC}`,
      status: 204,
      check: async () => {
        expect(await viewAsSuperuser(t, su, 'books', seeded.bookC1)).toBeNull();
        expect(await viewAsSuperuser(t, su, 'books', seeded.bookC2)).toBeNull();
        expect(await viewAsSuperuser(t, su, 'books', seeded.bookC3)).toBeNull();
      },
    },
    {
      name: 'a required relation refuses the delete',
      method: 'DELETE',
      url: () => `${B}/${seeded.bookR}`,
      status: 400,
      expect: { message: DELETE_FAILED, data: {} },
      check: async () => {
        expect(await viewAsSuperuser(t, su, 'books', seeded.bookR)).not.toBeNull();
        expect((await viewAsSuperuser(t, su, 'reviews', seeded.reviewR)).book).toBe(seeded.bookR);
      },
    },
    {
      name: 'a required relation deeper in a cascade refuses the whole delete',
      method: 'DELETE',
      url: () => `/api/collections/authors/records/${seeded.authorX}`,
      status: 400,
      expect: { message: DELETE_FAILED },
      check: async () => {
        expect(await viewAsSuperuser(t, su, 'authors', seeded.authorX)).not.toBeNull();
        expect(await viewAsSuperuser(t, su, 'books', seeded.bookX)).not.toBeNull();
        expect(await viewAsSuperuser(t, su, 'reviews', seeded.reviewX)).not.toBeNull();
      },
    },
    {
      name: 'deleting a record removes its id from non-required relations',
      method: 'DELETE',
      url: () => `/api/collections/tags/records/${seeded.tag1}`,
      status: 204,
      check: async () => {
        const note = await viewAsSuperuser(t, su, 'notes', seeded.note);
        expect(note.tags).toEqual([seeded.tag2]);
        expect(note.main).toBe('');
      },
    },
    {
      name: 'the referencing record still reads back cleanly',
      method: 'GET',
      url: () => `${N}/${seeded.note}?expand=tags,main`,
      status: 200,
      check: (body) => {
        expect(body.tags).toEqual([seeded.tag2]);
        expect(body.main).toBe('');
        expect(body.expand.tags.map((x: any) => x.id)).toEqual([seeded.tag2]);
        expect(body.expand).not.toHaveProperty('main');
      },
    },
  ]);

  runScenarios(app, [
    {
      name: 'a multiple cascadeDelete relation deletes the referencing record with its last id',
      method: 'DELETE',
      url: () => `/api/collections/songs/records/${seeded.s3}`,
      status: 204,
      check: async () => expect(await viewAsSuperuser(t, su, 'playlists', seeded.single)).toBeNull(),
    },
  ]);

  describe('multiple cascadeDelete relation with other ids left', () => {
    runScenarios(app, [
      {
        name: 'deleting one of several ids keeps the referencing record',
        method: 'DELETE',
        url: () => `/api/collections/songs/records/${seeded.s1}`,
        status: 204,
        check: async () => {
          const mixtape = await viewAsSuperuser(t, su, 'playlists', seeded.mixtape);
          expect(mixtape).not.toBeNull();
          expect(mixtape.songs).toEqual([seeded.s2]);
        },
      },
    ]);
  });

  it('the delete of the last reference leaves an empty list', async () => {
    const res = await send(t, 'DELETE', `/api/collections/tags/records/${seeded.tag2}`);
    expect(res.status).toBe(204);
    const note = await viewAsSuperuser(t, su, 'notes', seeded.note);
    expect(note.tags).toEqual([]);
  });
});
