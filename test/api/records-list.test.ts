/**
 * List parameters (spec §1.1 limits, §1.2, §2): paging, skipTotal, sort, filter, expand (with
 * each expanded record's own viewRule) and `fields` picking on lists, views and creates.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { INVALID_FILTER, countAsSuperuser } from './records-helpers.js';

let t: TestApp;
let su = '';
const app = () => t;
const id: Record<string, string> = {};
const I = '/api/collections/items/records';
const TOTAL = 45;
const CATS = ['x', 'y', 'z'];
const q = (s: string) => encodeURIComponent(s);
/** `n` values of a list body, in order. */
const ns = (body: any) => body.items.map((i: any) => i.n);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const pad = (n: number) => String(n).padStart(2, '0');
const HTML = '<p>Hello <b>world</b> and more</p><p>Second</p>';

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  const seed = async (c: string, data: Record<string, unknown>) => String((await createRecord(t, c, data)).values.id);
  const readable = { listRule: '', viewRule: '' };
  await createCollection(t, { name: 'countries', type: 'base', ...readable, fields: [{ name: 'name', type: 'text' }] });
  await createCollection(t, {
    name: 'teams',
    type: 'base',
    ...readable,
    fields: [
      { name: 'name', type: 'text' },
      { name: 'country', type: 'relation', collectionId: 'countries', maxSelect: 1 },
    ],
  });
  await createCollection(t, {
    name: 'authors',
    type: 'base',
    listRule: '',
    viewRule: 'public = true',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'public', type: 'bool' },
      { name: 'team', type: 'relation', collectionId: 'teams', maxSelect: 1 },
    ],
  });
  await createCollection(t, { name: 'tags', type: 'base', ...readable, fields: [{ name: 'name', type: 'text' }] });
  await createCollection(t, { name: 'vaults', type: 'base', fields: [{ name: 'name', type: 'text' }] });
  await createCollection(t, {
    name: 'items',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'cat', type: 'select', values: CATS, maxSelect: 1 },
      { name: 'body', type: 'editor' },
      { name: 'author', type: 'relation', collectionId: 'authors', maxSelect: 1 },
      { name: 'tags', type: 'relation', collectionId: 'tags', maxSelect: 5 },
      { name: 'vault', type: 'relation', collectionId: 'vaults', maxSelect: 1 },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });
  await createCollection(t, {
    name: 'comments',
    type: 'base',
    ...readable,
    fields: [
      { name: 'text', type: 'text' },
      { name: 'item', type: 'relation', collectionId: 'items', maxSelect: 1 },
      { name: 'hidden', type: 'bool' },
    ],
  });
  await t.app.collections.update('comments', { viewRule: 'hidden = false' });
  await createCollection(t, {
    name: 'likes',
    type: 'base',
    ...readable,
    fields: [{ name: 'item', type: 'relation', collectionId: 'items', maxSelect: 1 }],
    indexes: ['CREATE UNIQUE INDEX idx_likes_item ON likes (item)'],
  });

  id.country = await seed('countries', { name: 'Freedonia' });
  id.team = await seed('teams', { name: 'Red', country: id.country });
  id.ann = await seed('authors', { name: 'Ann', public: true, team: id.team });
  id.bob = await seed('authors', { name: 'Bob', public: false, team: id.team });
  id.red = await seed('tags', { name: 'red' });
  id.green = await seed('tags', { name: 'green' });
  id.blue = await seed('tags', { name: 'blue' });
  id.vault = await seed('vaults', { name: 'V' });
  for (let n = 1; n <= TOTAL; n++) {
    const data: Record<string, unknown> = { title: `item ${pad(n)}`, n, cat: CATS[(n - 1) % 3], author: n % 2 === 1 ? id.ann : id.bob };
    if (n === 1) Object.assign(data, { tags: [id.red, id.green], body: HTML, vault: id.vault });
    if (n === 2) Object.assign(data, { tags: [id.blue, id.red] });
    if (n === 3) Object.assign(data, { tags: [id.green] });
    id[`item${n}`] = await seed('items', data);
  }
  id.c1 = await seed('comments', { text: 'first', item: id.item1 });
  id.c2 = await seed('comments', { text: 'second', item: id.item1 });
  await seed('comments', { text: 'hidden', item: id.item1, hidden: true });
  await seed('comments', { text: 'other', item: id.item2 });
  id.like1 = await seed('likes', { item: id.item1 });

  await createCollection(t, {
    name: 'chain',
    type: 'base',
    ...readable,
    fields: [
      { name: 'name', type: 'text' },
      { name: 'next', type: 'relation', collectionId: 'chain', maxSelect: 1 },
    ],
  });
  let next = '';
  for (let i = 8; i >= 1; i--) next = id[`chain${i}`] = await seed('chain', { name: `c${i}`, next });
});

/** Names along `expand.next` from a chain record: ['c2', 'c3', …]. */
function chainNames(record: any): string[] {
  const names: string[] = [];
  for (let r = record.expand?.next; r; r = r.expand?.next) names.push(r.name);
  return names;
}

afterAll(async () => {
  await t?.close();
});

describe('paging', () => {
  runScenarios(app, [
    {
      name: 'defaults: page 1, 30 per page',
      method: 'GET',
      url: `${I}?sort=n`,
      status: 200,
      expect: { page: 1, perPage: 30, totalItems: TOTAL, totalPages: 2 },
      check: (body) => expect(ns(body)).toEqual(range(1, 30)),
    },
    { name: 'page 2', method: 'GET', url: `${I}?sort=n&page=2`, status: 200, expect: { page: 2, perPage: 30, totalItems: TOTAL, totalPages: 2 }, check: (body) => expect(ns(body)).toEqual(range(31, 45)) },
    { name: 'a page past the end is empty', method: 'GET', url: `${I}?page=3`, status: 200, expect: { page: 3, totalItems: TOTAL, totalPages: 2, items: [] } },
    { name: 'perPage and page together', method: 'GET', url: `${I}?sort=n&perPage=10&page=3`, status: 200, expect: { page: 3, perPage: 10, totalItems: TOTAL, totalPages: 5 }, check: (body) => expect(ns(body)).toEqual(range(21, 30)) },
    { name: 'page 0 is page 1', method: 'GET', url: `${I}?sort=n&page=0&perPage=2`, status: 200, expect: { page: 1 }, check: (body) => expect(ns(body)).toEqual([1, 2]) },
    { name: 'a negative page is page 1', method: 'GET', url: `${I}?sort=n&page=-4&perPage=2`, status: 200, expect: { page: 1 }, check: (body) => expect(ns(body)).toEqual([1, 2]) },
    { name: 'perPage 0 falls back to 30', method: 'GET', url: `${I}?perPage=0`, status: 200, expect: { perPage: 30, totalPages: 2 }, check: (body) => expect(body.items).toHaveLength(30) },
    { name: 'a negative perPage falls back to 30', method: 'GET', url: `${I}?perPage=-1`, status: 200, expect: { perPage: 30 }, check: (body) => expect(body.items).toHaveLength(30) },
    { name: 'perPage above 1000 is clamped', method: 'GET', url: `${I}?perPage=5000`, status: 200, expect: { perPage: 1000, totalItems: TOTAL, totalPages: 1 }, check: (body) => expect(body.items).toHaveLength(TOTAL) },
    { name: 'perPage 1000 is allowed', method: 'GET', url: `${I}?perPage=1000`, status: 200, expect: { perPage: 1000 } },
    { name: 'a non-integer perPage', method: 'GET', url: `${I}?perPage=abc`, status: 400 },
    { name: 'a decimal perPage', method: 'GET', url: `${I}?perPage=2.5`, status: 400 },
    { name: 'a non-integer page', method: 'GET', url: `${I}?page=one`, status: 400 },
    { name: 'a decimal page', method: 'GET', url: `${I}?page=1.5`, status: 400 },
    {
      name: 'skipTotal=1 gives -1 totals',
      method: 'GET',
      url: `${I}?sort=n&skipTotal=1&perPage=5`,
      status: 200,
      expect: { page: 1, perPage: 5, totalItems: -1, totalPages: -1 },
      check: (body) => expect(ns(body)).toEqual([1, 2, 3, 4, 5]),
    },
    { name: 'skipTotal=true', method: 'GET', url: `${I}?skipTotal=true`, status: 200, expect: { totalItems: -1, totalPages: -1 }, check: (body) => expect(body.items).toHaveLength(30) },
    { name: 'skipTotal=t (ParseBool)', method: 'GET', url: `${I}?skipTotal=t&perPage=1`, status: 200, expect: { totalItems: -1, totalPages: -1 } },
    { name: 'skipTotal=0 counts', method: 'GET', url: `${I}?skipTotal=0&perPage=1`, status: 200, expect: { totalItems: TOTAL, totalPages: TOTAL } },
    { name: 'skipTotal=false counts', method: 'GET', url: `${I}?skipTotal=false&perPage=50`, status: 200, expect: { totalItems: TOTAL, totalPages: 1 } },
  ]);
});

describe('sort', () => {
  const first = (filter: string, sort: string) => `${I}?filter=${q(filter)}&sort=${q(sort)}`;
  runScenarios(app, [
    { name: '-field sorts descending', method: 'GET', url: first('n <= 5', '-n'), status: 200, check: (body) => expect(ns(body)).toEqual([5, 4, 3, 2, 1]) },
    { name: '+field sorts ascending', method: 'GET', url: first('n <= 5', '+n'), status: 200, check: (body) => expect(ns(body)).toEqual([1, 2, 3, 4, 5]) },
    { name: 'a bare field sorts ascending', method: 'GET', url: first('n >= 43', 'title'), status: 200, check: (body) => expect(ns(body)).toEqual([43, 44, 45]) },
    { name: 'several fields', method: 'GET', url: first('n <= 6', 'cat,-n'), status: 200, check: (body) => expect(ns(body)).toEqual([4, 1, 5, 2, 6, 3]) },
    { name: 'several fields with spaces', method: 'GET', url: first('n <= 6', '-cat, n'), status: 200, check: (body) => expect(ns(body)).toEqual([3, 6, 2, 5, 1, 4]) },
    { name: 'a relation path', method: 'GET', url: first('n <= 4', 'author.name,n'), status: 200, check: (body) => expect(ns(body)).toEqual([1, 3, 2, 4]) },
    { name: 'a relation path descending', method: 'GET', url: first('n <= 4', '-author.name,-n'), status: 200, check: (body) => expect(ns(body)).toEqual([4, 2, 3, 1]) },
    { name: 'a two-level relation path', method: 'GET', url: first('n <= 2', 'author.team.name,-n'), status: 200, check: (body) => expect(ns(body)).toEqual([2, 1]) },
    {
      name: '@random is accepted',
      method: 'GET',
      url: `${I}?sort=@random&perPage=100`,
      status: 200,
      expect: { totalItems: TOTAL },
      check: (body) => expect([...ns(body)].sort((a: number, b: number) => a - b)).toEqual(range(1, TOTAL)),
    },
    { name: '@rowid is insertion order', method: 'GET', url: first('n >= 40', '@rowid'), status: 200, check: (body) => expect(ns(body)).toEqual(range(40, 45)) },
    { name: '-@rowid is reverse insertion order', method: 'GET', url: first('n >= 40', '-@rowid'), status: 200, check: (body) => expect(ns(body)).toEqual(range(40, 45).reverse()) },
    { name: 'an unknown field', method: 'GET', url: `${I}?sort=nope`, status: 400 },
    { name: 'an unknown relation subfield', method: 'GET', url: `${I}?sort=author.nope`, status: 400 },
    { name: 'a multi-valued field', method: 'GET', url: `${I}?sort=tags.name`, status: 400 },
    { name: 'eight sort fields are allowed', method: 'GET', url: `${I}?sort=${q('n,title,cat,id,created,author,-n,-title')}&perPage=1`, status: 200, expect: { totalItems: TOTAL } },
    { name: 'nine sort fields are too many', method: 'GET', url: `${I}?sort=${q('n,title,cat,id,created,author,-n,-title,-cat')}`, status: 400 },
    { name: 'a sort field over 255 characters', method: 'GET', url: `${I}?sort=${'a'.repeat(256)}`, status: 400 },
  ]);
});

describe('filter', () => {
  const count = (filter: string, expected: number, extra: Partial<Scenario> = {}): Scenario => ({
    name: `filter ${filter.length > 60 ? filter.slice(0, 60) + '…' : filter}`,
    method: 'GET',
    url: `${I}?perPage=100&sort=n&filter=${q(filter)}`,
    status: 200,
    expect: { totalItems: expected },
    ...extra,
  });
  const ok = Array.from({ length: 200 }, (_, i) => `n = ${i + 1}`).join(' || ');
  const tooMany = `${ok} || n = 201`;
  runScenarios(app, [
    count('n > 40', 5, { check: (body) => expect(ns(body)).toEqual(range(41, 45)) }),
    count('n >= 40', 6),
    count('n < 3', 2, { check: (body) => expect(ns(body)).toEqual([1, 2]) }),
    count('n <= 3', 3),
    count('n = 7', 1, { check: (body) => expect(body.items[0].title).toBe('item 07') }),
    count('n != 7', TOTAL - 1),
    count("title ~ 'item 1'", 10, { check: (body) => expect(ns(body)).toEqual(range(10, 19)) }),
    count("title !~ 'item 1'", TOTAL - 10),
    count("title ~ 'item 4%'", 6, { check: (body) => expect(ns(body)).toEqual(range(40, 45)) }),
    count("title ~ '%5'", 5, { check: (body) => expect(ns(body)).toEqual([5, 15, 25, 35, 45]) }),
    count("cat = 'x' && n < 10", 3, { check: (body) => expect(ns(body)).toEqual([1, 4, 7]) }),
    count("cat = 'x' || cat = 'y'", 30),
    count("(cat = 'x' || cat = 'y') && n <= 3", 2, { check: (body) => expect(ns(body)).toEqual([1, 2]) }),
    // && binds tighter than ||, as in SQL (PocketBase concatenates the groups into SQL).
    count("cat = 'x' || cat = 'y' && n <= 3", 16),
    count('n > 40 // a line comment', 5),
    count("author.name = 'Ann'", 23),
    count("author.team.country.name = 'Freedonia'", TOTAL),
    count("tags.name ?= 'red'", 2, { check: (body) => expect(ns(body)).toEqual([1, 2]) }),
    count("tags.name ?= 'green' || tags.name ?= 'blue'", 3, { check: (body) => expect(ns(body)).toEqual([1, 2, 3]) }),
    count("tags.name = 'green'", 1, { check: (body) => expect(ns(body)).toEqual([3]) }),
    count("tags.name ?!= 'red' && tags:length > 0", 3, { check: (body) => expect(ns(body)).toEqual([1, 2, 3]) }),
    count('tags:length = 2', 2),
    count("vault = ''", TOTAL - 1),
    count('vault = null', TOTAL - 1),
    count("vault != ''", 1),
    count("body != ''", 1),
    count("created >= '2000-01-01 00:00:00.000Z'", TOTAL),
    count('created <= @now', TOTAL),
    count("created > @now", 0),
    count("comments_via_item.text ?= 'first'", 1, { check: (body) => expect(ns(body)).toEqual([1]) }),
    count(ok, TOTAL),
    { name: 'more than 200 expressions', method: 'GET', url: `${I}?filter=${q(tooMany)}`, status: 400, expect: { message: INVALID_FILTER } },
    { name: 'a syntax error: missing operand', method: 'GET', url: `${I}?filter=${q('n >')}`, status: 400, expect: { message: INVALID_FILTER } },
    { name: 'a syntax error: unterminated string', method: 'GET', url: `${I}?filter=${q("title = 'open")}`, status: 400, expect: { message: INVALID_FILTER } },
    { name: 'a syntax error: unbalanced parenthesis', method: 'GET', url: `${I}?filter=${q('(n > 1')}`, status: 400, expect: { message: INVALID_FILTER } },
    { name: 'a syntax error: unknown operator', method: 'GET', url: `${I}?filter=${q('n === 1')}`, status: 400, expect: { message: INVALID_FILTER } },
    { name: 'an unknown field', method: 'GET', url: `${I}?filter=${q('nope = 1')}`, status: 400, expect: { message: INVALID_FILTER } },
    { name: 'an unknown relation subfield', method: 'GET', url: `${I}?filter=${q("author.nope = 'x'")}`, status: 400, expect: { message: INVALID_FILTER } },
    { name: 'an unknown back-relation', method: 'GET', url: `${I}?filter=${q("nope_via_item.text = 'x'")}`, status: 400, expect: { message: INVALID_FILTER } },
    {
      name: 'a filter of exactly 3500 characters is allowed',
      method: 'GET',
      url: `${I}?filter=${q(`title = '${'a'.repeat(3500 - 10)}'`)}`,
      status: 200,
      expect: { totalItems: 0 },
    },
    { name: 'a filter over 3500 characters', method: 'GET', url: `${I}?filter=${q(`title = '${'a'.repeat(3600)}'`)}`, status: 400, expect: { message: INVALID_FILTER } },
    {
      name: 'the filter works with skipTotal',
      method: 'GET',
      url: `${I}?filter=${q('n > 43')}&skipTotal=1&sort=-n`,
      status: 200,
      expect: { totalItems: -1, totalPages: -1 },
      check: (body) => expect(ns(body)).toEqual([45, 44]),
    },
  ]);
});

describe('expand', () => {
  const one = (n: number, expand: string) => `${I}?filter=${q(`n = ${n}`)}&expand=${q(expand)}`;
  runScenarios(app, [
    {
      name: 'no expand key without an expand parameter',
      method: 'GET',
      url: `${I}?filter=${q('n = 1')}`,
      status: 200,
      check: (body) => expect(body.items[0]).not.toHaveProperty('expand'),
    },
    {
      name: 'a single relation expands to an object',
      method: 'GET',
      url: one(1, 'author'),
      status: 200,
      check: (body) => {
        const author = body.items[0].expand.author;
        expect(author).toMatchObject({ id: id.ann, name: 'Ann', collectionName: 'authors', team: id.team });
        expect(author).not.toHaveProperty('expand');
        expect(body.items[0].author).toBe(id.ann);
      },
    },
    {
      name: 'a multiple relation expands to an array in relation order',
      method: 'GET',
      url: one(2, 'tags'),
      status: 200,
      check: (body) => expect(body.items[0].expand.tags.map((x: any) => x.name)).toEqual(['blue', 'red']),
    },
    {
      name: 'several relations at once',
      method: 'GET',
      url: one(1, 'author,tags'),
      status: 200,
      check: (body) => {
        expect(Object.keys(body.items[0].expand).sort()).toEqual(['author', 'tags']);
        expect(body.items[0].expand.tags.map((x: any) => x.name)).toEqual(['red', 'green']);
      },
    },
    {
      name: 'nested expand, 3 levels',
      method: 'GET',
      url: one(1, 'author.team.country'),
      status: 200,
      check: (body) => {
        const team = body.items[0].expand.author.expand.team;
        expect(team).toMatchObject({ id: id.team, name: 'Red' });
        expect(team.expand.country).toMatchObject({ id: id.country, name: 'Freedonia' });
      },
    },
    {
      name: 'nested expand, 2 levels',
      method: 'GET',
      url: one(1, 'author.team'),
      status: 200,
      check: (body) => expect(body.items[0].expand.author.expand.team).not.toHaveProperty('expand'),
    },
    {
      name: 'a back-relation expands to an array filtered by its viewRule',
      method: 'GET',
      url: one(1, 'comments_via_item'),
      status: 200,
      check: (body) => expect(body.items[0].expand.comments_via_item.map((c: any) => c.text).sort()).toEqual(['first', 'second']),
    },
    {
      name: 'a back-relation through a unique index expands to an object',
      method: 'GET',
      url: one(1, 'likes_via_item'),
      status: 200,
      check: (body) => expect(body.items[0].expand.likes_via_item).toMatchObject({ id: id.like1, item: id.item1 }),
    },
    {
      name: 'a back-relation with no match is absent',
      method: 'GET',
      url: one(3, 'comments_via_item'),
      status: 200,
      check: (body) => expect(body.items[0]).not.toHaveProperty('expand'),
    },
    {
      name: 'unknown expand names are silently ignored',
      method: 'GET',
      url: one(1, 'nope,author,title,nope_via_item,author.nope'),
      status: 200,
      check: (body) => expect(Object.keys(body.items[0].expand)).toEqual(['author']),
    },
    {
      name: 'an expanded record the caller cannot view is absent',
      method: 'GET',
      url: `${I}?filter=${q('n <= 2')}&sort=n&expand=author`,
      status: 200,
      check: (body) => {
        expect(body.items[0].expand.author.name).toBe('Ann');
        expect(body.items[1]).not.toHaveProperty('expand');
        expect(body.items[1].author).toBe(id.bob);
      },
    },
    {
      name: 'superusers expand records hidden by the viewRule',
      method: 'GET',
      url: `${I}?filter=${q('n <= 2')}&sort=n&expand=author,comments_via_item`,
      auth: () => su,
      status: 200,
      check: (body) => {
        expect(body.items[1].expand.author.name).toBe('Bob');
        expect(body.items[0].expand.comments_via_item).toHaveLength(3);
      },
    },
    {
      name: 'a null viewRule: guests never get the expansion',
      method: 'GET',
      url: one(1, 'vault,author'),
      status: 200,
      check: (body) => {
        expect(body.items[0].vault).toBe(id.vault);
        expect(Object.keys(body.items[0].expand)).toEqual(['author']);
      },
    },
    {
      name: 'a null viewRule: superusers get the expansion',
      method: 'GET',
      url: one(1, 'vault'),
      auth: () => su,
      status: 200,
      check: (body) => expect(body.items[0].expand.vault).toMatchObject({ id: id.vault, name: 'V' }),
    },
    {
      name: 'expand on a single view',
      method: 'GET',
      url: () => `${I}/${id.item1}?expand=author,tags`,
      status: 200,
      check: (body) => {
        expect(body.expand.author.name).toBe('Ann');
        expect(body.expand.tags).toHaveLength(2);
      },
    },
    {
      name: 'expand on a create response',
      method: 'POST',
      url: `${I}?expand=author`,
      body: () => ({ title: 'created', n: 100, author: id.ann }),
      status: 200,
      check: (body) => expect(body.expand.author).toMatchObject({ id: id.ann, name: 'Ann' }),
      after: (body) => void (id.created = body.id),
    },
    {
      name: 'nested expand, 6 levels (the maximum)',
      method: 'GET',
      url: () => `/api/collections/chain/records/${id.chain1}?expand=${'next.'.repeat(5)}next`,
      status: 200,
      check: (body) => expect(chainNames(body)).toEqual(['c2', 'c3', 'c4', 'c5', 'c6', 'c7']),
    },
    {
      name: 'a malformed expand path',
      method: 'GET',
      url: `${I}?expand=${q('author..team')}`,
      status: 400,
    },
  ]);
});

describe('expand deeper than 6 levels', () => {
  runScenarios(app, [
    {
      name: 'a 7-level expand is cut at 6 levels',
      method: 'GET',
      url: () => `/api/collections/chain/records/${id.chain1}?expand=${'next.'.repeat(6)}next`,
      status: 200,
      check: (body) => expect(chainNames(body)).toEqual(['c2', 'c3', 'c4', 'c5', 'c6', 'c7']),
    },
  ]);
});

describe('fields', () => {
  const only = (keys: string[]) => (body: any) => {
    for (const item of body.items) expect(Object.keys(item).sort()).toEqual([...keys].sort());
  };
  runScenarios(app, [
    {
      name: 'fields=id,title picks per item, never the envelope',
      method: 'GET',
      url: `${I}?fields=id,title&perPage=3&sort=n`,
      status: 200,
      expect: { page: 1, perPage: 3, totalItems: TOTAL + 1, totalPages: 16, items: [{ title: 'item 01' }, { title: 'item 02' }, { title: 'item 03' }] },
      check: only(['id', 'title']),
    },
    {
      name: 'a nested path into expand',
      method: 'GET',
      url: `${I}?fields=${q('title,expand.author.name')}&expand=author&filter=${q('n = 1')}`,
      status: 200,
      check: (body) => expect(body.items[0]).toEqual({ title: 'item 01', expand: { author: { name: 'Ann' } } }),
    },
    {
      name: 'a nested path into an expanded array',
      method: 'GET',
      url: `${I}?fields=${q('expand.tags.name')}&expand=tags&filter=${q('n = 1')}`,
      status: 200,
      check: (body) => expect(body.items[0]).toEqual({ expand: { tags: [{ name: 'red' }, { name: 'green' }] } }),
    },
    {
      name: '* keeps every key',
      method: 'GET',
      url: `${I}?fields=*&filter=${q('n = 2')}`,
      status: 200,
      check: only(['collectionId', 'collectionName', 'id', 'title', 'n', 'cat', 'body', 'author', 'tags', 'vault', 'created']),
    },
    {
      name: '*,expand.author.name keeps every key and reduces expand',
      method: 'GET',
      url: `${I}?fields=${q('*,expand.author.name')}&expand=author,tags&filter=${q('n = 1')}`,
      status: 200,
      check: (body) => {
        expect(body.items[0]).toMatchObject({ id: id.item1, title: 'item 01', n: 1 });
        expect(body.items[0].expand).toEqual({ author: { name: 'Ann' } });
      },
    },
    {
      name: ':excerpt(10,true) strips HTML and adds an ellipsis',
      method: 'GET',
      url: `${I}?fields=${q('id,body:excerpt(10,true)')}&filter=${q('n = 1')}`,
      status: 200,
      check: (body) => expect(body.items[0]).toEqual({ id: id.item1, body: 'Hello worl...' }),
    },
    {
      name: ':excerpt(100) keeps short text whole, without an ellipsis',
      method: 'GET',
      url: `${I}?fields=${q('body:excerpt(100,true)')}&filter=${q('n = 1')}`,
      status: 200,
      check: (body) => expect(body.items[0]).toEqual({ body: 'Hello world and more Second' }),
    },
    {
      name: ':excerpt(5) without ellipsis',
      method: 'GET',
      url: `${I}?fields=${q('body:excerpt(5)')}&filter=${q('n = 1')}`,
      status: 200,
      check: (body) => expect(body.items[0]).toEqual({ body: 'Hello' }),
    },
    {
      name: 'fields on a single view',
      method: 'GET',
      url: () => `${I}/${id.item1}?fields=id,n`,
      status: 200,
      check: (body) => expect(body).toEqual({ id: id.item1, n: 1 }),
    },
    {
      name: 'fields on a create response',
      method: 'POST',
      url: `${I}?fields=title,n`,
      body: { title: 'picked', n: 101 },
      status: 200,
      check: async (body) => {
        expect(body).toEqual({ title: 'picked', n: 101 });
        expect(await countAsSuperuser(t, su, 'items', "title = 'picked'")).toBe(1);
      },
    },
    {
      name: 'unknown names are simply absent',
      method: 'GET',
      url: `${I}?fields=id,nope&perPage=1`,
      status: 200,
      check: only(['id']),
    },
    { name: 'an unknown modifier', method: 'GET', url: `${I}?fields=${q('title:upper(1)')}`, status: 400 },
    { name: 'bad excerpt arguments', method: 'GET', url: `${I}?fields=${q('body:excerpt(abc)')}`, status: 400 },
    { name: 'unbalanced parentheses', method: 'GET', url: `${I}?fields=${q('body:excerpt(10')}`, status: 400 },
    {
      name: 'a modifier without a path',
      method: 'GET',
      url: () => `${I}/${id.item1}?fields=${q(':excerpt(5)')}`,
      status: 400,
    },
  ]);
});
