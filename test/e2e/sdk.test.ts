/**
 * End-to-end: the official PocketBase JS SDK (npm `pocketbase` 0.28) driving Basalt over a real
 * loopback socket. Every assertion is about what an SDK user observes: return values, the auth
 * store, and ClientResponseError status/message/data (spec §1.1–1.4, §2, §5, §8).
 *
 * Cases where Basalt contradicts the SDK or the spec are kept with the correct assertion but
 * skipped, with a `// BUG:` comment (expected vs actual).
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import PocketBase, { ClientResponseError, type RecordModel } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/core/records/caller.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

const SUPERUSER = { email: 'admin@example.com', password: 'password123' };
const USERS_ID = '_pb_users_auth_';
const SUPERUSERS_ID = 'pbc_3142635823';
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const RECORD_ID = /^[a-z0-9]{15}$/;
const BULK = 1200;

let t: TestApp;
let baseURL = '';
let suToken = '';
let postsId = '';
const alice = { id: '', token: '', email: 'alice@example.com', password: 'alice-password-1', name: 'Alice' };
const bob = { id: '', token: '', email: 'bob@example.com', password: 'bob-password-1', name: 'Bob' };

/** A fresh SDK client (memory auth store), optionally already signed in with `token`. */
function client(token = '', record: RecordModel | null = null): PocketBase {
  const pb = new PocketBase(baseURL);
  pb.autoCancellation(false);
  if (token) pb.authStore.save(token, record);
  return pb;
}

const guest = () => client();
const asSuperuser = () => client(suToken, { id: 'su', collectionId: SUPERUSERS_ID, collectionName: '_superusers' });
const asAlice = () => client(alice.token, { id: alice.id, collectionId: USERS_ID, collectionName: 'users' });
const asBob = () => client(bob.token, { id: bob.id, collectionId: USERS_ID, collectionName: 'users' });

/** Awaits a promise that must reject with a ClientResponseError of `status`; returns the error. */
async function expectClientError(promise: Promise<unknown>, status: number, message?: string): Promise<ClientResponseError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'the SDK call must reject').toBeInstanceOf(ClientResponseError);
  const err = caught as ClientResponseError;
  expect(err.status, JSON.stringify(err.response)).toBe(status);
  if (message !== undefined) expect(err.response.message).toBe(message);
  if (err.url) {
    // A server answer (not one the SDK made up): exactly PocketBase's error envelope (spec §1.1).
    expect(Object.keys(err.response).sort()).toEqual(['data', 'message', 'status']);
    expect(err.response.status).toBe(status);
    expect(typeof err.response.data).toBe('object');
  }
  return err;
}

/** The payload of a JWT (the SDK decodes it the same way for `isValid`/`isSuperuser`). */
function jwtPayload(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** An HS256 JWT with `payload`, signed with a key Basalt does not know. */
function forgeToken(payload: Record<string, unknown>, secret = 'not-the-real-signing-key'): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64(payload);
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

async function updateServerSide(collection: string, id: string, data: Record<string, unknown>) {
  const c = t.app.registry.find(collection)!;
  return t.app.records.writer.update(c, id, { data }, systemCaller());
}

beforeAll(async () => {
  t = await startTestApp();
  await t.server.listen({ host: '127.0.0.1', port: 0 });
  const address = t.server.addresses().find((a): a is AddressInfo => typeof a === 'object' && a.family === 'IPv4');
  if (!address) throw new Error('the server is not listening on IPv4');
  baseURL = `http://127.0.0.1:${address.port}`;

  suToken = (await createSuperuser(t, SUPERUSER.email, SUPERUSER.password)).token;
  for (const u of [alice, bob]) {
    const created = await createAuthRecord(t, 'users', { email: u.email, password: u.password, name: u.name });
    u.id = created.id;
    u.token = created.token;
  }

  const posts = await createCollection(t, {
    name: 'posts',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '@request.auth.id != "" && author = @request.auth.id',
    updateRule: 'author = @request.auth.id',
    deleteRule: 'author = @request.auth.id',
    fields: [
      { name: 'title', type: 'text', required: true, max: 200 },
      { name: 'body', type: 'editor' },
      { name: 'views', type: 'number' },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'author', type: 'relation', collectionId: USERS_ID, maxSelect: 1 },
      { name: 'editors', type: 'relation', collectionId: USERS_ID, maxSelect: 5 },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
    indexes: ['CREATE INDEX `idx_posts_title` ON `posts` (`title`)'],
  });
  postsId = String(posts.id);

  await createCollection(t, {
    name: 'comments',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '@request.auth.id != ""',
    fields: [
      { name: 'message', type: 'text', required: true },
      { name: 'post', type: 'relation', collectionId: postsId, maxSelect: 1, cascadeDelete: true },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });

  await createCollection(t, {
    name: 'notes',
    type: 'base',
    listRule: 'public = true || owner = @request.auth.id',
    viewRule: 'public = true || owner = @request.auth.id',
    createRule: '@request.auth.id != "" && owner = @request.auth.id',
    updateRule: 'owner = @request.auth.id',
    deleteRule: 'owner = @request.auth.id',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'public', type: 'bool' },
      { name: 'owner', type: 'relation', collectionId: USERS_ID, maxSelect: 1 },
    ],
  });

  await createCollection(t, {
    name: 'secrets',
    type: 'base',
    // every rule null: superusers only
    fields: [{ name: 'value', type: 'text' }],
  });

  await createCollection(t, {
    name: 'items',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'n', type: 'number', onlyInt: true },
      { name: 'bucket', type: 'number' },
      { name: 'label', type: 'text' },
    ],
  });
  // Seeded through the record service, not the SDK: fast, and in a shuffled order so that a
  // sorted read cannot pass by accident of insertion order.
  const order = Array.from({ length: BULK }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = (i * 7919 + 13) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const n of order) await createRecord(t, 'items', { n, bucket: n % 7, label: `item ${n}` });
});

afterAll(async () => {
  await t?.close();
});

// ---------------------------------------------------------------------------------------------
describe('superuser and the collections API', () => {
  it('authWithPassword on _superusers fills the auth store (isValid, isSuperuser)', async () => {
    const pb = guest();
    const res = await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
    expect(res.token.split('.')).toHaveLength(3);
    expect(jwtPayload(res.token)).toMatchObject({ type: 'auth', collectionId: SUPERUSERS_ID, id: res.record.id, refreshable: true });
    expect(jwtPayload(res.token).exp).toBeGreaterThan(Date.now() / 1000);
    expect(res.record).toMatchObject({ email: SUPERUSER.email, collectionName: '_superusers', collectionId: SUPERUSERS_ID });
    expect(res.record).not.toHaveProperty('password');
    expect(res.record).not.toHaveProperty('tokenKey');
    expect(pb.authStore.isValid).toBe(true);
    expect(pb.authStore.isSuperuser).toBe(true);
    expect(pb.authStore.token).toBe(res.token);
    expect(pb.authStore.record?.email).toBe(SUPERUSER.email);
    // The token works: a superuser-only endpoint answers.
    const list = await pb.collections.getList(1, 200);
    expect(list.items.map((c) => c.name)).toContain('posts');
  });

  it('a superuser can delete itself when another superuser exists; the store is cleared', async () => {
    await asSuperuser().collection('_superusers').create({ email: 'second-admin@example.com', password: 'password123', passwordConfirm: 'password123' });
    const pb = guest();
    const { record, token } = await pb.collection('_superusers').authWithPassword('second-admin@example.com', 'password123');
    expect(await pb.collection('_superusers').delete(record.id)).toBe(true);
    expect(pb.authStore.isValid).toBe(false);
    expect(pb.authStore.record).toBeNull();
    await expectClientError(client(token, record).collections.getList(), 401);
    expect((await asSuperuser().collection('_superusers').getFullList()).map((r) => r.email)).toEqual([SUPERUSER.email]);
  });

  it('the only superuser cannot be deleted (400)', async () => {
    const other = await startTestApp();
    try {
      await other.server.listen({ host: '127.0.0.1', port: 0 });
      const address = other.server.addresses().find((a): a is AddressInfo => typeof a === 'object' && a.family === 'IPv4')!;
      await createSuperuser(other, 'solo@example.com', 'password123');
      const pb = new PocketBase(`http://127.0.0.1:${address.port}`);
      pb.autoCancellation(false);
      const { record } = await pb.collection('_superusers').authWithPassword('solo@example.com', 'password123');
      await expectClientError(pb.collection('_superusers').delete(record.id), 400, "You can't delete the only existing superuser.");
      expect(pb.authStore.isValid).toBe(true);
      expect((await pb.collection('_superusers').getFullList()).map((r) => r.id)).toEqual([record.id]);
    } finally {
      await other.close();
    }
  });

  it('superuser records are always verified', async () => {
    const created = await asSuperuser().collection('_superusers').create({ email: 'third-admin@example.com', password: 'password123', passwordConfirm: 'password123' });
    expect(created.verified).toBe(true);
    const auth = await guest().collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
    expect(auth.record.verified).toBe(true);
    await asSuperuser().collection('_superusers').delete(created.id);
  });

  it('collections.create / getOne / getList / update / delete round trip', async () => {
    const pb = asSuperuser();
    const created = await pb.collections.create({
      name: 'articles',
      type: 'base',
      listRule: '',
      viewRule: '',
      createRule: null,
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'score', type: 'number' },
        { name: 'created', type: 'autodate', onCreate: true },
      ],
      indexes: ['CREATE INDEX `idx_articles_title` ON `articles` (`title`)'],
    });
    expect(created.id).toBeTruthy();
    expect(created).toMatchObject({ name: 'articles', type: 'base', system: false, listRule: '', viewRule: '', createRule: null, updateRule: null, deleteRule: null });
    const names = created.fields.map((f: any) => f.name);
    expect(names).toEqual(expect.arrayContaining(['id', 'title', 'score', 'created']));
    expect(created.fields.find((f: any) => f.name === 'id')).toMatchObject({ type: 'text', primaryKey: true, system: true });
    expect(created.fields.find((f: any) => f.name === 'title')).toMatchObject({ type: 'text', required: true });
    expect(created.indexes).toHaveLength(1);

    expect((await pb.collections.getOne(created.id)).name).toBe('articles');
    expect((await pb.collections.getOne('articles')).id).toBe(created.id);

    const list = await pb.collections.getList(1, 10, { filter: pb.filter('name = {:name}', { name: 'articles' }) });
    expect(list).toMatchObject({ page: 1, perPage: 10, totalItems: 1, totalPages: 1 });
    expect(list.items[0].id).toBe(created.id);
    const full = await pb.collections.getFullList({ sort: 'name' });
    expect(full.map((c) => c.name)).toEqual(expect.arrayContaining(['_superusers', 'users', 'posts', 'articles']));

    const updated = await pb.collections.update('articles', {
      listRule: null,
      fields: [...created.fields, { name: 'summary', type: 'text' }],
    });
    expect(updated.listRule).toBeNull();
    expect(updated.fields.map((f: any) => f.name)).toContain('summary');
    // The new field is usable through the records API right away.
    const rec = await pb.collection('articles').create({ title: 'Hello', summary: 'short' });
    expect(rec).toMatchObject({ title: 'Hello', summary: 'short', collectionName: 'articles' });
    // listRule is now null: guests are refused.
    await expectClientError(guest().collection('articles').getList(), 403, 'Only superusers can perform this action.');

    expect(await pb.collections.delete('articles')).toBe(true);
    await expectClientError(pb.collections.getOne('articles'), 404);
    await expectClientError(pb.collection('articles').getList(), 404, 'Missing collection context.');
  });

  it('collections.create reports validation errors as data.<key>.code', async () => {
    const pb = asSuperuser();
    const err = await expectClientError(pb.collections.create({ name: 'posts', type: 'base', fields: [] }), 400);
    expect(err.response.message).toBe('Failed to create collection.');
    expect(err.response.data.name?.code, JSON.stringify(err.response)).toBe('validation_collection_name_exists');
    // Names differing only by case clash too.
    const upper = await expectClientError(pb.collections.create({ name: 'POSTS', type: 'base', fields: [] }), 400);
    expect(upper.response.data.name?.code).toBe('validation_collection_name_exists');
  });

  it('collections.import creates and updates collections, keeping the others', async () => {
    const pb = asSuperuser();
    const ok = await pb.collections.import(
      [
        { name: 'imported_a', type: 'base', listRule: '', fields: [{ name: 'label', type: 'text' }] } as any,
        { name: 'imported_b', type: 'base', fields: [{ name: 'flag', type: 'bool' }] } as any,
      ],
      false,
    );
    expect(ok).toBe(true);
    const a = await pb.collections.getOne('imported_a');
    expect(a.fields.map((f: any) => f.name)).toEqual(expect.arrayContaining(['id', 'label']));
    expect((await pb.collections.getOne('imported_b')).type).toBe('base');

    // Re-import a changed definition (matched by id): the new field appears; nothing is deleted.
    await pb.collections.import([{ ...a, fields: [...a.fields, { name: 'extra', type: 'number' } as any] }], false);
    expect((await pb.collections.getOne('imported_a')).fields.map((f: any) => f.name)).toContain('extra');
    expect((await pb.collections.getOne('imported_b')).name).toBe('imported_b');
    expect((await pb.collections.getOne('posts')).name).toBe('posts');

    await pb.collections.delete('imported_a');
    await pb.collections.delete('imported_b');
  });

  it('collections.truncate deletes every record of a collection', async () => {
    await createCollection(t, { name: 'scratch', type: 'base', listRule: '', fields: [{ name: 'v', type: 'text' }] });
    for (let i = 0; i < 5; i++) await createRecord(t, 'scratch', { v: `v${i}` });
    const pb = asSuperuser();
    expect((await pb.collection('scratch').getList()).totalItems).toBe(5);
    expect(await pb.collections.truncate('scratch')).toBe(true);
    const after = await pb.collection('scratch').getList();
    expect(after.totalItems).toBe(0);
    expect(after.items).toEqual([]);
    await pb.collections.delete('scratch');
  });

  it('collections.getScaffolds returns base, auth and view defaults', async () => {
    const scaffolds = await asSuperuser().collections.getScaffolds();
    expect(Object.keys(scaffolds)).toEqual(expect.arrayContaining(['base', 'auth', 'view']));
    expect(scaffolds.base.type).toBe('base');
    expect(scaffolds.auth.type).toBe('auth');
    expect(scaffolds.view.type).toBe('view');
    expect(scaffolds.base.fields.map((f: any) => f.name)).toContain('id');
    expect(scaffolds.auth.fields.map((f: any) => f.name)).toEqual(expect.arrayContaining(['id', 'email', 'password', 'tokenKey', 'emailVisibility', 'verified']));
    expect(scaffolds.auth).toMatchObject({ passwordAuth: { enabled: true, identityFields: ['email'] } });
  });

  it('the collections API refuses guests (401) and regular users (403)', async () => {
    await expectClientError(guest().collections.getList(), 401);
    await expectClientError(asAlice().collections.getList(), 403);
    await expectClientError(asAlice().collections.create({ name: 'nope', type: 'base' }), 403);
    await expectClientError(asAlice().collections.getScaffolds(), 403);
  });
});

// ---------------------------------------------------------------------------------------------
describe('users: sign-up, sign-in, refresh, auth methods', () => {
  it('sign-up with create, then authWithPassword fills the auth store', async () => {
    const pb = guest();
    const email = 'carol@example.com';
    const created = await pb.collection('users').create({ email, password: 'carol-password', passwordConfirm: 'carol-password', name: 'Carol' });
    expect(created.id).toMatch(RECORD_ID);
    expect(created).toMatchObject({ name: 'Carol', collectionName: 'users', collectionId: USERS_ID, verified: false, emailVisibility: false });
    expect(created).not.toHaveProperty('password');
    expect(created).not.toHaveProperty('tokenKey');
    expect(created).not.toHaveProperty('passwordConfirm');
    expect(pb.authStore.isValid).toBe(false); // signing up does not sign in

    const auth = await pb.collection('users').authWithPassword(email, 'carol-password');
    expect(auth.record.id).toBe(created.id);
    expect(jwtPayload(auth.token)).toMatchObject({ type: 'auth', collectionId: USERS_ID, id: created.id });
    expect(pb.authStore.isValid).toBe(true);
    expect(pb.authStore.isSuperuser).toBe(false);
    expect(pb.authStore.token).toBe(auth.token);
    expect(pb.authStore.record?.email).toBe(email);
    expect(pb.authStore.record?.name).toBe('Carol');
  });

  it('sign-up validation errors come back as field codes', async () => {
    const pb = guest();
    let err = await expectClientError(pb.collection('users').create({ email: alice.email, password: 'whatever-123', passwordConfirm: 'whatever-123' }), 400, 'Failed to create record.');
    expect(err.response.data.email?.code).toBe('validation_not_unique');
    err = await expectClientError(pb.collection('users').create({ email: 'dave@example.com', password: 'whatever-123', passwordConfirm: 'other-value-1' }), 400);
    expect(err.response.data.passwordConfirm?.code).toBe('validation_values_mismatch');
    err = await expectClientError(pb.collection('users').create({ email: 'dave@example.com', password: 'short', passwordConfirm: 'short' }), 400);
    expect(err.response.data.password?.code).toBe('validation_min_text_constraint');
  });

  it('authRefresh returns a new token and the current record', async () => {
    const user = await createAuthRecord(t, 'users', { email: 'refresh@example.com', password: 'refresh-pass-1', name: 'Before' });
    // A token with a one-hour lifetime: the refreshed one (5-day default) must differ and expire later.
    const oldToken = await t.app.auth.issueToken(user.record, true, 3600);
    const pb = client(oldToken, { id: user.id, collectionId: USERS_ID, collectionName: 'users', name: 'Before' });
    await updateServerSide('users', user.id, { name: 'After' });

    const res = await pb.collection('users').authRefresh();
    expect(res.token).not.toBe(oldToken);
    expect(jwtPayload(res.token).exp).toBeGreaterThan(jwtPayload(oldToken).exp);
    expect(jwtPayload(res.token)).toMatchObject({ id: user.id, type: 'auth', collectionId: USERS_ID });
    expect(res.record).toMatchObject({ id: user.id, name: 'After', email: 'refresh@example.com' });
    expect(pb.authStore.token).toBe(res.token);
    expect(pb.authStore.record?.name).toBe('After');
    expect(pb.authStore.isValid).toBe(true);
  });

  it('authRefresh without a valid token is a 401; with another collection’s token a 403', async () => {
    await expectClientError(guest().collection('users').authRefresh(), 401);
    await expectClientError(asSuperuser().collection('users').authRefresh(), 403);
  });

  it('listAuthMethods has the shape the SDK asks for (fields=mfa,otp,password,oauth2)', async () => {
    const methods = await guest().collection('users').listAuthMethods();
    expect(Object.keys(methods).sort()).toEqual(['mfa', 'oauth2', 'otp', 'password']);
    expect(methods.password).toEqual({ enabled: true, identityFields: ['email'] });
    expect(methods.oauth2).toMatchObject({ enabled: false, providers: [] });
    expect(typeof methods.mfa.enabled).toBe('boolean');
    expect(typeof methods.mfa.duration).toBe('number');
    expect(typeof methods.otp.enabled).toBe('boolean');
    expect(typeof methods.otp.duration).toBe('number');
    await expectClientError(guest().collection('posts').listAuthMethods(), 404, 'Missing or invalid auth collection context.');
  });

  it('a wrong password is ClientResponseError 400 "Failed to authenticate." and leaves the store empty', async () => {
    const pb = guest();
    await expectClientError(pb.collection('users').authWithPassword(alice.email, 'wrong-password'), 400, 'Failed to authenticate.');
    await expectClientError(pb.collection('users').authWithPassword('nobody@example.com', 'wrong-password'), 400, 'Failed to authenticate.');
    await expectClientError(pb.collection('_superusers').authWithPassword(alice.email, alice.password), 400, 'Failed to authenticate.');
    expect(pb.authStore.isValid).toBe(false);
    expect(pb.authStore.token).toBe('');
    expect(pb.authStore.record).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
describe('records through the SDK', () => {
  it('create / getOne / update / delete as the author', async () => {
    const pb = asAlice();
    const created = await pb.collection('posts').create({ title: 'First post', body: '<p>Hi</p>', views: 2.5, tags: ['a', 'b'], author: alice.id });
    expect(created.id).toMatch(RECORD_ID);
    expect(created).toMatchObject({ collectionId: postsId, collectionName: 'posts', title: 'First post', body: '<p>Hi</p>', views: 2.5, tags: ['a', 'b'], author: alice.id, editors: [] });
    expect(created.created).toMatch(DATETIME);
    expect(created.updated).toMatch(DATETIME);
    expect(created).not.toHaveProperty('expand');

    const one = await guest().collection('posts').getOne(created.id);
    expect(one).toEqual(created);

    const updated = await pb.collection('posts').update(created.id, { title: 'First post (edited)', tags: ['c'] });
    expect(updated).toMatchObject({ id: created.id, title: 'First post (edited)', tags: ['c'], views: 2.5, created: created.created });
    expect(updated.updated >= created.updated).toBe(true);

    expect(await pb.collection('posts').delete(created.id)).toBe(true);
    await expectClientError(pb.collection('posts').getOne(created.id), 404, "The requested resource wasn't found.");
  });

  it('create accepts a custom id', async () => {
    const rec = await asAlice().collection('posts').create({ id: 'customid1234567', title: 'Custom id', author: alice.id });
    expect(rec.id).toBe('customid1234567');
    expect((await guest().collection('posts').getOne('customid1234567')).title).toBe('Custom id');
  });

  it('getList pages, totals and skipTotal', async () => {
    const pb = guest();
    const filter = 'label ~ "item 11"'; // item 11, 110..119, 1100..1199 = 1 + 10 + 100
    const page1 = await pb.collection('items').getList(1, 50, { filter, sort: 'n' });
    expect(page1).toMatchObject({ page: 1, perPage: 50, totalItems: 111, totalPages: 3 });
    expect(page1.items).toHaveLength(50);
    expect(page1.items[0].n).toBe(11);
    const page3 = await pb.collection('items').getList(3, 50, { filter, sort: 'n' });
    expect(page3.items).toHaveLength(11);
    expect(page3.items[10].n).toBe(1199);

    const skipped = await pb.collection('items').getList(1, 5, { filter, sort: 'n', skipTotal: true });
    expect(skipped).toMatchObject({ page: 1, perPage: 5, totalItems: -1, totalPages: -1 });
    expect(skipped.items.map((i) => i.n)).toEqual([11, 110, 111, 112, 113]);
  });

  it('getFirstListItem returns the first match, or the SDK’s synthetic 404', async () => {
    const pb = guest();
    const first = await pb.collection('items').getFirstListItem('n >= 500', { sort: 'n' });
    expect(first.n).toBe(500);
    const err = await expectClientError(pb.collection('items').getFirstListItem('n > 100000'), 404, "The requested resource wasn't found.");
    expect(err.response.data).toEqual({});
  });

  it('getFullList over more than 1000 records returns each record exactly once (unsorted)', async () => {
    const all = await guest().collection('items').getFullList();
    expect(all).toHaveLength(BULK);
    expect(new Set(all.map((r) => r.id)).size).toBe(BULK);
    expect(new Set(all.map((r) => r.n))).toEqual(new Set(Array.from({ length: BULK }, (_, i) => i)));
  });

  it('getFullList with sort returns every record once, in order (asc, desc, non-unique key)', async () => {
    const pb = guest();
    const asc = await pb.collection('items').getFullList({ sort: 'n' });
    expect(asc.map((r) => r.n)).toEqual(Array.from({ length: BULK }, (_, i) => i));

    const desc = await pb.collection('items').getFullList({ sort: '-n', batch: 500 });
    expect(desc.map((r) => r.n)).toEqual(Array.from({ length: BULK }, (_, i) => BULK - 1 - i));

    // Ties on `bucket`: pages must still not overlap or skip anything.
    const byBucket = await pb.collection('items').getFullList({ sort: '-bucket' });
    expect(byBucket).toHaveLength(BULK);
    expect(new Set(byBucket.map((r) => r.id)).size).toBe(BULK);
    const buckets = byBucket.map((r) => r.bucket);
    expect(buckets).toEqual([...buckets].sort((a, b) => b - a));
  });

  it('pb.filter params: quotes, apostrophes, numbers and dates', async () => {
    const pb = asAlice();
    const titles = [`It's "quoted" qx1`, `O'Reilly's guide qx1`, `Double "only" qx1`, `plain qx1`];
    const ids: Record<string, string> = {};
    for (const [i, title] of titles.entries()) {
      ids[title] = (await pb.collection('posts').create({ title, views: 10 + i, author: alice.id })).id;
    }
    const since = new Date(Date.now() - 60_000);
    const find = (q: string, n = 0, d = since) =>
      guest().collection('posts').getFullList({ filter: pb.filter('title ~ {:q} && views > {:n} && created >= {:d}', { q, n, d }), sort: 'views' });

    expect((await find(`It's "quoted"`)).map((r) => r.id)).toEqual([ids[titles[0]]]);
    expect((await find(`O'Reilly's`)).map((r) => r.id)).toEqual([ids[titles[1]]]);
    expect((await find(`"only"`)).map((r) => r.id)).toEqual([ids[titles[2]]]);
    expect((await find(`'`)).map((r) => r.title)).toEqual([titles[0], titles[1]]);
    expect((await find('qx1', 11)).map((r) => r.title)).toEqual([titles[2], titles[3]]);
    expect(await find('qx1', 0, new Date(Date.now() + 3_600_000))).toEqual([]);
    // Exact equality with a quoted string, and the Date param compared against autodate values.
    const exact = await guest().collection('posts').getFirstListItem(pb.filter('title = {:t} && created <= {:now}', { t: titles[1], now: new Date(Date.now() + 60_000) }));
    expect(exact.id).toBe(ids[titles[1]]);
  });

  it('body modifiers: views+ / views- / tags- / tags+ / +tags', async () => {
    const pb = asAlice();
    const post = await pb.collection('posts').create({ title: 'Modifiers', views: 5, tags: ['a', 'b'], author: alice.id });
    let r = await pb.collection('posts').update(post.id, { 'views+': 1, 'tags-': 'a' });
    expect(r.views).toBe(6);
    expect(r.tags).toEqual(['b']);
    r = await pb.collection('posts').update(post.id, { 'views-': 10, 'tags+': 'c' });
    expect(r.views).toBe(-4);
    expect(r.tags).toEqual(['b', 'c']);
    r = await pb.collection('posts').update(post.id, { '+tags': ['a'] });
    expect(r.tags).toEqual(['a', 'b', 'c']);
    expect((await guest().collection('posts').getOne(post.id)).views).toBe(-4);
    // Modifiers also work on create.
    const c = await pb.collection('posts').create({ title: 'Modifiers on create', 'views+': 2, 'tags+': ['b'], author: alice.id });
    expect(c.views).toBe(2);
    expect(c.tags).toEqual(['b']);
  });

  // Deliberate difference from PocketBase (issue 2 "Bad input: unknown fields → 400", README):
  // a body key that is not a field is a 400 naming the key, instead of being dropped silently;
  // the output-only keys of a record (collectionId, collectionName, expand) are still accepted.
  it('unknown body keys are a 400 naming the key; echoed record keys are fine', async () => {
    const pb = asAlice();
    const err = await expectClientError(pb.collection('posts').create({ title: 'Unknown keys', author: alice.id, draftNote: 'client-only' }), 400, 'Failed to create record.');
    expect(err.response.data.draftNote?.code).toBe('validation_unknown_field');
    const post = await pb.collection('posts').create({ title: 'Unknown keys', author: alice.id });
    const updated = await pb.collection('posts').update(post.id, { ...post, title: 'Unknown keys 2' });
    expect(updated.title).toBe('Unknown keys 2');
  });

  it('expand: single, multiple, nested and back-relation', async () => {
    const post = await asAlice().collection('posts').create({ title: 'Expandable', author: alice.id, editors: [alice.id, bob.id] });
    const comment = await asBob().collection('comments').create({ message: 'Nice', post: post.id });
    const su = asSuperuser();

    const single = await su.collection('posts').getOne(post.id, { expand: 'author' });
    expect(single.expand?.author).toMatchObject({ id: alice.id, name: 'Alice', collectionName: 'users' });
    expect(single.expand).not.toHaveProperty('editors');

    const multi = await su.collection('posts').getOne(post.id, { expand: 'author,editors' });
    expect(multi.expand?.editors.map((u: any) => u.id)).toEqual([alice.id, bob.id]);

    const nested = await su.collection('comments').getOne(comment.id, { expand: 'post.author,post.editors' });
    expect(nested.expand?.post).toMatchObject({ id: post.id, title: 'Expandable' });
    expect(nested.expand?.post.expand.author).toMatchObject({ id: alice.id, name: 'Alice' });
    expect(nested.expand?.post.expand.editors.map((u: any) => u.name)).toEqual(['Alice', 'Bob']);

    const back = await su.collection('posts').getOne(post.id, { expand: 'comments_via_post' });
    expect(back.expand?.comments_via_post.map((c: any) => c.id)).toEqual([comment.id]);

    const listed = await su.collection('comments').getList(1, 10, { filter: su.filter('id = {:id}', { id: comment.id }), expand: 'post.author' });
    expect(listed.items[0].expand?.post.expand.author.id).toBe(alice.id);

    // Expanded records must pass their own viewRule (users: only yourself).
    const asGuest = await guest().collection('posts').getOne(post.id, { expand: 'author,editors' });
    expect(asGuest).not.toHaveProperty('expand');
    const asBobView = await asBob().collection('posts').getOne(post.id, { expand: 'author,editors' });
    expect(asBobView.expand?.author).toBeUndefined();
    expect(asBobView.expand?.editors.map((u: any) => u.id)).toEqual([bob.id]);

    // Unknown relations are silently ignored.
    const unknown = await su.collection('posts').getOne(post.id, { expand: 'nothing_here' });
    expect(unknown).not.toHaveProperty('expand');
  });

  it('fields picking: plain keys, expand.author.name and :excerpt', async () => {
    const body = '<p>Hello <b>world</b>, this is <em>rich</em> text.</p><script>alert(1)</script>';
    const post = await asAlice().collection('posts').create({ title: 'Fields', body, author: alice.id, views: 7 });
    const su = asSuperuser();

    const picked = await su.collection('posts').getOne(post.id, { expand: 'author', fields: 'id,title,expand.author.name,body:excerpt(8,true)' });
    expect(picked).toEqual({ id: post.id, title: 'Fields', body: 'Hello wo...', expand: { author: { name: 'Alice' } } });

    const full = await su.collection('posts').getOne(post.id, { fields: 'body:excerpt(100)' });
    expect(full).toEqual({ body: 'Hello world, this is rich text.' });

    const list = await su.collection('posts').getList(1, 2, { filter: 'title = "Fields"', expand: 'author', fields: 'title,expand.author.name' });
    expect(list).toMatchObject({ page: 1, perPage: 2, totalItems: 1, totalPages: 1 });
    expect(list.items).toEqual([{ title: 'Fields', expand: { author: { name: 'Alice' } } }]);

    const star = await su.collection('posts').getOne(post.id, { fields: '*,body:excerpt(5)' });
    expect(star).toMatchObject({ id: post.id, title: 'Fields', views: 7, body: 'Hello' });

    // fields also applies to create/update responses and to auth responses.
    const created = await asAlice().collection('posts').create({ title: 'Fields create', author: alice.id }, { fields: 'id,title' });
    expect(Object.keys(created).sort()).toEqual(['id', 'title']);
    const auth = await guest().collection('users').authWithPassword(bob.email, bob.password, { fields: 'token,record.id' });
    expect(Object.keys(auth.record)).toEqual(['id']);
    expect(auth.token).toBeTruthy();
  });
});

// ---------------------------------------------------------------------------------------------
describe('rule outcomes as the SDK reports them', () => {
  let alicePrivate = '';
  let alicePublic = '';
  let bobPrivate = '';

  beforeAll(async () => {
    alicePrivate = (await createRecord(t, 'notes', { title: 'alice private', public: false, owner: alice.id })).values.id as string;
    alicePublic = (await createRecord(t, 'notes', { title: 'alice public', public: true, owner: alice.id })).values.id as string;
    bobPrivate = (await createRecord(t, 'notes', { title: 'bob private', public: false, owner: bob.id })).values.id as string;
    await createRecord(t, 'secrets', { value: 's3cr3t' });
  });

  it('locked rules (null) are 403 "Only superusers can perform this action." for everyone but superusers', async () => {
    const msg = 'Only superusers can perform this action.';
    for (const pb of [guest(), asAlice()]) {
      await expectClientError(pb.collection('secrets').getList(), 403, msg);
      await expectClientError(pb.collection('secrets').getFullList(), 403, msg);
      await expectClientError(pb.collection('secrets').create({ value: 'x' }), 403, msg);
    }
    const su = asSuperuser();
    const list = await su.collection('secrets').getList();
    expect(list.items.map((r) => r.value)).toEqual(['s3cr3t']);
    const id = list.items[0].id;
    await expectClientError(guest().collection('secrets').getOne(id), 403, msg);
    await expectClientError(asAlice().collection('secrets').update(id, { value: 'y' }), 403, msg);
    await expectClientError(asAlice().collection('secrets').delete(id), 403, msg);
  });

  it('a list rule filters rows out (200, fewer items)', async () => {
    const titles = async (pb: PocketBase) => (await pb.collection('notes').getFullList({ sort: 'title' })).map((r) => r.title);
    expect(await titles(guest())).toEqual(['alice public']);
    expect(await titles(asAlice())).toEqual(['alice private', 'alice public']);
    expect(await titles(asBob())).toEqual(['alice public', 'bob private']);
    expect(await titles(asSuperuser())).toEqual(['alice private', 'alice public', 'bob private']);
    const counted = await guest().collection('notes').getList(1, 10);
    expect(counted.totalItems).toBe(1);
  });

  it('a view rule miss is 404', async () => {
    await expectClientError(asBob().collection('notes').getOne(alicePrivate), 404, "The requested resource wasn't found.");
    await expectClientError(guest().collection('notes').getOne(bobPrivate), 404);
    expect((await asAlice().collection('notes').getOne(alicePrivate)).title).toBe('alice private');
    expect((await guest().collection('notes').getOne(alicePublic)).title).toBe('alice public');
  });

  it('a create rule miss is 400 "Failed to create record."', async () => {
    let err = await expectClientError(guest().collection('notes').create({ title: 'guest note', owner: alice.id }), 400, 'Failed to create record.');
    expect(err.response.data).toEqual({});
    err = await expectClientError(asBob().collection('notes').create({ title: 'as alice', owner: alice.id }), 400, 'Failed to create record.');
    expect(err.response.data).toEqual({});
    const ok = await asBob().collection('notes').create({ title: 'bob second', owner: bob.id });
    expect(ok.owner).toBe(bob.id);
  });

  it('update and delete rule misses are 404', async () => {
    await expectClientError(asBob().collection('notes').update(alicePublic, { title: 'hijacked' }), 404);
    await expectClientError(asBob().collection('notes').delete(alicePublic), 404);
    await expectClientError(guest().collection('notes').delete(alicePrivate), 404);
    expect((await guest().collection('notes').getOne(alicePublic)).title).toBe('alice public');
  });

  it('a validation error is 400 with data.title.code', async () => {
    const err = await expectClientError(asAlice().collection('posts').create({ body: 'no title', author: alice.id }), 400, 'Failed to create record.');
    expect(err.response.status).toBe(400);
    expect(err.response.data.title).toMatchObject({ code: 'validation_required', message: 'Missing required value.' });
    const post = await asAlice().collection('posts').create({ title: 'Valid', author: alice.id });
    const upd = await expectClientError(asAlice().collection('posts').update(post.id, { title: '', tags: ['zzz'] }), 400, 'Failed to update record.');
    expect(upd.response.data.title?.code).toBe('validation_required');
    expect(upd.response.data.tags?.code).toBeTruthy();
  });

  it('@request / @collection in a non-superuser filter or sort is 403', async () => {
    const msg = 'Only superusers can filter by @collection.';
    await expectClientError(guest().collection('posts').getList(1, 10, { filter: '@request.auth.id = ""' }), 403, msg);
    await expectClientError(asAlice().collection('posts').getList(1, 10, { filter: '@collection.users.id != ""' }), 403, msg);
    await expectClientError(guest().collection('posts').getList(1, 10, { sort: '@request.auth.id' }), 403, msg);
    // Superusers may.
    const list = await asSuperuser().collection('posts').getList(1, 1, { filter: '@request.auth.id != ""' });
    expect(list.totalItems).toBeGreaterThan(0);
  });

  it('an invalid filter is 400 with data.filter', async () => {
    const err = await expectClientError(guest().collection('posts').getList(1, 10, { filter: 'nosuchfield = 1' }), 400);
    expect(err.response.data.filter?.code).toBeTruthy();
  });
});

// ---------------------------------------------------------------------------------------------
describe('auth store behaviours', () => {
  it('updating the current auth record refreshes authStore.record', async () => {
    const pb = guest();
    await pb.collection('users').create({ email: 'erin@example.com', password: 'erin-password', passwordConfirm: 'erin-password', name: 'Erin' });
    const { token, record } = await pb.collection('users').authWithPassword('erin@example.com', 'erin-password');
    const updated = await pb.collection('users').update(record.id, { name: 'Erin Renamed', emailVisibility: true });
    expect(updated.name).toBe('Erin Renamed');
    expect(pb.authStore.record?.name).toBe('Erin Renamed');
    expect(pb.authStore.record?.emailVisibility).toBe(true);
    expect(pb.authStore.record?.email).toBe('erin@example.com');
    expect(pb.authStore.token).toBe(token);
    expect(pb.authStore.isValid).toBe(true);
    // The token still works after the update.
    expect((await pb.collection('users').authRefresh()).record.name).toBe('Erin Renamed');
  });

  it('updating another record leaves authStore.record alone', async () => {
    const pb = guest();
    await pb.collection('users').authWithPassword(alice.email, alice.password);
    const post = await pb.collection('posts').create({ title: 'not me', author: alice.id });
    await pb.collection('posts').update(post.id, { title: 'still not me' });
    expect(pb.authStore.record?.id).toBe(alice.id);
    expect(pb.authStore.record).not.toHaveProperty('title');
  });

  it('deleting the current auth record clears the store, and its token then acts as a guest', async () => {
    const pb = guest();
    await pb.collection('users').create({ email: 'frank@example.com', password: 'frank-password', passwordConfirm: 'frank-password', name: 'Frank' });
    const { token, record } = await pb.collection('users').authWithPassword('frank@example.com', 'frank-password');
    expect(pb.authStore.isValid).toBe(true);
    expect(await pb.collection('users').delete(record.id)).toBe(true);
    expect(pb.authStore.isValid).toBe(false);
    expect(pb.authStore.token).toBe('');
    expect(pb.authStore.record).toBeNull();

    const stale = client(token, record);
    expect((await stale.collection('users').getList()).items).toEqual([]);
    await expectClientError(stale.collection('users').authRefresh(), 401);
    await expectClientError(guest().collection('users').authWithPassword('frank@example.com', 'frank-password'), 400, 'Failed to authenticate.');
  });

  it('a password change invalidates older tokens (tokenKey rotation)', async () => {
    const user = await createAuthRecord(t, 'users', { email: 'gina@example.com', password: 'gina-password', name: 'Gina' });
    const pb = client(user.token, { id: user.id, collectionId: USERS_ID, collectionName: 'users' });
    expect((await pb.collection('users').getList()).items.map((u) => u.id)).toEqual([user.id]);
    await updateServerSide('users', user.id, { password: 'gina-password-2', passwordConfirm: 'gina-password-2' });
    expect((await pb.collection('users').getList()).items).toEqual([]);
    const fresh = await guest().collection('users').authWithPassword('gina@example.com', 'gina-password-2');
    expect(fresh.record.id).toBe(user.id);
  });
});

// ---------------------------------------------------------------------------------------------
describe('owner updates of protected auth fields', () => {
  async function signedIn(email: string) {
    const pb = guest();
    await pb.collection('users').create({ email, password: 'original-pass-1', passwordConfirm: 'original-pass-1', name: 'Owner' });
    const { record, token } = await pb.collection('users').authWithPassword(email, 'original-pass-1');
    return { pb, id: record.id, token };
  }

  it('a password change needs the right oldPassword; the previous token then acts as a guest', async () => {
    const { pb, id, token } = await signedIn('helen@example.com');
    const bad = await expectClientError(pb.collection('users').update(id, { password: 'changed-pass-2', passwordConfirm: 'changed-pass-2', oldPassword: 'wrong-pass-0' }), 400, 'Failed to update record.');
    expect(bad.response.data.oldPassword?.code).toBe('validation_invalid_old_password');
    const ok = await pb.collection('users').update(id, { password: 'changed-pass-2', passwordConfirm: 'changed-pass-2', oldPassword: 'original-pass-1' });
    expect(ok.id).toBe(id);
    expect(ok).not.toHaveProperty('password');
    // The SDK still holds the old token, which no longer verifies (tokenKey rotated).
    expect(pb.authStore.token).toBe(token);
    expect((await pb.collection('users').getList()).items).toEqual([]);
    await expectClientError(guest().collection('users').authWithPassword('helen@example.com', 'original-pass-1'), 400, 'Failed to authenticate.');
    expect((await guest().collection('users').authWithPassword('helen@example.com', 'changed-pass-2')).record.id).toBe(id);
  });

  it('an owner cannot change email or verified directly', async () => {
    const { pb, id } = await signedIn('ivan@example.com');
    await expectClientError(pb.collection('users').update(id, { email: 'ivan2@example.com' }), 400, 'Failed to update record.');
    await pb.collection('users').update(id, { verified: true }).catch(() => undefined);
    const me = await pb.collection('users').getOne(id);
    expect(me).toMatchObject({ email: 'ivan@example.com', verified: false });
    // Sending the unchanged values back (e.g. the spread auth store record) is fine.
    const same = await pb.collection('users').update(id, { ...pb.authStore.record, name: 'Ivan' });
    expect(same).toMatchObject({ name: 'Ivan', email: 'ivan@example.com', verified: false });
    expect(pb.authStore.record?.name).toBe('Ivan');
  });

  it('an owner email change reports data.email.code "validation_values_mismatch"', async () => {
    const { pb, id } = await signedIn('jack@example.com');
    const err = await expectClientError(pb.collection('users').update(id, { email: 'jack2@example.com' }), 400, 'Failed to update record.');
    expect(err.response.data.email?.code).toBe('validation_values_mismatch');
  });

  it('verified: true from a non-manager is a 400 with data.verified', async () => {
    const { pb, id } = await signedIn('kate@example.com');
    let err = await expectClientError(pb.collection('users').update(id, { verified: true }), 400, 'Failed to update record.');
    expect(err.response.data.verified?.code).toBe('validation_values_mismatch');
    err = await expectClientError(
      guest().collection('users').create({ email: 'kate2@example.com', password: 'kate-password', passwordConfirm: 'kate-password', verified: true }),
      400,
      'Failed to create record.',
    );
    expect(err.response.data.verified?.code).toBe('validation_values_mismatch');
  });

  it('a password change without oldPassword reports data.oldPassword.code "validation_required"', async () => {
    const { pb, id } = await signedIn('liam@example.com');
    const err = await expectClientError(pb.collection('users').update(id, { password: 'changed-pass-2', passwordConfirm: 'changed-pass-2' }), 400, 'Failed to update record.');
    expect(err.response.data.oldPassword?.code).toBe('validation_required');
  });
});

// ---------------------------------------------------------------------------------------------
describe('invalid tokens act as a guest', () => {
  const noteTitles = async (pb: PocketBase) => (await pb.collection('notes').getFullList({ sort: 'title' })).map((r) => r.title);

  it('an expired token: guest results, never a 401 on reads', async () => {
    const rec = await createAuthRecord(t, 'users', { email: 'exp@example.com', password: 'expired-pass', name: 'Exp' });
    await createRecord(t, 'notes', { title: 'exp private', public: false, owner: rec.id });
    const valid = client(rec.token, { id: rec.id, collectionId: USERS_ID, collectionName: 'users' });
    expect(await noteTitles(valid)).toContain('exp private');

    const expired = await t.app.auth.issueToken(rec.record, true, -60);
    expect(jwtPayload(expired).exp).toBeLessThan(Date.now() / 1000);
    const pb = client(expired, { id: rec.id, collectionId: USERS_ID, collectionName: 'users' });
    expect(pb.authStore.isValid).toBe(false); // the SDK sees it too
    expect(await noteTitles(pb)).not.toContain('exp private');
    expect(await noteTitles(pb)).toEqual(await noteTitles(guest()));
    expect((await pb.collection('users').getList()).items).toEqual([]);
    await expectClientError(pb.collection('notes').create({ title: 'x', owner: rec.id }), 400, 'Failed to create record.');
    await expectClientError(pb.collection('users').authRefresh(), 401);
  });

  it('a forged token (wrong key, alg none, garbage): guest results', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const claims = { id: alice.id, type: 'auth', collectionId: USERS_ID, refreshable: true, exp };
    const head = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const forgedSu = forgeToken({ ...claims, id: 'whatever', collectionId: SUPERUSERS_ID });
    for (const token of [forgeToken(claims), `${head}.${body}.`, 'not-a-jwt', forgedSu]) {
      const pb = client(token, { id: alice.id, collectionId: USERS_ID, collectionName: 'users' });
      expect(await noteTitles(pb), token).toEqual(await noteTitles(guest()));
      expect((await pb.collection('users').getList()).items).toEqual([]);
      await expectClientError(pb.collection('posts').create({ title: 'forged', author: alice.id }), 400, 'Failed to create record.');
    }
    await expectClientError(client(forgedSu).collections.getList(), 401);
    // The real token still works.
    expect(await noteTitles(asAlice())).toContain('alice private');
  });
});
