/**
 * The collections admin API (spec §1.4) and the collection model (spec §3): access, list, view,
 * create, validation, scaffolds, update (renames, retypes, drops and the rules/indexes that follow
 * them), delete, truncate, view collections and import. Every refused change is followed by a
 * check that nothing changed (all collection definitions plus the records of the collections
 * involved).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';

import { runScenarios, send, type Method, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};

const SU = () => tok.su;
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SYSTEM_COLLECTIONS = ['_superusers', '_externalAuths', '_mfas', '_otps', '_authOrigins'];
const AUTH_SYSTEM_FIELDS = ['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified'];
const TOKEN_KEYS = ['authToken', 'passwordResetToken', 'emailChangeToken', 'verificationToken', 'fileToken'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request as the superuser. */
function su(method: Method, url: string, body?: unknown) {
  return send(t, method, url, { auth: tok.su, body });
}

async function getCollection(idOrName: string): Promise<any> {
  const res = await su('GET', `/api/collections/${idOrName}`);
  expect(res.status, res.raw).toBe(200);
  return res.body;
}

async function listRecords(collection: string, query = ''): Promise<any[]> {
  const res = await su('GET', `/api/collections/${collection}/records?perPage=500&sort=id${query}`);
  expect(res.status, res.raw).toBe(200);
  return res.body.items;
}

const fieldNames = (c: any): string[] => c.fields.map((f: any) => f.name);
const fieldOf = (c: any, name: string): any => c.fields.find((f: any) => f.name === name);

/** Everything a refused change must leave alone: all definitions, plus the records of `watch`. */
async function snapshot(watch: string[]) {
  const all = await su('GET', '/api/collections?perPage=500&sort=id');
  expect(all.status).toBe(200);
  const records: Record<string, unknown> = {};
  for (const name of watch) {
    const res = await su('GET', `/api/collections/${name}/records?perPage=500&sort=id`);
    records[name] = { status: res.status, body: res.body };
  }
  return { collections: all.body, records };
}

type Row = Scenario & {
  /** Set on a case the server gets wrong: the case is skipped (the assertion stays as the spec wants it). */
  bug?: string;
  /** For refused changes: the collections whose records must be unchanged afterwards. */
  watch?: string[];
};

/** A refused change: snapshots before, and checks afterwards that nothing changed. */
function refused(row: Row): Row {
  let before: unknown;
  return {
    ...row,
    before: async () => {
      await row.before?.();
      before = await snapshot(row.watch ?? []);
    },
    check: async (body, raw) => {
      await row.check?.(body, raw);
      expect(await snapshot(row.watch ?? []), 'a refused change must change nothing').toEqual(before);
    },
  };
}

/** Rows marked `bug` are skipped, unless BASALT_TEST_BUGS=1 (to check a fix: they must then pass). */
function run(rows: Row[]): void {
  for (const row of rows) {
    if (row.bug && !process.env.BASALT_TEST_BUGS) describe.skip(`BUG: ${row.bug}`, () => runScenarios(() => t, [row]));
    else runScenarios(() => t, [row]);
  }
}

/** Reads `data` at `path` and checks it is a field error (optionally with exactly `code`). */
function expectFieldError(body: any, path: string[], code?: string): void {
  let node = body.data;
  for (const key of path) {
    expect(node, `data.${path.join('.')}`).toHaveProperty([key]);
    node = node[key];
  }
  expect(typeof node.message).toBe('string');
  if (code) expect(node.code).toBe(code);
  else expect(node.code).toMatch(/^validation_/);
}

/** A PATCH of `collection` whose body is computed from its current definition just before sending. */
function patchFrom(collection: string, edit: (c: any) => Record<string, unknown>): Pick<Row, 'method' | 'url' | 'auth' | 'before' | 'body'> {
  let body: unknown;
  return {
    method: 'PATCH',
    url: `/api/collections/${collection}`,
    auth: SU,
    before: async () => {
      body = edit(structuredClone(await getCollection(collection)));
    },
    body: () => body,
  };
}

/** The same, editing the field list only. */
const patchFields = (collection: string, edit: (fields: any[]) => any[]) => patchFrom(collection, (c) => ({ fields: edit(c.fields) }));

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  const user = await createAuthRecord(t, 'users', { email: 'alice@example.com', name: 'Alice' });
  tok.user = user.token;
  ids.user = user.id;
  // Three plain collections, created in order, for listing, sorting and access checks.
  for (const name of ['alpha', 'bravo', 'charlie']) {
    await createCollection(t, { name, type: 'base', fields: [{ name: 'title', type: 'text' }] });
    await sleep(5);
  }
  await createRecord(t, 'alpha', { title: 'a1' });
});
afterAll(async () => {
  await t?.close();
});

describe('access: superusers only', () => {
  const endpoints: { method: Method; url: string; body?: unknown }[] = [
    { method: 'GET', url: '/api/collections' },
    { method: 'GET', url: '/api/collections/users' },
    { method: 'GET', url: '/api/collections/meta/scaffolds' },
    { method: 'POST', url: '/api/collections', body: { name: 'sneaky', type: 'base' } },
    { method: 'PATCH', url: '/api/collections/alpha', body: { listRule: '' } },
    { method: 'DELETE', url: '/api/collections/alpha' },
    { method: 'DELETE', url: '/api/collections/alpha/truncate' },
    { method: 'PUT', url: '/api/collections/import', body: { collections: [{ name: 'sneaky', type: 'base' }], deleteMissing: true } },
  ];
  run([
    ...endpoints.map((e) => refused({ name: `guest ${e.method} ${e.url}`, ...e, status: 401, expect: { data: {} }, watch: ['alpha'] })),
    ...endpoints.map((e) => refused({ name: `users-collection token ${e.method} ${e.url}`, ...e, auth: () => tok.user, status: 403, expect: { data: {} }, watch: ['alpha'] })),
    { name: 'superuser lists', method: 'GET', url: '/api/collections', auth: SU, status: 200 },
    { name: 'superuser views', method: 'GET', url: '/api/collections/users', auth: SU, status: 200, expect: { name: 'users' } },
    { name: 'superuser gets the scaffolds', method: 'GET', url: '/api/collections/meta/scaffolds', auth: SU, status: 200 },
  ]);
});

describe('GET /api/collections', () => {
  run([
    {
      name: 'paginated envelope with the system collections',
      method: 'GET',
      url: '/api/collections',
      auth: SU,
      status: 200,
      expect: { page: 1, perPage: 30, totalItems: 9, totalPages: 1 },
      check: (body) => {
        expect(Object.keys(body).sort()).toEqual(['items', 'page', 'perPage', 'totalItems', 'totalPages']);
        const names = body.items.map((c: any) => c.name);
        expect(names.sort()).toEqual([...SYSTEM_COLLECTIONS, 'users', 'alpha', 'bravo', 'charlie'].sort());
        const superusers = body.items.find((c: any) => c.name === '_superusers');
        expect(superusers).toMatchObject({ id: 'pbc_3142635823', type: 'auth', system: true });
        expect(body.items.find((c: any) => c.name === 'users')).toMatchObject({ id: '_pb_users_auth_', type: 'auth', system: false });
        for (const name of ['_externalAuths', '_mfas', '_otps', '_authOrigins']) {
          expect(body.items.find((c: any) => c.name === name), name).toMatchObject({ type: 'base', system: true });
        }
        for (const c of body.items) {
          expect(c.created).toMatch(DATETIME);
          expect(c.updated).toMatch(DATETIME);
          expect(Array.isArray(c.fields)).toBe(true);
          expect(Array.isArray(c.indexes)).toBe(true);
        }
      },
    },
    {
      name: 'filter system = true: exactly the five system collections',
      method: 'GET',
      url: `/api/collections?filter=${encodeURIComponent('system = true')}`,
      auth: SU,
      status: 200,
      expect: { totalItems: 5 },
      check: (body) => expect(body.items.map((c: any) => c.name).sort()).toEqual([...SYSTEM_COLLECTIONS].sort()),
    },
    {
      name: "filter type = 'auth'",
      method: 'GET',
      url: `/api/collections?filter=${encodeURIComponent("type = 'auth'")}`,
      auth: SU,
      status: 200,
      expect: { totalItems: 2 },
      check: (body) => expect(body.items.map((c: any) => c.name).sort()).toEqual(['_superusers', 'users']),
    },
    {
      name: "filter name = 'users' || id = 'pbc_3142635823'",
      method: 'GET',
      url: `/api/collections?filter=${encodeURIComponent("name = 'users' || id = 'pbc_3142635823'")}`,
      auth: SU,
      status: 200,
      expect: { totalItems: 2 },
    },
    {
      name: 'sort by name ascending',
      method: 'GET',
      url: `/api/collections?sort=name&filter=${encodeURIComponent("name = 'charlie' || name = 'alpha' || name = 'bravo'")}`,
      auth: SU,
      status: 200,
      check: (body) => expect(body.items.map((c: any) => c.name)).toEqual(['alpha', 'bravo', 'charlie']),
    },
    {
      name: 'sort by name descending',
      method: 'GET',
      url: `/api/collections?sort=-name&filter=${encodeURIComponent("system = false && type = 'base'")}`,
      auth: SU,
      status: 200,
      check: (body) => expect(body.items.map((c: any) => c.name)).toEqual(['charlie', 'bravo', 'alpha']),
    },
    {
      name: 'sort by -created: newest first',
      method: 'GET',
      url: `/api/collections?sort=-created&filter=${encodeURIComponent("system = false && type = 'base'")}`,
      auth: SU,
      status: 200,
      check: (body) => expect(body.items.map((c: any) => c.name)).toEqual(['charlie', 'bravo', 'alpha']),
    },
    {
      name: 'filter on created',
      method: 'GET',
      url: () => `/api/collections?filter=${encodeURIComponent(`created >= '${t.app.registry.find('bravo')!.data.created}'`)}`,
      auth: SU,
      status: 200,
      check: (body) => expect(body.items.map((c: any) => c.name).sort()).toEqual(['bravo', 'charlie']),
    },
    {
      name: 'filter on created in the future: nothing',
      method: 'GET',
      url: `/api/collections?filter=${encodeURIComponent("created > '2999-01-01 00:00:00.000Z'")}`,
      auth: SU,
      status: 200,
      expect: { totalItems: 0, items: [] },
    },
    {
      name: 'paging: page 2 of 2 per page',
      method: 'GET',
      url: '/api/collections?page=2&perPage=2&sort=name',
      auth: SU,
      status: 200,
      expect: { page: 2, perPage: 2, totalItems: 9, totalPages: 5 },
      check: (body) => expect(body.items).toHaveLength(2),
    },
    {
      name: 'skipTotal=1 gives -1 totals',
      method: 'GET',
      url: '/api/collections?skipTotal=1',
      auth: SU,
      status: 200,
      expect: { totalItems: -1, totalPages: -1 },
      check: (body) => expect(body.items).toHaveLength(9),
    },
    {
      name: '?fields=name picks on each item',
      method: 'GET',
      url: `/api/collections?fields=name&sort=name&filter=${encodeURIComponent("system = false && type = 'base'")}`,
      auth: SU,
      status: 200,
      check: (body) => {
        expect(body.items).toEqual([{ name: 'alpha' }, { name: 'bravo' }, { name: 'charlie' }]);
        expect(body.totalItems).toBe(3);
      },
    },
    {
      name: 'filter on an unknown field',
      method: 'GET',
      url: `/api/collections?filter=${encodeURIComponent("nope = 'x'")}`,
      auth: SU,
      status: 400,
    },
    {
      name: 'sort on an unknown field',
      method: 'GET',
      url: '/api/collections?sort=nope',
      auth: SU,
      status: 400,
    },
    {
      name: 'a non-integer page',
      method: 'GET',
      url: '/api/collections?page=abc',
      auth: SU,
      status: 400,
    },
  ]);
});

describe('GET /api/collections/{idOrName}', () => {
  run([
    {
      name: 'by name',
      method: 'GET',
      url: '/api/collections/users',
      auth: SU,
      status: 200,
      expect: { id: '_pb_users_auth_', name: 'users', type: 'auth' },
      absent: ['viewQuery'],
    },
    {
      name: 'by id',
      method: 'GET',
      url: '/api/collections/_pb_users_auth_',
      auth: SU,
      status: 200,
      check: async (body) => expect(body).toEqual(await getCollection('users')),
    },
    {
      name: '_superusers by its fixed id',
      method: 'GET',
      url: '/api/collections/pbc_3142635823',
      auth: SU,
      status: 200,
      expect: { name: '_superusers', type: 'auth', system: true },
      check: (body) => {
        expect(fieldNames(body).slice(0, 6)).toEqual(AUTH_SYSTEM_FIELDS);
      },
    },
    {
      name: 'auth collections never serialize token secrets',
      method: 'GET',
      url: '/api/collections/_superusers',
      auth: SU,
      status: 200,
      check: (body, raw) => {
        for (const key of TOKEN_KEYS) expect(body[key], key).toEqual({ duration: expect.any(Number) });
        expect(raw).not.toMatch(/"(secret|clientSecret)"/);
      },
    },
    {
      name: 'a base collection has no auth or view keys',
      method: 'GET',
      url: '/api/collections/alpha',
      auth: SU,
      status: 200,
      expect: { name: 'alpha', type: 'base', system: false },
      absent: ['viewQuery', 'authRule', 'manageRule', 'passwordAuth', 'authToken', 'oauth2', 'mfa', 'otp'],
    },
    { name: 'missing collection', method: 'GET', url: '/api/collections/missing', auth: SU, status: 404, expect: { data: {} } },
  ]);
});

describe('POST /api/collections', () => {
  run([
    {
      name: 'base collection: id field added, fields normalised with defaults, rules kept',
      method: 'POST',
      url: '/api/collections',
      auth: SU,
      body: {
        name: 'articles',
        type: 'base',
        listRule: '',
        viewRule: "title != ''",
        fields: [
          { name: 'title', type: 'text', required: true },
          { name: 'views', type: 'number' },
          { name: 'status', type: 'select', values: ['draft', 'published'] },
          { name: 'author', type: 'relation', collectionId: 'users' },
          { name: 'meta', type: 'json' },
          { name: 'stamp', type: 'autodate', onCreate: true },
        ],
      },
      status: 200,
      expect: { name: 'articles', type: 'base', system: false, listRule: '', viewRule: "title != ''", createRule: null, updateRule: null, deleteRule: null, indexes: [] },
      absent: ['viewQuery', 'authRule', 'authToken'],
      check: (body) => {
        expect(typeof body.id).toBe('string');
        expect(body.id.length).toBeGreaterThan(0);
        expect(body.created).toMatch(DATETIME);
        expect(body.updated).toMatch(DATETIME);
        expect(fieldNames(body)).toEqual(['id', 'title', 'views', 'status', 'author', 'meta', 'stamp']);
        expect(fieldOf(body, 'id')).toMatchObject({
          type: 'text',
          system: true,
          primaryKey: true,
          required: true,
          min: 15,
          max: 15,
          pattern: '^[a-z0-9]+$',
          autogeneratePattern: '[a-z0-9]{15}',
        });
        expect(fieldOf(body, 'title')).toMatchObject({
          type: 'text',
          required: true,
          system: false,
          hidden: false,
          presentable: false,
          min: 0,
          max: 0,
          pattern: '',
          autogeneratePattern: '',
          primaryKey: false,
        });
        expect(fieldOf(body, 'views')).toMatchObject({ type: 'number', required: false, min: null, max: null, onlyInt: false });
        expect(fieldOf(body, 'status')).toMatchObject({ type: 'select', maxSelect: 1, values: ['draft', 'published'] });
        expect(fieldOf(body, 'author')).toMatchObject({ type: 'relation', collectionId: '_pb_users_auth_', cascadeDelete: false, maxSelect: 1 });
        expect(fieldOf(body, 'stamp')).toMatchObject({ type: 'autodate', onCreate: true, onUpdate: false });
        for (const f of body.fields) {
          expect(typeof f.id, f.name).toBe('string');
          expect(f.id.length, f.name).toBeGreaterThan(0);
        }
        expect(new Set(body.fields.map((f: any) => f.id)).size).toBe(body.fields.length);
      },
      after: async (body) => {
        expect(await getCollection('articles')).toEqual(body);
        expect(await getCollection(body.id)).toEqual(body);
        const res = await send(t, 'GET', '/api/collections/articles/records');
        expect(res.status, res.raw).toBe(200);
        expect(res.body.totalItems).toBe(0);
      },
    },
    {
      name: 'every field has id, name, type, system, hidden, presentable and help',
      method: 'GET',
      url: '/api/collections/articles',
      auth: SU,
      status: 200,
      check: (body) => {
        for (const f of body.fields) {
          for (const key of ['id', 'name', 'type', 'system', 'hidden', 'presentable', 'help']) expect(f, `${f.name}.${key}`).toHaveProperty(key);
        }
      },
    },
    {
      name: 'a custom collection id is kept',
      method: 'POST',
      url: '/api/collections',
      auth: SU,
      body: { id: 'custom_id_1', name: 'customid' },
      status: 200,
      expect: { id: 'custom_id_1', name: 'customid', type: 'base' },
      check: (body) => expect(fieldNames(body)).toEqual(['id']),
    },
    {
      name: 'type defaults to base; ?fields= reduces the response',
      method: 'POST',
      url: '/api/collections?fields=name,type',
      auth: SU,
      body: { name: 'defaulted' },
      status: 200,
      check: (body) => expect(body).toEqual({ name: 'defaulted', type: 'base' }),
    },
    {
      name: 'auth collection: system fields, unique indexes, options, no secrets',
      method: 'POST',
      url: '/api/collections',
      auth: SU,
      body: {
        name: 'customers',
        type: 'auth',
        fields: [{ name: 'nickname', type: 'text' }],
        authToken: { duration: 1000, secret: 'a-brand-new-secret-of-more-than-thirty-chars' },
        oauth2: { providers: [{ name: 'google', clientId: 'client-1', clientSecret: 'super-secret-value' }] },
      },
      status: 200,
      expect: {
        name: 'customers',
        type: 'auth',
        system: false,
        authRule: '',
        manageRule: null,
        passwordAuth: { enabled: true, identityFields: ['email'] },
        mfa: { enabled: false, duration: 600, rule: '' },
        otp: { enabled: false, duration: 180, length: 8 },
        authToken: { duration: 1000 },
        authAlert: { enabled: true },
      },
      absent: ['viewQuery'],
      check: (body, raw) => {
        const names = fieldNames(body);
        expect(names).toEqual(expect.arrayContaining([...AUTH_SYSTEM_FIELDS, 'nickname']));
        expect(fieldOf(body, 'password')).toMatchObject({ type: 'password', system: true, hidden: true, required: true });
        expect(fieldOf(body, 'tokenKey')).toMatchObject({ type: 'text', system: true, hidden: true, required: true });
        expect(fieldOf(body, 'email')).toMatchObject({ type: 'email', system: true, required: true, hidden: false });
        expect(fieldOf(body, 'emailVisibility')).toMatchObject({ type: 'bool', system: true });
        expect(fieldOf(body, 'verified')).toMatchObject({ type: 'bool', system: true });
        expect(fieldOf(body, 'nickname')).toMatchObject({ type: 'text', system: false });
        // Two unique indexes: tokenKey, and email (partial, WHERE email != '').
        expect(body.indexes).toHaveLength(2);
        expect(body.indexes.find((s: string) => /tokenKey/.test(s))).toMatch(/^CREATE UNIQUE INDEX .+\(\s*`?tokenKey`?\s*\)$/i);
        expect(body.indexes.find((s: string) => /\(\s*`?email`?\s*\)/.test(s))).toMatch(/^CREATE UNIQUE INDEX .+\(\s*`?email`?\s*\)\s+WHERE\s+`?email`?\s*!=\s*''$/i);
        for (const key of TOKEN_KEYS) expect(body[key], key).toEqual({ duration: expect.any(Number) });
        expect(body.passwordResetToken.duration).toBe(1800);
        expect(body.verificationToken.duration).toBe(86400);
        expect(body.fileToken.duration).toBe(180);
        expect(body.oauth2.providers).toEqual([{ name: 'google', clientId: 'client-1', authURL: '', tokenURL: '', userInfoURL: '', displayName: '', pkce: null, extra: {} }]);
        expect(raw).not.toMatch(/"(secret|clientSecret)"/);
        expect(raw).not.toContain('super-secret-value');
        expect(raw).not.toContain('a-brand-new-secret');
      },
      after: async () => {
        // The new collection works end to end: records can be created and can sign in.
        const created = await su('POST', '/api/collections/customers/records', { email: 'c1@example.com', password: 'password123', passwordConfirm: 'password123' });
        expect(created.status, created.raw).toBe(200);
        const auth = await send(t, 'POST', '/api/collections/customers/auth-with-password', { body: { identity: 'c1@example.com', password: 'password123' } });
        expect(auth.status, auth.raw).toBe(200);
      },
    },
    {
      name: 'auth system fields come first, in PocketBase order',
      method: 'GET',
      url: '/api/collections/customers',
      auth: SU,
      status: 200,
      check: (body) => expect(fieldNames(body)).toEqual([...AUTH_SYSTEM_FIELDS, 'nickname']),
    },
  ]);
});

describe('POST /api/collections: validation errors', () => {
  const create = (name: string, body: unknown, path: string[], code?: string, extra: Partial<Row> = {}): Row =>
    refused({
      name,
      method: 'POST',
      url: '/api/collections',
      auth: SU,
      body,
      status: 400,
      check: (res) => expectFieldError(res, path, code),
      ...extra,
    });
  run([
    create('empty body', {}, ['name']),
    create('bad name', { name: 'bad name!' }, ['name']),
    create('name too long', { name: 'x'.repeat(300) }, ['name']),
    create('duplicate name', { name: 'alpha' }, ['name'], 'validation_collection_name_exists'),
    create('duplicate name, other case', { name: 'ALPHA' }, ['name'], 'validation_collection_name_exists'),
    create('reserved "_" prefix', { name: '_private' }, ['name']),
    create('name containing _via_', { name: 'posts_via_author' }, ['name']),
    {
      ...create('name equal to another collection id', { name: 'custom_id_1' }, ['name']),
    },
    create('a custom id that is taken', { id: 'custom_id_1', name: 'other_name' }, ['id']),
    create('an invalid custom id', { id: 'bad id!', name: 'other_name' }, ['id']),
    create('unknown collection type', { name: 'weird', type: 'weird' }, ['type']),
    create('unknown field type', { name: 'x1', fields: [{ name: 'a', type: 'nope' }] }, ['fields', '0', 'type']),
    create('fields not a list', { name: 'x1', fields: 'title' }, ['fields']),
    create('duplicate field names (case-insensitive)', { name: 'x2', fields: [{ name: 'a', type: 'text' }, { name: 'A', type: 'number' }] }, ['fields', '1', 'name'], 'validation_duplicated_field_name'),
    create('invalid field name', { name: 'x3', fields: [{ name: 'bad-name', type: 'text' }] }, ['fields', '0', 'name']),
    create('reserved field name "expand"', { name: 'x3', fields: [{ name: 'expand', type: 'text' }] }, ['fields', '0', 'name']),
    {
      ...create('auth: reserved field name passwordConfirm', { name: 'x3', type: 'auth', fields: [{ name: 'passwordConfirm', type: 'text' }] }, ['fields', '0', 'name']),
    },
    create('select without values', { name: 'x4', fields: [{ name: 's', type: 'select' }] }, ['fields', '0', 'values']),
    create('number min > max', { name: 'x4', fields: [{ name: 'n', type: 'number', min: 10, max: 1 }] }, ['fields', '0', 'max']),
    create('text negative min', { name: 'x4', fields: [{ name: 't', type: 'text', min: -1 }] }, ['fields', '0', 'min']),
    create('relation to a missing collection', { name: 'x4', fields: [{ name: 'r', type: 'relation', collectionId: 'missing' }] }, ['fields', '0', 'collectionId']),
    ...["id = '", "(id = 'x'", "id ==== 'x'", "id = 'x' &&", '&&'].map((rule) =>
      create(`invalid rule syntax: ${rule}`, { name: 'x5', listRule: rule }, ['listRule'], 'validation_invalid_rule'),
    ),
    ...["title = '", "(title = 'x'", "title = 'x' &&"].map((rule) => ({
      ...create(`invalid rule syntax together with fields: ${rule}`, { name: 'x5', listRule: rule, fields: [{ name: 'title', type: 'text' }] }, ['listRule'], 'validation_invalid_rule'),
    })),
    create('rule naming an unknown field', { name: 'x5', listRule: "nope = 'x'", fields: [{ name: 'title', type: 'text' }] }, ['listRule'], 'validation_invalid_rule'),
    create('rule traversing into an unknown field', { name: 'x5', viewRule: "author.nope = 'x'", fields: [{ name: 'author', type: 'relation', collectionId: 'users' }] }, ['viewRule'], 'validation_invalid_rule'),
    create('rule naming an unknown @collection', { name: 'x5', listRule: '@collection.nope.title = 1' }, ['listRule'], 'validation_invalid_rule'),
    create('rule that is not a string', { name: 'x5', listRule: 42 }, ['listRule'], 'validation_invalid_rule'),
    create('bad index string', { name: 'x6', fields: [{ name: 'a', type: 'text' }], indexes: ['CREATE INDEX oops'] }, ['indexes', '0'], 'validation_invalid_index_expression'),
    create('index that is not an index', { name: 'x6', fields: [{ name: 'a', type: 'text' }], indexes: ['DROP TABLE users'] }, ['indexes', '0'], 'validation_invalid_index_expression'),
    create('index on a missing field', { name: 'x6', fields: [{ name: 'a', type: 'text' }], indexes: ['CREATE INDEX idx_x6_nope ON x6 (nope)'] }, ['indexes', '0']),
    create('indexes not a list', { name: 'x6', fields: [{ name: 'a', type: 'text' }], indexes: 'CREATE INDEX idx_x6 ON x6 (a)' }, ['indexes']),
    create('index name used by another collection', { name: 'x6', fields: [{ name: 'a', type: 'text' }], indexes: ['CREATE INDEX idx_tokenKey__pb_users_auth_ ON x6 (a)'] }, ['indexes', '0']),
    create('auth: identity field without a unique index', { name: 'x7', type: 'auth', fields: [{ name: 'nickname', type: 'text' }], passwordAuth: { identityFields: ['nickname'] } }, ['passwordAuth', 'identityFields']),
    create('auth: identity field that does not exist', { name: 'x7', type: 'auth', passwordAuth: { identityFields: ['nope'] } }, ['passwordAuth', 'identityFields']),
    create('auth: token duration out of range', { name: 'x7', type: 'auth', authToken: { duration: 5 } }, ['authToken', 'duration']),
    create('view query that is not a SELECT', { name: 'v1', type: 'view', viewQuery: 'DELETE FROM users' }, ['viewQuery'], 'validation_invalid_view_query', { watch: ['users'] }),
    create('view query with two statements', { name: 'v1', type: 'view', viewQuery: 'SELECT 1 as id; DROP TABLE users' }, ['viewQuery'], 'validation_invalid_view_query', {
      watch: ['users'],
      after: async () => {
        // The users table is still there, with its record.
        const users = await listRecords('users');
        expect(users.map((u) => u.id)).toEqual([ids.user]);
      },
    }),
    create('view query SELECT then DELETE', { name: 'v1', type: 'view', viewQuery: 'SELECT id FROM users; DELETE FROM users' }, ['viewQuery'], 'validation_invalid_view_query', {
      watch: ['users'],
      after: async () => expect(await listRecords('users')).toHaveLength(1),
    }),
    create('view query on a missing table', { name: 'v1', type: 'view', viewQuery: 'SELECT id FROM nope' }, ['viewQuery']),
    create('view query without an id column', { name: 'v1', type: 'view', viewQuery: 'SELECT email FROM users' }, ['viewQuery']),
    create('empty view query', { name: 'v1', type: 'view', viewQuery: '' }, ['viewQuery']),
    create('view with a createRule', { name: 'v1', type: 'view', viewQuery: 'SELECT id FROM users', createRule: '' }, ['createRule']),
    create('view with indexes', { name: 'v1', type: 'view', viewQuery: 'SELECT id FROM users', indexes: ['CREATE INDEX idx_v1 ON v1 (id)'] }, ['indexes']),
    {
      ...create('index error message is one clean sentence', { name: 'x6', fields: [{ name: 'a', type: 'text' }], indexes: ['CREATE INDEX oops'] }, ['indexes', '0']),
      check: (res) => {
        const message: string = res.data.indexes['0'].message;
        expect(message).not.toMatch(/\.\.$/);
        expect(message.match(/Invalid index/g) ?? []).toHaveLength(1);
      },
    },
    create('body that is not an object', [1, 2], ['']),
  ]);
});

describe('GET /api/collections/meta/scaffolds', () => {
  run([
    {
      name: 'base, auth and view with defaults and no secrets',
      method: 'GET',
      url: '/api/collections/meta/scaffolds',
      auth: SU,
      status: 200,
      check: (body, raw) => {
        expect(Object.keys(body).sort()).toEqual(['auth', 'base', 'view']);
        const noRules = { listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null };
        // PocketBase's NewBaseCollection/NewAuthCollection/NewViewCollection, the id cleared.
        expect(body.base).toMatchObject({ id: '', type: 'base', name: '', system: false, ...noRules, indexes: [], created: '', updated: '' });
        expect(body.base.fields).toEqual([
          {
            id: 'text3208210256',
            name: 'id',
            type: 'text',
            system: true,
            hidden: false,
            presentable: false,
            help: '',
            required: true,
            primaryKey: true,
            min: 15,
            max: 15,
            pattern: '^[a-z0-9]+$',
            autogeneratePattern: '[a-z0-9]{15}',
          },
        ]);
        expect(body.base).not.toHaveProperty('viewQuery');
        expect(body.base).not.toHaveProperty('authToken');

        expect(body.auth).toMatchObject({ id: '', type: 'auth', name: '', ...noRules, authRule: '', manageRule: null, passwordAuth: { enabled: true, identityFields: ['email'] } });
        expect(fieldNames(body.auth)).toEqual(AUTH_SYSTEM_FIELDS);
        expect(body.auth.fields.every((f: any) => f.system === true)).toBe(true);
        expect(fieldOf(body.auth, 'password')).toMatchObject({ id: 'password901924565', type: 'password', hidden: true, required: true, min: 8 });
        expect(fieldOf(body.auth, 'tokenKey')).toMatchObject({ id: 'text2504183744', type: 'text', hidden: true, required: true, min: 30, max: 60, autogeneratePattern: '[a-zA-Z0-9]{50}' });
        expect(fieldOf(body.auth, 'email')).toMatchObject({ id: 'email3885137012', type: 'email', hidden: false, required: true });
        expect(fieldOf(body.auth, 'emailVisibility')).toMatchObject({ id: 'bool1547992806', type: 'bool', hidden: false, required: false });
        expect(fieldOf(body.auth, 'verified')).toMatchObject({ id: 'bool256245529', type: 'bool', hidden: false, required: false });
        // The unique indexes are named after a random id, on the still unnamed table.
        expect(body.auth.indexes).toEqual([
          expect.stringMatching(/^CREATE UNIQUE INDEX `idx_tokenKey_[a-z0-9]{10}` ON `` \(`tokenKey`\)$/),
          expect.stringMatching(/^CREATE UNIQUE INDEX `idx_email_[a-z0-9]{10}` ON `` \(`email`\) WHERE `email` != ''$/),
        ]);
        for (const key of TOKEN_KEYS) expect(body.auth[key], key).toEqual({ duration: expect.any(Number) });
        expect(body.auth.authToken.duration).toBe(432000);

        expect(body.view).toMatchObject({ id: '', type: 'view', viewQuery: '', fields: [], indexes: [], ...noRules });
        expect(body.view).not.toHaveProperty('authToken');
        expect(raw).not.toMatch(/"(secret|clientSecret)"/);
      },
    },
  ]);
});

describe('the dashboard\'s "New collection": scaffold + created/updated, posted as is', () => {
  // PocketBase's ui/src/collections/collectionUpsertModal.js: a copy of the scaffold, the two
  // autodate fields pushed, the name set, the indexes pointed at that name, then create.
  async function createLikeTheDashboard(type: 'base' | 'auth', name: string) {
    const scaffolds = await su('GET', '/api/collections/meta/scaffolds');
    expect(scaffolds.status, scaffolds.raw).toBe(200);
    const collection = structuredClone(scaffolds.body[type]);
    collection.fields.push({ type: 'autodate', name: 'created', onCreate: true });
    collection.fields.push({ type: 'autodate', name: 'updated', onCreate: true, onUpdate: true });
    collection.fields.push({ type: 'text', name: 'title' });
    collection.name = name;
    collection.indexes = collection.indexes.map((idx: string) => idx.replace(' ON `` ', ` ON \`${name}\` `));
    return su('POST', '/api/collections', collection);
  }

  it.each([
    { type: 'base' as const, name: 'dash_base', fields: ['id', 'created', 'updated', 'title'] },
    { type: 'auth' as const, name: 'dash_auth', fields: [...AUTH_SYSTEM_FIELDS, 'created', 'updated', 'title'] },
  ])('$type', async ({ type, name, fields }) => {
    const res = await createLikeTheDashboard(type, name);
    expect(res.status, res.raw).toBe(200);
    expect(fieldNames(res.body)).toEqual(fields);
    expect(fieldOf(res.body, 'id')).toMatchObject({ system: true, primaryKey: true });
    expect(fieldOf(res.body, 'created')).toMatchObject({ type: 'autodate', system: false, onCreate: true, onUpdate: false });
    expect(fieldOf(res.body, 'updated')).toMatchObject({ type: 'autodate', system: false, onCreate: true, onUpdate: true });
    // The collection works: a record gets its dates.
    const record = await su('POST', `/api/collections/${name}/records`, type === 'auth' ? { title: 'x', email: 'dash@example.com', password: 'password123', passwordConfirm: 'password123' } : { title: 'x' });
    expect(record.status, record.raw).toBe(200);
    expect(record.body.created).toMatch(DATETIME);
    expect(record.body.updated).toMatch(DATETIME);
  });
});

describe('the id field is always a system field, whatever the client sends', () => {
  const looseId = { name: 'id', type: 'text', system: false, primaryKey: true, required: false, hidden: true, min: 15, max: 15, pattern: '^[a-z0-9]+$', autogeneratePattern: '[a-z0-9]{15}' };
  const expectSystemId = (collection: any) =>
    expect(fieldOf(collection, 'id')).toMatchObject({ system: true, primaryKey: true, required: true, hidden: false });

  async function expectWorks(name: string) {
    const created = await su('POST', `/api/collections/${name}/records`, { title: 'x' });
    expect(created.status, created.raw).toBe(200);
    expect(created.body.id).toMatch(/^[a-z0-9]{15}$/);
    expect((await su('GET', `/api/collections/${name}/records/${created.body.id}`)).status).toBe(200);
  }

  it('on create', async () => {
    const res = await su('POST', '/api/collections', { name: 'sys_id_create', type: 'base', fields: [looseId, { name: 'title', type: 'text' }] });
    expect(res.status, res.raw).toBe(200);
    expectSystemId(res.body);
    expectSystemId(await getCollection('sys_id_create'));
    await expectWorks('sys_id_create');
  });

  it('on create of an auth collection, its own fields too', async () => {
    const res = await su('POST', '/api/collections', {
      name: 'sys_id_auth',
      type: 'auth',
      fields: [looseId, { name: 'email', type: 'email', system: false, hidden: true }, { name: 'verified', type: 'bool', system: false }],
    });
    expect(res.status, res.raw).toBe(200);
    expectSystemId(res.body);
    expect(fieldOf(res.body, 'email')).toMatchObject({ system: true, hidden: false });
    expect(fieldOf(res.body, 'verified')).toMatchObject({ system: true });
  });

  it('on update', async () => {
    expect((await su('POST', '/api/collections', { name: 'sys_id_update', type: 'base', fields: [{ name: 'title', type: 'text' }] })).status).toBe(200);
    const before = await getCollection('sys_id_update');
    const fields = before.fields.map((f: any) => (f.name === 'id' ? { ...f, ...looseId, id: f.id } : f));
    const res = await su('PATCH', '/api/collections/sys_id_update', { fields });
    expect(res.status, res.raw).toBe(200);
    expectSystemId(res.body);
    expectSystemId(await getCollection('sys_id_update'));
    await expectWorks('sys_id_update');
    // Still a system field: it cannot be dropped.
    const dropped = await su('PATCH', '/api/collections/sys_id_update', { fields: fields.filter((f: any) => f.name !== 'id') });
    expect(dropped.status, dropped.raw).toBe(400);
    expect(dropped.body.data.fields.system.code).toBe('validation_system_field_removed');
  });

  it('on import', async () => {
    const res = await su('PUT', '/api/collections/import', {
      collections: [{ name: 'sys_id_import', type: 'base', fields: [looseId, { name: 'title', type: 'text' }] }],
    });
    expect(res.status, res.raw).toBe(204);
    expectSystemId(await getCollection('sys_id_import'));
    await expectWorks('sys_id_import');
  });
});

describe('PATCH /api/collections/{idOrName}', () => {
  beforeAll(async () => {
    await createCollection(t, {
      name: 'authors',
      type: 'base',
      listRule: "nick != ''",
      fields: [
        { name: 'nick', type: 'text' },
        { name: 'age', type: 'number' },
        { name: 'code', type: 'text' },
        { name: 'bio', type: 'text' },
        { name: 'status', type: 'select', values: ['a', 'b', 'c'], maxSelect: 1 },
      ],
      indexes: ['CREATE INDEX idx_authors_nick ON authors (nick)'],
    });
    await createCollection(t, {
      name: 'books',
      type: 'base',
      listRule: "author.nick = 'x' || author.age > 0",
      viewRule: "@collection.authors.nick ?= 'bob'",
      fields: [
        { name: 'title', type: 'text' },
        { name: 'author', type: 'relation', collectionId: 'authors' },
      ],
    });
    // A back-relation rule on authors, added once books exists.
    await t.app.collections.update('authors', { viewRule: "nick = 'bob' || books_via_author.title ?= 'B1'" });
    const bob = await createRecord(t, 'authors', { nick: 'bob', age: 42, code: '17', bio: 'hello', status: 'a' });
    ids.bob = String(bob.values.id);
    const ann = await createRecord(t, 'authors', { nick: 'ann', age: 7, code: 'not a number', bio: 'hi', status: 'b' });
    ids.ann = String(ann.values.id);
    const book = await createRecord(t, 'books', { title: 'B1', author: ids.bob });
    ids.book = String(book.values.id);
    ids.authors = t.app.registry.find('authors')!.id;
  });

  run([
    {
      name: 'add a field (and a rule using it)',
      ...patchFrom('authors', (c) => ({ fields: [...c.fields, { name: 'rating', type: 'number' }], updateRule: 'rating >= 0' })),
      status: 200,
      expect: { updateRule: 'rating >= 0' },
      check: (body) => {
        expect(fieldNames(body)).toEqual(['id', 'nick', 'age', 'code', 'bio', 'status', 'rating']);
        expect(fieldOf(body, 'rating')).toMatchObject({ type: 'number', min: null, max: null, onlyInt: false });
      },
      after: async () => {
        const bob = (await listRecords('authors')).find((r) => r.id === ids.bob);
        expect(bob).toMatchObject({ nick: 'bob', age: 42, code: '17', bio: 'hello', status: 'a', rating: 0 });
      },
    },
    {
      name: 'rename a field (same id, new name): data kept, own rules and indexes rewritten',
      ...patchFields('authors', (fields) => fields.map((f) => (f.name === 'nick' ? { ...f, name: 'handle' } : f))),
      status: 200,
      check: (body) => {
        expect(fieldNames(body)).toEqual(['id', 'handle', 'age', 'code', 'bio', 'status', 'rating']);
        expect(body.listRule).toBe("handle != ''");
        expect(body.viewRule).toBe("handle = 'bob' || books_via_author.title ?= 'B1'");
        expect(body.indexes).toHaveLength(1);
        expect(body.indexes[0]).toMatch(/idx_authors_nick/);
        expect(body.indexes[0]).toMatch(/\(\s*`?handle`?\s*\)/);
        expect(body.indexes[0]).not.toMatch(/\bnick`?\s*\)/);
      },
      after: async () => {
        const records = await listRecords('authors');
        expect(records.find((r) => r.id === ids.bob)).toMatchObject({ handle: 'bob', age: 42 });
        expect(records.find((r) => r.id === ids.bob)).not.toHaveProperty('nick');
        // The new name filters, the old one no longer exists.
        expect(await listRecords('authors', `&filter=${encodeURIComponent("handle = 'bob'")}`)).toHaveLength(1);
        expect((await su('GET', `/api/collections/authors/records?filter=${encodeURIComponent("nick = 'bob'")}`)).status).toBe(400);
      },
    },
    {
      name: 'the rename rewrote rules in other collections that traverse into the field',
      method: 'GET',
      url: '/api/collections/books',
      auth: SU,
      status: 200,
      expect: { listRule: "author.handle = 'x' || author.age > 0", viewRule: "@collection.authors.handle ?= 'bob'" },
      after: async () => {
        // The rewritten rules still evaluate: a guest lists the book whose author is 42.
        const res = await send(t, 'GET', '/api/collections/books/records');
        expect(res.status, res.raw).toBe(200);
        expect(res.body.items.map((r: any) => r.id)).toEqual([ids.book]);
      },
    },
    {
      name: 'rename a relation field: back-relation rules elsewhere follow (books_via_author → books_via_writer)',
      ...patchFields('books', (fields) => fields.map((f) => (f.name === 'author' ? { ...f, name: 'writer' } : f))),
      status: 200,
      expect: { listRule: "writer.handle = 'x' || writer.age > 0" },
      after: async () => {
        expect((await getCollection('authors')).viewRule).toBe("handle = 'bob' || books_via_writer.title ?= 'B1'");
        expect((await listRecords('books'))[0]).toMatchObject({ id: ids.book, writer: ids.bob });
      },
    },
    {
      name: 'retype text → number: numeric text converts, the rest becomes 0',
      ...patchFields('authors', (fields) => fields.map((f) => (f.name === 'code' ? { id: f.id, name: 'code', type: 'number' } : f))),
      status: 200,
      check: (body) => expect(fieldOf(body, 'code')).toMatchObject({ type: 'number', min: null, max: null, onlyInt: false }),
      after: async () => {
        const records = await listRecords('authors');
        expect(records.find((r) => r.id === ids.bob)!.code).toBe(17);
        expect(records.find((r) => r.id === ids.ann)!.code).toBe(0);
        expect(await listRecords('authors', `&filter=${encodeURIComponent('code > 10')}`)).toHaveLength(1);
      },
    },
    {
      name: 'retype number → text: numbers become their text',
      ...patchFields('authors', (fields) => fields.map((f) => (f.name === 'age' ? { id: f.id, name: 'age', type: 'text' } : f))),
      status: 200,
      check: (body) => expect(fieldOf(body, 'age')).toMatchObject({ type: 'text', pattern: '' }),
      after: async () => {
        const records = await listRecords('authors');
        expect(records.find((r) => r.id === ids.bob)!.age).toBe('42');
        expect(records.find((r) => r.id === ids.ann)!.age).toBe('7');
      },
    },
    {
      name: 'single select → multiple (maxSelect 1 → 3): the value becomes a one-item array',
      ...patchFields('authors', (fields) => fields.map((f) => (f.name === 'status' ? { ...f, maxSelect: 3 } : f))),
      status: 200,
      check: (body) => expect(fieldOf(body, 'status')).toMatchObject({ type: 'select', maxSelect: 3 }),
      after: async () => {
        const records = await listRecords('authors');
        expect(records.find((r) => r.id === ids.bob)!.status).toEqual(['a']);
        expect(records.find((r) => r.id === ids.ann)!.status).toEqual(['b']);
        const upd = await su('PATCH', `/api/collections/authors/records/${ids.ann}`, { status: ['b', 'c'] });
        expect(upd.status, upd.raw).toBe(200);
        expect(upd.body.status).toEqual(['b', 'c']);
        // Back to one item so the next step is deterministic.
        expect((await su('PATCH', `/api/collections/authors/records/${ids.ann}`, { status: ['b'] })).status).toBe(200);
      },
    },
    {
      name: 'multiple select → single (maxSelect 3 → 1): a one-item array becomes a string',
      ...patchFields('authors', (fields) => fields.map((f) => (f.name === 'status' ? { ...f, maxSelect: 1 } : f))),
      status: 200,
      check: (body) => expect(fieldOf(body, 'status')).toMatchObject({ maxSelect: 1 }),
      after: async () => {
        const records = await listRecords('authors');
        expect(records.find((r) => r.id === ids.bob)!.status).toBe('a');
        expect(records.find((r) => r.id === ids.ann)!.status).toBe('b');
      },
    },
    {
      name: 'drop a field: gone from the definition and the records, the rest kept',
      ...patchFields('authors', (fields) => fields.filter((f) => f.name !== 'bio')),
      status: 200,
      check: (body) => expect(fieldNames(body)).toEqual(['id', 'handle', 'age', 'code', 'status', 'rating']),
      after: async () => {
        const bob = (await listRecords('authors')).find((r) => r.id === ids.bob);
        expect(bob).not.toHaveProperty('bio');
        expect(bob).toMatchObject({ handle: 'bob', age: '42', code: 17, status: 'a' });
        expect((await su('GET', `/api/collections/authors/records?filter=${encodeURIComponent("bio = 'hello'")}`)).status).toBe(400);
      },
    },
    {
      name: 'a field can be added back with the dropped name (fresh, empty column)',
      ...patchFields('authors', (fields) => [...fields, { name: 'bio', type: 'text' }]),
      status: 200,
      after: async () => {
        expect((await listRecords('authors')).find((r) => r.id === ids.bob)!.bio).toBe('');
      },
    },
    refused({
      name: 'collection type change',
      method: 'PATCH',
      url: '/api/collections/authors',
      auth: SU,
      body: { type: 'auth' },
      status: 400,
      watch: ['authors', 'books'],
      check: (body) => expectFieldError(body, ['type'], 'validation_collection_type_change'),
    }),
    refused({
      name: 'auth → base type change',
      method: 'PATCH',
      url: '/api/collections/users',
      auth: SU,
      body: { type: 'base' },
      status: 400,
      watch: ['users'],
      check: (body) => expectFieldError(body, ['type'], 'validation_collection_type_change'),
    }),
    refused({
      name: 'rename to an existing name',
      method: 'PATCH',
      url: '/api/collections/authors',
      auth: SU,
      body: { name: 'Books' },
      status: 400,
      watch: ['authors', 'books'],
      check: (body) => expectFieldError(body, ['name'], 'validation_collection_name_exists'),
    }),
    refused({
      name: 'rule naming an unknown field',
      method: 'PATCH',
      url: '/api/collections/authors',
      auth: SU,
      body: { listRule: "nick = 'bob'" },
      status: 400,
      watch: ['authors'],
      check: (body) => expectFieldError(body, ['listRule'], 'validation_invalid_rule'),
    }),
    refused({
      name: 'rule with a syntax error',
      method: 'PATCH',
      url: '/api/collections/authors',
      auth: SU,
      body: { listRule: "handle = 'bob' &&" },
      status: 400,
      watch: ['authors'],
      check: (body) => expectFieldError(body, ['listRule'], 'validation_invalid_rule'),
    }),
    {
      ...refused({
        name: 'rule with a syntax error, sent with the fields',
        ...patchFrom('authors', (c) => ({ fields: c.fields, viewRule: "(handle = 'bob'" })),
        status: 400,
        watch: ['authors'],
        check: (body) => expectFieldError(body, ['viewRule'], 'validation_invalid_rule'),
      }),
    },
    refused({
      name: 'drop a field its own rule still names',
      ...patchFields('authors', (fields) => fields.filter((f) => f.name !== 'rating')),
      status: 400,
      watch: ['authors'],
      check: (body) => expectFieldError(body, ['updateRule'], 'validation_invalid_rule'),
    }),
    refused({
      name: 'add a field with a duplicate name',
      ...patchFields('authors', (fields) => [...fields, { name: 'HANDLE', type: 'text' }]),
      status: 400,
      watch: ['authors'],
      check: (body) => expect(body.data.fields).toBeDefined(),
    }),
    refused({
      name: 'rename the id system field',
      ...patchFields('authors', (fields) => fields.map((f) => (f.name === 'id' ? { ...f, name: 'pk' } : f))),
      status: 400,
      watch: ['authors'],
      check: (body) => expect(body.data.fields).toBeDefined(),
    }),
    refused({
      name: 'remove the id system field',
      ...patchFields('authors', (fields) => fields.filter((f) => f.name !== 'id')),
      status: 400,
      watch: ['authors'],
      check: (body) => expect(body.data.fields).toBeDefined(),
    }),
    refused({
      name: 'remove the email system field of users',
      ...patchFields('users', (fields) => fields.filter((f) => f.name !== 'email')),
      status: 400,
      watch: ['users'],
      check: (body) => expect(body.data.fields).toBeDefined(),
    }),
    refused({
      name: 'an index on a field that does not exist',
      method: 'PATCH',
      url: '/api/collections/authors',
      auth: SU,
      body: { indexes: ['CREATE INDEX idx_authors_x ON authors (nope)'] },
      status: 400,
      watch: ['authors'],
      check: (body) => expectFieldError(body, ['indexes', '0']),
    }),
    {
      ...refused({
        name: 'a unique index the existing data violates',
        method: 'PATCH',
        url: '/api/collections/authors',
        auth: SU,
        body: { indexes: ['CREATE INDEX idx_authors_nick ON authors (handle)', 'CREATE UNIQUE INDEX idx_authors_bio ON authors (bio)'] },
        status: 400,
        watch: ['authors'],
      }),
    },
    {
      name: 'rename the collection: data kept, @collection rules elsewhere rewritten, index table follows',
      method: 'PATCH',
      url: '/api/collections/authors',
      auth: SU,
      body: { name: 'writers' },
      status: 200,
      check: (body) => {
        expect(body).toMatchObject({ id: ids.authors, name: 'writers' });
        expect(body.indexes[0]).toMatch(/ON\s+`?writers`?/);
      },
      after: async () => {
        expect((await su('GET', '/api/collections/authors')).status).toBe(404);
        const records = await listRecords('writers');
        expect(records.map((r) => r.id).sort()).toEqual([ids.bob, ids.ann].sort());
        expect(records.find((r) => r.id === ids.bob)).toMatchObject({ collectionName: 'writers', handle: 'bob' });
        const books = await getCollection('books');
        expect(books.viewRule).toBe("@collection.writers.handle ?= 'bob'");
        expect(fieldOf(books, 'writer').collectionId).toBe(ids.authors);
        const expanded = await su('GET', `/api/collections/books/records/${ids.book}?expand=writer`);
        expect(expanded.status, expanded.raw).toBe(200);
        expect(expanded.body.expand.writer).toMatchObject({ id: ids.bob, handle: 'bob', collectionName: 'writers' });
        expect((await send(t, 'GET', '/api/collections/authors/records')).status).toBe(404);
      },
    },
    {
      name: 'rename a collection named in a back-relation rule (books → novels)',
      method: 'PATCH',
      url: '/api/collections/books',
      auth: SU,
      body: { name: 'novels' },
      status: 200,
      after: async () => {
        expect((await getCollection('writers')).viewRule).toBe("handle = 'bob' || novels_via_writer.title ?= 'B1'");
        expect((await listRecords('novels')).map((r) => r.id)).toEqual([ids.book]);
      },
    },
    refused({
      name: 'rename a system collection',
      method: 'PATCH',
      url: '/api/collections/_superusers',
      auth: SU,
      body: { name: 'admins' },
      status: 400,
      watch: ['_superusers'],
      check: (body) => expectFieldError(body, ['name']),
    }),
    refused({
      name: 'rename _mfas by id',
      method: 'PATCH',
      url: () => `/api/collections/${t.app.registry.find('_mfas')!.id}`,
      auth: SU,
      body: { name: 'mfas' },
      status: 400,
      check: (body) => expectFieldError(body, ['name']),
    }),
    refused({ name: 'update a missing collection', method: 'PATCH', url: '/api/collections/missing', auth: SU, body: { listRule: '' }, status: 404 }),
    {
      name: 'rules can be changed on their own',
      method: 'PATCH',
      url: '/api/collections/writers',
      auth: SU,
      body: { listRule: null, deleteRule: "handle = 'nobody'" },
      status: 200,
      expect: { listRule: null, deleteRule: "handle = 'nobody'", updateRule: 'rating >= 0' },
      after: async () => {
        const res = await send(t, 'GET', '/api/collections/writers/records', { auth: tok.user });
        expect(res.status).toBe(403);
      },
    },
  ]);
});

describe('DELETE /api/collections/{idOrName}', () => {
  beforeAll(async () => {
    await createCollection(t, { name: 'tree', type: 'base', fields: [{ name: 'label', type: 'text' }] });
    await t.app.collections.update('tree', { fields: [...t.app.registry.find('tree')!.data.fields, { name: 'parent', type: 'relation', collectionId: 'tree' }] });
  });
  run([
    refused({
      name: 'a collection another one references (writers ← novels.writer)',
      method: 'DELETE',
      url: '/api/collections/writers',
      auth: SU,
      status: 400,
      watch: ['writers', 'novels'],
    }),
    ...SYSTEM_COLLECTIONS.map((name) => refused({ name: `system collection ${name}`, method: 'DELETE', url: `/api/collections/${name}`, auth: SU, status: 400, watch: [name] })),
    refused({ name: 'a missing collection', method: 'DELETE', url: '/api/collections/missing', auth: SU, status: 404 }),
    {
      name: 'the referencing collection, by id',
      method: 'DELETE',
      before: () => {
        ids.novels = t.app.registry.find('novels')!.id;
      },
      url: () => `/api/collections/${ids.novels}`,
      auth: SU,
      status: 204,
      check: (_body, raw) => expect(raw).toBe(''),
      after: async () => {
        expect((await su('GET', '/api/collections/novels')).status).toBe(404);
        const records = await su('GET', '/api/collections/novels/records');
        expect(records.status).toBe(404);
        expect(records.body.message).toBe('Missing collection context.');
      },
    },
    {
      name: 'then the formerly referenced one',
      method: 'DELETE',
      url: '/api/collections/writers',
      auth: SU,
      status: 204,
      after: async () => {
        expect((await su('GET', '/api/collections/writers')).status).toBe(404);
      },
    },
    {
      name: 'a collection that only references itself',
      method: 'DELETE',
      url: '/api/collections/tree',
      auth: SU,
      status: 204,
    },
    {
      name: 'a deleted name can be created again, with an empty table',
      method: 'POST',
      url: '/api/collections',
      auth: SU,
      body: { name: 'writers', listRule: '', fields: [{ name: 'handle', type: 'number' }] },
      status: 200,
      after: async () => {
        expect(await listRecords('writers')).toEqual([]);
        const created = await su('POST', '/api/collections/writers/records', { handle: 5 });
        expect(created.status, created.raw).toBe(200);
      },
    },
  ]);
});

describe('DELETE /api/collections/{idOrName}/truncate', () => {
  beforeAll(async () => {
    await createCollection(t, { name: 'owners', type: 'base', fields: [{ name: 'n', type: 'text' }] });
    await createCollection(t, { name: 'pets', type: 'base', fields: [{ name: 'owner', type: 'relation', collectionId: 'owners', cascadeDelete: true }] });
    await createCollection(t, { name: 'stickers', type: 'base', fields: [{ name: 'owner', type: 'relation', collectionId: 'owners' }] });
    await createCollection(t, { name: 'licenses', type: 'base', fields: [{ name: 'owner', type: 'relation', collectionId: 'owners', required: true }] });
    for (const n of ['o1', 'o2']) {
      const o = await createRecord(t, 'owners', { n });
      ids[n] = String(o.values.id);
      await createRecord(t, 'pets', { owner: ids[n] });
      await createRecord(t, 'stickers', { owner: ids[n] });
    }
    await createRecord(t, 'licenses', { owner: ids.o1 });
  });
  run([
    refused({
      name: 'a required relation points at a record: refused, nothing deleted (one transaction)',
      method: 'DELETE',
      url: '/api/collections/owners/truncate',
      auth: SU,
      status: 400,
      watch: ['owners', 'pets', 'stickers', 'licenses'],
      after: async () => expect(await listRecords('owners')).toHaveLength(2),
    }),
    {
      name: 'truncate the referencing collection first',
      method: 'DELETE',
      url: '/api/collections/licenses/truncate',
      auth: SU,
      status: 204,
      after: async () => {
        expect(await listRecords('licenses')).toEqual([]);
        expect(await listRecords('owners')).toHaveLength(2);
      },
    },
    {
      name: 'truncate: records gone, cascades applied, optional references cleared',
      method: 'DELETE',
      url: '/api/collections/owners/truncate',
      auth: SU,
      status: 204,
      check: (_body, raw) => expect(raw).toBe(''),
      after: async () => {
        expect(await listRecords('owners')).toEqual([]);
        expect(await listRecords('pets')).toEqual([]);
        const stickers = await listRecords('stickers');
        expect(stickers).toHaveLength(2);
        for (const s of stickers) expect(s.owner).toBe('');
        // The collection itself is still there.
        expect((await getCollection('owners')).name).toBe('owners');
      },
    },
    refused({ name: 'a missing collection', method: 'DELETE', url: '/api/collections/missing/truncate', auth: SU, status: 404 }),
  ]);
});

describe('view collections', () => {
  beforeAll(async () => {
    await createCollection(t, { name: 'vauthors', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'name', type: 'text' }] });
    await createCollection(t, {
      name: 'vposts',
      type: 'base',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'views', type: 'number' },
        { name: 'author', type: 'relation', collectionId: 'vauthors' },
        { name: 'extra', type: 'text' },
      ],
    });
    const a = await createRecord(t, 'vauthors', { name: 'Ann' });
    ids.vann = String(a.values.id);
    const p1 = await createRecord(t, 'vposts', { title: 'P1', views: 10, author: ids.vann, extra: 'x' });
    ids.vp1 = String(p1.values.id);
    await createRecord(t, 'vposts', { title: 'P2', views: 3, author: ids.vann, extra: 'y' });
    ids.vauthors = t.app.registry.find('vauthors')!.id;
  });
  const writeRefused = (name: string, method: Method, url: () => string, auth?: () => string): Row =>
    refused({
      name,
      method,
      url,
      auth,
      body: method === 'DELETE' ? undefined : { title: 'changed' },
      status: 400,
      expect: { message: 'Unsupported collection type.', data: {} },
      watch: ['post_view', 'vposts'],
    });
  run([
    {
      name: 'create a view over a base collection: fields inferred, relation kept',
      method: 'POST',
      url: '/api/collections',
      auth: SU,
      body: { name: 'post_view', type: 'view', listRule: '', viewRule: '', viewQuery: 'SELECT p.id, p.title, p.views, p.author FROM vposts p' },
      status: 200,
      expect: { name: 'post_view', type: 'view', listRule: '', viewRule: '', createRule: null, updateRule: null, deleteRule: null, indexes: [] },
      absent: ['authToken', 'authRule'],
      check: (body) => {
        expect(body.viewQuery).toBe('SELECT p.id, p.title, p.views, p.author FROM vposts p');
        expect(fieldNames(body)).toEqual(['id', 'title', 'views', 'author']);
        expect(fieldOf(body, 'id')).toMatchObject({ type: 'text', primaryKey: true });
        expect(fieldOf(body, 'title').type).toBe('text');
        expect(fieldOf(body, 'views').type).toBe('number');
      },
    },
    {
      name: 'a relation column of the view keeps its relation type and options',
      method: 'GET',
      url: '/api/collections/post_view',
      auth: SU,
      status: 200,
      check: (body) => expect(fieldOf(body, 'author')).toMatchObject({ type: 'relation', collectionId: ids.vauthors, maxSelect: 1 }),
    },
    {
      name: 'an aggregate view: COUNT is a number',
      method: 'POST',
      url: '/api/collections',
      auth: SU,
      body: {
        name: 'author_stats',
        type: 'view',
        listRule: '',
        viewQuery: 'SELECT a.id, a.name, COUNT(p.id) AS total FROM vauthors a LEFT JOIN vposts p ON p.author = a.id GROUP BY a.id, a.name',
      },
      status: 200,
      check: (body) => {
        expect(fieldNames(body)).toEqual(['id', 'name', 'total']);
        expect(fieldOf(body, 'total').type).toBe('number');
      },
      after: async () => {
        const res = await send(t, 'GET', '/api/collections/author_stats/records');
        expect(res.status, res.raw).toBe(200);
        expect(res.body.items).toEqual([expect.objectContaining({ id: ids.vann, name: 'Ann', total: 2 })]);
      },
    },
    {
      name: 'list the view records',
      method: 'GET',
      url: '/api/collections/post_view/records?sort=title',
      status: 200,
      expect: { totalItems: 2 },
      check: (body) => {
        expect(body.items.map((r: any) => r.title)).toEqual(['P1', 'P2']);
        expect(body.items[0]).toMatchObject({ collectionName: 'post_view', views: 10, author: ids.vann });
        expect(body.items[0]).not.toHaveProperty('extra');
      },
    },
    {
      name: 'filter the view records',
      method: 'GET',
      url: `/api/collections/post_view/records?filter=${encodeURIComponent('views > 5')}`,
      status: 200,
      expect: { totalItems: 1 },
    },
    {
      name: 'view one record',
      method: 'GET',
      url: () => `/api/collections/post_view/records/${ids.vp1}`,
      status: 200,
      expect: { title: 'P1' },
      check: (body) => expect(body).toMatchObject({ id: ids.vp1, collectionName: 'post_view', views: 10, author: ids.vann }),
    },
    {
      name: 'view one record, expanding the relation',
      method: 'GET',
      url: () => `/api/collections/post_view/records/${ids.vp1}?expand=author`,
      status: 200,
      check: (body) => {
        expect(body).toMatchObject({ id: ids.vp1, title: 'P1', author: ids.vann });
        expect(body.expand.author).toMatchObject({ id: ids.vann, name: 'Ann', collectionName: 'vauthors' });
      },
    },
    writeRefused('create a record in a view', 'POST', () => '/api/collections/post_view/records', SU),
    writeRefused('update a view record', 'PATCH', () => `/api/collections/post_view/records/${ids.vp1}`, SU),
    writeRefused('delete a view record', 'DELETE', () => `/api/collections/post_view/records/${ids.vp1}`, SU),
    writeRefused('create a record in a view as a guest', 'POST', () => '/api/collections/post_view/records'),
    refused({ name: 'truncate a view', method: 'DELETE', url: '/api/collections/post_view/truncate', auth: SU, status: 400, watch: ['post_view', 'vposts'] }),
    refused({
      name: 'a schema change that breaks the view (drop a column it selects)',
      ...patchFields('vposts', (fields) => fields.filter((f) => f.name !== 'views')),
      status: 400,
      watch: ['post_view', 'vposts', 'author_stats'],
      after: async () => {
        expect(fieldNames(await getCollection('vposts'))).toContain('views');
        expect((await listRecords('post_view')).map((r) => r.views).sort()).toEqual([10, 3].sort());
      },
    }),
    refused({
      name: 'renaming a column the view selects breaks it too',
      ...patchFields('vposts', (fields) => fields.map((f) => (f.name === 'title' ? { ...f, name: 'headline' } : f))),
      status: 400,
      watch: ['post_view', 'vposts'],
    }),
    refused({
      name: 'deleting a collection a view selects from',
      method: 'DELETE',
      url: '/api/collections/vposts',
      auth: SU,
      status: 400,
      watch: ['post_view', 'vposts'],
    }),
    {
      name: 'a change the view does not depend on is fine (drop extra)',
      ...patchFields('vposts', (fields) => fields.filter((f) => f.name !== 'extra')),
      status: 200,
      after: async () => expect(await listRecords('post_view')).toHaveLength(2),
    },
    refused({
      name: 'update the view with an invalid query',
      method: 'PATCH',
      url: '/api/collections/post_view',
      auth: SU,
      body: { viewQuery: 'SELECT id FROM nope' },
      status: 400,
      watch: ['post_view'],
      check: (body) => expectFieldError(body, ['viewQuery']),
    }),
    refused({
      name: 'update the view with two statements',
      method: 'PATCH',
      url: '/api/collections/post_view',
      auth: SU,
      body: { viewQuery: 'SELECT id FROM vposts; DROP TABLE vposts' },
      status: 400,
      watch: ['post_view', 'vposts'],
      check: (body) => expectFieldError(body, ['viewQuery'], 'validation_invalid_view_query'),
    }),
    refused({
      name: 'a view cannot get a createRule',
      method: 'PATCH',
      url: '/api/collections/post_view',
      auth: SU,
      body: { createRule: '' },
      status: 400,
      watch: ['post_view'],
      check: (body) => expectFieldError(body, ['createRule']),
    }),
    {
      name: 'update the view query: fields follow',
      method: 'PATCH',
      url: '/api/collections/post_view',
      auth: SU,
      body: { viewQuery: 'SELECT p.id, p.title FROM vposts p WHERE p.views > 5' },
      status: 200,
      check: (body) => expect(fieldNames(body)).toEqual(['id', 'title']),
      after: async () => {
        const records = await listRecords('post_view');
        expect(records).toHaveLength(1);
        expect(records[0]).not.toHaveProperty('views');
      },
    },
    {
      name: 'delete the views; then the column can go',
      method: 'DELETE',
      url: '/api/collections/post_view',
      auth: SU,
      status: 204,
      after: async () => {
        expect((await su('DELETE', '/api/collections/author_stats')).status).toBe(204);
        const col = await getCollection('vposts');
        const res = await su('PATCH', '/api/collections/vposts', { fields: col.fields.filter((f: any) => f.name !== 'views') });
        expect(res.status, res.raw).toBe(200);
      },
    },
  ]);
});

describe('PUT /api/collections/import', () => {
  let exported: any[] = [];
  run([
    {
      name: 'create several collections with relations between them (forward references included)',
      method: 'PUT',
      url: '/api/collections/import',
      auth: SU,
      body: {
        collections: [
          {
            id: 'imp_comments_id',
            name: 'imp_comments',
            type: 'base',
            fields: [
              { name: 'body', type: 'text' },
              { name: 'post', type: 'relation', collectionId: 'imp_posts_id', cascadeDelete: true },
            ],
          },
          {
            id: 'imp_posts_id',
            name: 'imp_posts',
            type: 'base',
            listRule: '',
            fields: [
              { name: 'title', type: 'text' },
              { name: 'author', type: 'relation', collectionId: 'imp_authors_id' },
            ],
          },
          { id: 'imp_authors_id', name: 'imp_authors', type: 'base', fields: [{ name: 'name', type: 'text' }] },
          { name: 'imp_members', type: 'auth', fields: [{ name: 'nick', type: 'text' }] },
        ],
      },
      status: 204,
      check: (_body, raw) => expect(raw).toBe(''),
      after: async () => {
        expect(fieldOf(await getCollection('imp_comments'), 'post')).toMatchObject({ type: 'relation', collectionId: 'imp_posts_id', cascadeDelete: true });
        expect(fieldOf(await getCollection('imp_posts'), 'author')).toMatchObject({ type: 'relation', collectionId: 'imp_authors_id' });
        expect((await getCollection('imp_authors')).id).toBe('imp_authors_id');
        const members = await getCollection('imp_members');
        expect(fieldNames(members)).toEqual(expect.arrayContaining([...AUTH_SYSTEM_FIELDS, 'nick']));
        expect(members.indexes).toHaveLength(2);
        // The relations work.
        const author = await su('POST', '/api/collections/imp_authors/records', { name: 'Ann' });
        expect(author.status, author.raw).toBe(200);
        ids.impAuthor = author.body.id;
        const post = await su('POST', '/api/collections/imp_posts/records', { title: 'T', author: author.body.id });
        expect(post.status, post.raw).toBe(200);
        ids.impPost = post.body.id;
        const comment = await su('POST', '/api/collections/imp_comments/records?expand=post.author', { body: 'c', post: post.body.id });
        expect(comment.status, comment.raw).toBe(200);
        expect(comment.body.expand.post.expand.author.name).toBe('Ann');
      },
    },
    {
      name: 'update an existing collection (its exported definition with a field added): data kept',
      method: 'PUT',
      url: '/api/collections/import',
      auth: SU,
      before: async () => {
        const c = await getCollection('imp_authors');
        exported = [{ ...c, listRule: '', fields: [...c.fields, { name: 'bio', type: 'text' }] }];
      },
      body: () => ({ collections: exported }),
      status: 204,
      after: async () => {
        const c = await getCollection('imp_authors');
        expect(c.id).toBe('imp_authors_id');
        expect(c.listRule).toBe('');
        expect(fieldNames(c)).toEqual(['id', 'name', 'bio']);
        expect(await listRecords('imp_authors')).toEqual([expect.objectContaining({ id: ids.impAuthor, name: 'Ann', bio: '' })]);
      },
    },
    refused({
      name: 'an invalid item: 400 and nothing applied (not even the valid items)',
      method: 'PUT',
      url: '/api/collections/import',
      auth: SU,
      before: async () => {
        const c = await getCollection('imp_authors');
        exported = [
          { name: 'imp_new_valid', type: 'base', fields: [{ name: 'x', type: 'text' }] },
          { ...c, fields: [...c.fields, { name: 'age', type: 'number' }] },
          { name: 'imp_broken', type: 'base', fields: [{ name: 'y', type: 'nope' }] },
        ];
      },
      body: () => ({ collections: exported }),
      status: 400,
      watch: ['imp_authors', 'imp_posts'],
      check: (body) => expect(body.data.collections).toBeDefined(),
      after: async () => {
        expect((await su('GET', '/api/collections/imp_new_valid')).status).toBe(404);
        expect(fieldNames(await getCollection('imp_authors'))).not.toContain('age');
      },
    }),
    refused({
      name: 'a relation to a collection that does not exist',
      method: 'PUT',
      url: '/api/collections/import',
      auth: SU,
      body: { collections: [{ name: 'imp_dangling', type: 'base', fields: [{ name: 'r', type: 'relation', collectionId: 'nope' }] }] },
      status: 400,
    }),
    refused({ name: 'an empty list', method: 'PUT', url: '/api/collections/import', auth: SU, body: { collections: [] }, status: 400 }),
    refused({ name: 'no list at all', method: 'PUT', url: '/api/collections/import', auth: SU, body: { deleteMissing: true }, status: 400 }),
    refused({
      name: 'deleteMissing that would delete a collection a kept one relates to',
      method: 'PUT',
      url: '/api/collections/import',
      auth: SU,
      before: async () => {
        exported = [await getCollection('users'), await getCollection('imp_posts')];
      },
      body: () => ({ collections: exported, deleteMissing: true }),
      status: 400,
      watch: ['imp_authors', 'imp_posts', 'imp_comments'],
    }),
    {
      name: 'deleteMissing: true removes the non-system collections not listed',
      method: 'PUT',
      url: '/api/collections/import',
      auth: SU,
      before: async () => {
        exported = [await getCollection('users'), await getCollection('imp_authors'), await getCollection('imp_posts')];
      },
      body: () => ({ collections: exported, deleteMissing: true }),
      status: 204,
      after: async () => {
        const all = await su('GET', '/api/collections?perPage=500');
        expect(all.body.items.map((c: any) => c.name).sort()).toEqual([...SYSTEM_COLLECTIONS, 'users', 'imp_authors', 'imp_posts'].sort());
        // Kept collections keep their records; system collections and users are intact.
        expect((await listRecords('imp_posts')).map((r) => r.id)).toEqual([ids.impPost]);
        expect((await listRecords('users')).map((r) => r.id)).toEqual([ids.user]);
        expect((await su('GET', '/api/collections/imp_comments')).status).toBe(404);
      },
    },
  ]);
});
