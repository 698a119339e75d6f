/**
 * What one request may cost, decided before the work is done: client filters over their budget
 * (guests and superusers alike, the latter with a higher bound), expansions that would place too
 * many records, bodies with more keys than a collection can accept and error bodies listing too
 * many field errors. Each attack once blocked the server for seconds to minutes; ordinary
 * queries keep their PocketBase results. Runs on SQLite, and on PostgreSQL with
 * BASALT_TEST_DB=postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EXPAND_PLACEMENTS } from '../../src/core/records/expand-placements.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let su = '';
const users: string[] = [];
let firstPost = '';

let labelX = '';

/** 5 authors with 10 posts each; every post has 2 comments; tags and labels on every other post. */
beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  await t.app.collections.update('users', { listRule: '', viewRule: '' });
  await createCollection(t, { name: 'labels', listRule: '', viewRule: '', fields: [{ name: 'name', type: 'text' }] });
  labelX = String((await createRecord(t, 'labels', { name: 'x' })).values.id);
  await createCollection(t, {
    name: 'posts',
    listRule: '',
    viewRule: '',
    createRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'body', type: 'text' },
      { name: 'author', type: 'relation', collectionId: 'users', maxSelect: 1 },
      { name: 'tags', type: 'select', values: ['x', 'y'], maxSelect: 2 },
      { name: 'labels', type: 'relation', collectionId: 'labels', maxSelect: 5 },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });
  await createCollection(t, {
    name: 'comments',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'post', type: 'relation', collectionId: 'posts', maxSelect: 1 },
      { name: 'text', type: 'text' },
    ],
  });
  for (let u = 0; u < 5; u++) users.push((await createAuthRecord(t, 'users', { email: `author${u}@example.com` })).id);
  for (let i = 0; i < 50; i++) {
    const post = await createRecord(t, 'posts', { title: `title ${i}`, body: `body ${i}`, author: users[i % 5], tags: i % 2 === 0 ? ['x'] : [], labels: i % 2 === 0 ? [labelX] : [] });
    if (i === 0) firstPost = String(post.values.id);
    for (const text of ['a comment', 'another one']) await createRecord(t, 'comments', { post: post.values.id, text: `${text} on ${i}` });
  }
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const list = (query: string, auth?: string, collection = 'posts') => send(t, 'GET', `/api/collections/${collection}/records?${query}`, { auth });
const filtered = (filter: string, auth?: string, collection = 'posts') => list(`perPage=100&filter=${encodeURIComponent(filter)}`, auth, collection);

/** The standard 400 of a refused filter, with its code and a message naming what to simplify. */
function expectTooComplex(res: Awaited<ReturnType<typeof send>>, message: RegExp) {
  expect(res.status, res.raw.slice(0, 500)).toBe(400);
  expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  expect(res.body.message).toBe('Invalid filter parameters.');
  expect(res.body.data.filter.code).toBe('validation_filter_too_complex');
  expect(res.body.data.filter.message).toMatch(message);
}

const DEEP = 'author.posts_via_author.author.posts_via_author';

describe('filter cost', () => {
  it('comparing two multi-valued paths two back-relations deep is refused for guests and superusers', async () => {
    const attack = `${DEEP}.title != ${DEEP}.body`;
    for (const auth of [undefined, su]) {
      expectTooComplex(await filtered(attack, auth), /"author\.posts_via_author\.author\.posts_via_author\.title" joins 2 multi-valued relations.*compare one of them with a literal/);
    }
  });

  it('a guest may not compare a two-step path with a one-step one; a superuser may', async () => {
    const filter = `${DEEP}.title != author.posts_via_author.body`;
    expectTooComplex(await filtered(filter), /too many row combinations/);
    const res = await filtered(filter, su);
    expect(res.status).toBe(200);
    expect(res.body.totalItems).toBe(50);
  });

  it('more to-many steps than the budget is refused for superusers too (6 for them, 4 for others)', async () => {
    const five = `${DEEP}.author.posts_via_author.title ?= "x" || tags:each ?= "x" || comments_via_post.text ?= "x"`;
    expectTooComplex(await filtered(five), /multi-valued relation paths in one filter \(at most 4\)/);
    expect((await filtered(five, su)).status).toBe(200);
    const seven = `${DEEP}.author.posts_via_author.title ?= "x" || author.posts_via_author.title ?= "y" || author.posts_via_author.author.posts_via_author.body ?= "z" || comments_via_post.text ?= "q"`;
    expectTooComplex(await filtered(seven, su), /at most 6/);
  });

  it('an @collection join counts as a whole table: comparing two of them is refused for superusers', async () => {
    expectTooComplex(await filtered('@collection.posts.title != @collection.posts.body', su), /"@collection\.posts\.title" joins 1 multi-valued relation.*too many row combinations/);
    const ordinary = await filtered('@collection.labels.name ?= "x" && @collection.labels.id ?= labels.id', su);
    expect(ordinary.status).toBe(200);
    expect(ordinary.body.totalItems).toBe(25);
  });

  it('a long strftime format is refused (100 characters for guests, 200 for superusers)', async () => {
    const format = (n: number) => '%Y'.repeat(n / 2);
    expectTooComplex(await filtered(`strftime("${format(102)}", created) = "x"`), /strftime\(\) has 102 characters \(at most 100\)/);
    expect((await filtered(`strftime("${format(100)}", created) = "x"`)).status).toBe(200);
    expect((await filtered(`strftime("${format(102)}", created) = "x"`, su)).status).toBe(200);
    expectTooComplex(await filtered(`strftime("${format(202)}", created) = "x"`, su), /at most 200/);
  });

  it('collection rules, written by superusers, are not bounded', async () => {
    await t.app.collections.update('posts', { listRule: `${DEEP}.title != ${DEEP}.body` });
    try {
      const res = await list('perPage=1');
      expect(res.status).toBe(200);
      expect(res.body.totalItems).toBe(50);
    } finally {
      await t.app.collections.update('posts', { listRule: '' });
    }
  });

  it('ordinary multi-valued filters keep their results', async () => {
    const cases: [string, number][] = [
      [`labels.id ?= "${labelX}"`, 25],
      [`labels ~ "${labelX}"`, 25],
      ['labels.name ?= "x"', 25],
      ['labels.name = "x"', 25],
      ['tags:each ?= "x"', 25],
      ['tags ~ "x"', 25],
      ['author.posts_via_author.title ?= "title 3"', 10],
      ['author.posts_via_author.title = "title 3"', 0],
      ['author.posts_via_author.title != "nothing"', 50],
      ['comments_via_post.text ?~ "another"', 50],
      ['comments_via_post.text ~ "comment"', 0],
      ['comments_via_post.text ~ "on"', 50],
      ['author.posts_via_author.title != author.posts_via_author.body', 50],
      [`${DEEP}.title ?= "title 7"`, 10],
      [`${DEEP}.title != "nothing"`, 50],
    ];
    for (const [filter, count] of cases) {
      const res = await filtered(filter);
      expect(res.status, `${filter}: ${res.raw.slice(0, 300)}`).toBe(200);
      expect(res.body.totalItems, filter).toBe(count);
    }
    const comments = await filtered('post.author.id != "" && post.labels.name ?= "x"', undefined, 'comments');
    expect(comments.status).toBe(200);
    expect(comments.body.totalItems).toBe(50);
  });

  it('pb.filter-style queries are unchanged', async () => {
    // What `pb.filter('title = {:t} && author = {:a} && created <= {:d}', …)` sends.
    const filter = `title = 'title 5' && author = '${users[0]}' && created <= '2999-01-01 00:00:00.000Z'`;
    const res = await list(`filter=${encodeURIComponent(filter)}&sort=-created,title`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { title: string }) => p.title)).toEqual(['title 5']);
  });
});

describe('expand cost', () => {
  const attack = `perPage=1000&expand=${DEEP}.author.posts_via_author`;

  it('an expansion placing more records than the cap is a small, quick 400 for guests and superusers', async () => {
    for (const auth of [undefined, su]) {
      const res = await list(attack, auth);
      expect(res.status, res.raw.slice(0, 300)).toBe(400);
      expect(res.body.message).toBe('Invalid "expand" parameter.');
      expect(res.body.data.expand.code).toBe('validation_expand_too_large');
      expect(res.body.data.expand.message).toMatch(/expand fewer relations or use a smaller perPage/);
      expect(res.raw.length).toBeLessThan(1000);
    }
  });

  it('a single record expanded as deep is within the cap and answered in full', async () => {
    // 1 + 10 + 10 + 100 + 100 + 1000 placements: within the cap, answered in full.
    const one = await send(t, 'GET', `/api/collections/posts/records/${firstPost}?expand=${DEEP}.author.posts_via_author`);
    expect(one.status).toBe(200);
    expect(one.body.expand.author.expand.posts_via_author).toHaveLength(10);
  });

  it('ordinary expansions are answered in full', async () => {
    const res = await list('perPage=1000&expand=author.posts_via_author,comments_via_post');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(50);
    for (const post of res.body.items) {
      expect(post.expand.author.expand.posts_via_author).toHaveLength(10);
      expect(post.expand.comments_via_post).toHaveLength(2);
    }
    expect(MAX_EXPAND_PLACEMENTS).toBeGreaterThanOrEqual(50 * (1 + 10 + 2));
  });
});

describe('body cost', () => {
  const manyKeys = (n: number) => {
    const body: Record<string, number> = {};
    for (let i = 0; i < n; i++) body[`k${i}`] = i;
    return JSON.stringify(body);
  };
  const json = { 'content-type': 'application/json' };

  it('a body with a million unknown keys is a small 400, for guests and superusers', async () => {
    const payload = manyKeys(1_000_000);
    for (const auth of [undefined, su]) {
      const res = await send(t, 'POST', '/api/collections/posts/records', { auth, body: payload, headers: json });
      expect(res.status).toBe(400);
      expect(res.body.message).toBe('The submitted data has too many keys.');
      expect(res.body.data[''].code).toBe('validation_too_many_keys');
      expect(res.raw.length).toBeLessThan(1000);
    }
    const count = await list('perPage=1', su);
    expect(count.body.totalItems).toBe(50);
  }, 60_000);

  it('the same in a batch sub-request', async () => {
    await send(t, 'PATCH', '/api/settings', { auth: su, body: { batch: { enabled: true } } });
    const body = JSON.parse(manyKeys(5_000)) as Record<string, number>;
    const res = await send(t, 'POST', '/api/batch', { auth: su, body: { requests: [{ method: 'POST', url: '/api/collections/posts/records', body }] } });
    expect(res.status).toBe(400);
    expect(res.body.data.requests['0'].response.data[''].code).toBe('validation_too_many_keys');
    expect(res.raw.length).toBeLessThan(2000);
  });

  it('an error lists at most 50 field errors and counts the rest in its message', async () => {
    const res = await send(t, 'POST', '/api/collections/posts/records', { body: manyKeys(150), headers: json });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.data)).toHaveLength(50);
    expect(res.body.data.k0).toMatchObject({ code: 'validation_unknown_field' });
    expect(res.body.message).toBe('Failed to create record. 100 more field errors are not listed.');
  });

  it('a few unknown keys are still reported one by one', async () => {
    const res = await send(t, 'POST', '/api/collections/posts/records', { body: { title: 'ok', nope: 1, nada: 2 } });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Failed to create record.');
    expect(Object.keys(res.body.data).sort()).toEqual(['nada', 'nope']);
  });
});
