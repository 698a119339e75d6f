/**
 * The `search` list parameter (Basalt's addition, core/records/search-plan.ts): the records whose
 * searchable fields the caller may see contain every word (as `~` compares: literally, ASCII
 * case folded), ordered by the documented rank — every answer (items, order, totals) is compared
 * with the same computed here from the rows inserted, for anonymous callers (list rule, hidden
 * field left out) and superusers, through pages, other sorts, writes and deletes, and the SDK.
 */
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';
import { ENGINE } from '../harness/engines.js';
import { MAX_RANKED_IDS } from '../../src/core/records/ranked-orders.js';

let t: TestApp;
let su = '';
const P = '/api/collections/articles/records';
const q = encodeURIComponent;
const WORDS = ['Lantern', 'harbor', 'quartz', 'Élan', 'naïve', 'zebra', 'o"quote', "it's", '100%', 'under_score', 'back\\slash', 'Harbor light'];
const ROWS = 12000;

interface Row { id: string; index: number; title: string; body: string; notes: string; n: number; published: boolean }
const rows: Row[] = [];

function rowAt(i: number): Row {
  const w = (k: number) => WORDS[k % WORDS.length];
  // Titles equal to a word, starting with one, or holding it further in; bodies repeat others.
  const title = i % 13 === 0 ? w(i) : i % 3 === 0 ? `${w(i)} item ${i}` : `item ${i} ${w(i * 7)}`;
  const body = `<p>${w(i * 5)} ${i % 4 === 0 ? w(i) : 'plain'} text</p>`;
  return { id: `a${String(i).padStart(14, '0')}`, index: i, title, body, notes: i % 500 === 0 ? 'secret-needle' : '', n: (i * 7919) % 1000, published: i % 5 !== 0 };
}

const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** What a search answers, computed from the rows: the documented matches and rank. */
function expected(search: string, superuser: boolean): { row: Row; rank: number }[] {
  const text = fold(search.trim());
  const words = [...new Set(text.split(/\s+/u))];
  const phrase = text.split(/\s+/u).join(' ');
  const fields: (keyof Row)[] = superuser ? ['title', 'body', 'notes'] : ['title', 'body'];
  const out: { row: Row; rank: number }[] = [];
  for (const row of rows) {
    if (!superuser && !row.published) continue;
    const values = fields.map((f) => fold(String(row[f])));
    if (!words.every((w) => values.some((v) => v.includes(w)))) continue;
    let rank = 0;
    values.forEach((v, i) => {
      let points = words.filter((w) => v.includes(w)).length;
      if (words.length > 1 && v.includes(phrase)) points++;
      if (v.startsWith(phrase)) points++;
      if (v === phrase) points++;
      rank += (fields.length - i) * points;
    });
    out.push({ row, rank });
  }
  // Best first; equal ranks newest first (ties follow the last sort term, `-@rank`).
  return out.sort((a, b) => b.rank - a.rank || b.row.index - a.row.index);
}

async function list(params: string, auth?: string) {
  const res = await send(t, 'GET', `${P}?${params}`, { auth });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { totalItems: number; totalPages: number; items: { id: string }[] };
}

/** Pages 1 and 3 of `search`, for anonymous callers and superusers, against the computed answer. */
async function expectSearch(search: string, perPage = 40): Promise<number> {
  for (const superuser of [false, true]) {
    const want = expected(search, superuser);
    for (const page of [1, 3]) {
      const got = await list(`search=${q(search)}&perPage=${perPage}&page=${page}`, superuser ? su : undefined);
      expect(got.totalItems, `${search} (superuser: ${superuser})`).toBe(want.length);
      expect(got.items.map((i) => i.id), `${search} page ${page} (superuser: ${superuser})`).toEqual(want.slice((page - 1) * perPage, page * perPage).map((w) => w.row.id));
    }
  }
  return expected(search, false).length;
}

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  await createCollection(t, {
    name: 'articles',
    type: 'base',
    listRule: 'published = true',
    fields: [
      { name: 'title', type: 'text', searchable: true },
      { name: 'n', type: 'number' },
      { name: 'body', type: 'editor', searchable: true },
      { name: 'notes', type: 'text', searchable: true, hidden: true },
      { name: 'published', type: 'bool' },
    ],
  });
  await createCollection(t, { name: 'plain', type: 'base', listRule: '', fields: [{ name: 'title', type: 'text' }] });
  for (let i = 0; i < ROWS; i++) rows.push(rowAt(i));
  await t.app.db.transaction(async (tx) => {
    for (let from = 0; from < ROWS; from += 500) {
      await tx.kysely.insertInto('articles').values(rows.slice(from, from + 500).map(({ index: _, ...r }) => r)).execute();
    }
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe(`search parameter (${ENGINE})`, () => {
  it('answers the documented matches in rank order, for anonymous callers and superusers', async () => {
    for (const search of ['lantern', 'LANTERN', 'harbor', 'harbor light', 'Harbor item', 'item 12', 'quartz plain text', 'zebra']) {
      expect(await expectSearch(search), search).toBeGreaterThan(0);
    }
    // More matches than the substring index lists for a page of `~` (record-reader.ts).
    expect(await expectSearch('item', 100)).toBeGreaterThan(5000);
    expect(await expectSearch('text', 100)).toBeGreaterThan(5000);
  });

  it('takes every word literally and folds ASCII letters only, as ~ does', async () => {
    for (const search of ['100%', 'under_score', '_', '%', 'back\\slash', '\\', 'o"quote', "it's", 'élan', 'Élan', 'NAÏVE', 'naïve', 'no-such-word']) {
      await expectSearch(search);
    }
    expect(expected('élan', false)).toHaveLength(0);
    expect(expected('100%', false).length).toBeGreaterThan(0);
  });

  it('leaves hidden fields out for everyone but superusers', async () => {
    expect((await list(`search=secret-needle`)).totalItems).toBe(0);
    expect((await list(`search=secret-needle`, su)).totalItems).toBe(ROWS / 500);
  });

  it('keeps its matches under another sort, with skipTotal, and after the rule and filter', async () => {
    const want = expected('harbor', false);
    const byN = [...want].sort((a, b) => a.row.n - b.row.n || a.row.index - b.row.index).map((w) => w.row.id);
    const sorted = await list(`search=harbor&sort=n&perPage=200&page=2`);
    expect(sorted.totalItems).toBe(want.length);
    expect(sorted.items.map((i) => i.id)).toEqual(byN.slice(200, 400));
    const worstFirst = await list(`search=harbor&sort=${q('@rank,n')}&perPage=50`);
    expect(worstFirst.items.map((i) => i.id)).toEqual([...want].sort((a, b) => a.rank - b.rank || a.row.n - b.row.n || a.row.index - b.row.index).slice(0, 50).map((w) => w.row.id));
    const skip = await list(`search=harbor&skipTotal=1&perPage=30`);
    expect(skip.totalItems).toBe(-1);
    expect(skip.items.map((i) => i.id)).toEqual(want.slice(0, 30).map((w) => w.row.id));
    const filtered = await list(`search=harbor&filter=${q('n < 100')}&perPage=500`);
    expect(filtered.items.map((i) => i.id)).toEqual(want.filter((w) => w.row.n < 100).map((w) => w.row.id));
    // Common words, sorted otherwise: the page is read in order (record-reader.ts), same answer.
    const common = await list(`search=item&sort=-n&perPage=100&page=7`);
    const commonWant = expected('item', false).sort((a, b) => b.row.n - a.row.n || b.row.index - a.row.index).map((w) => w.row.id);
    expect(common.totalItems).toBe(commonWant.length);
    expect(common.items.map((i) => i.id)).toEqual(commonWant.slice(600, 700));
  });

  it('follows writes and deletes: no stale total or order', async () => {
    const before = await list(`search=zebra&perPage=500`);
    expect(before.totalItems).toBe(expected('zebra', false).length);
    const created = await send(t, 'POST', P, { auth: su, body: { title: 'zebra', body: '<p>zebra zebra</p>', n: 1, published: true } });
    expect(created.status).toBe(200);
    rows.push({ id: created.body.id, index: ROWS, title: 'zebra', body: '<p>zebra zebra</p>', notes: '', n: 1, published: true });
    const victim = expected('zebra', false).at(-1)!.row;
    expect((await send(t, 'DELETE', `${P}/${victim.id}`, { auth: su })).status).toBe(204);
    rows.splice(rows.indexOf(victim), 1);
    const renamed = expected('lantern', false)[0].row;
    expect((await send(t, 'PATCH', `${P}/${renamed.id}`, { auth: su, body: { title: 'a zebra now' } })).status).toBe(200);
    renamed.title = 'a zebra now';
    expect(await expectSearch('zebra')).toBe(before.totalItems + 1);
    await expectSearch('lantern');
    // The new record is the search in its first field: it comes first.
    expect((await list(`search=zebra&perPage=1`)).items[0].id).toBe(created.body.id);
  });

  it('keeps a ranking for the next pages and the same search again, never past a write', async () => {
    const stats = t.app.rankings.stats;
    const search = 'harbor';
    const want = () => expected(search, false).map((w) => w.row.id);
    const pageIds = async (page: number) => (await list(`search=${search}&perPage=25&page=${page}`)).items.map((i) => i.id);
    t.app.rankings.clear();
    const ranked = stats.ranked;
    const reused = stats.reused;
    expect(await pageIds(1)).toEqual(want().slice(0, 25));
    expect(await pageIds(2)).toEqual(want().slice(25, 50));
    expect(await pageIds(1)).toEqual(want().slice(0, 25));
    expect(stats.ranked - ranked).toBe(1);
    expect(stats.reused - reused).toBe(2);
    // A write anywhere in the collection (here one that moves a record to the top) ranks again.
    const moved = expected(search, false).at(-1)!.row;
    expect((await send(t, 'PATCH', `${P}/${moved.id}`, { auth: su, body: { title: 'harbor' } })).status).toBe(200);
    moved.title = 'harbor';
    expect(await pageIds(1)).toEqual(want().slice(0, 25));
    expect(stats.ranked - ranked).toBe(2);
    // The same search by a superuser reads the hidden field too: a ranking of its own.
    const su1 = await list(`search=${search}&perPage=25`, su);
    expect(su1.items.map((i) => i.id)).toEqual(expected(search, true).slice(0, 25).map((w) => w.row.id));
    expect(stats.ranked - ranked).toBe(3);
    // Past the ids a ranking keeps, pages are read the plain way: the same order.
    const all = expected('item', true);
    expect(all.length).toBeGreaterThan(MAX_RANKED_IDS + 100);
    const deep = await list(`search=item&perPage=100&page=${MAX_RANKED_IDS / 100 + 1}`, su);
    expect(deep.totalItems).toBe(all.length);
    expect(deep.items.map((i) => i.id)).toEqual(all.slice(MAX_RANKED_IDS, MAX_RANKED_IDS + 100).map((w) => w.row.id));
  });

  it('refuses what it cannot do with a 400 naming the parameter', async () => {
    const cases: [string, string, string][] = [
      [P, `search=${q('x'.repeat(201))}`, 'validation_search_too_long'],
      [P, `search=${q('a b c d e f g h i')}`, 'validation_search_too_many_words'],
      ['/api/collections/plain/records', 'search=anything', 'validation_search_unsupported'],
      [P, `search=harbor&cursor=`, 'validation_cursor_unsupported_sort'],
    ];
    for (const [path, params, code] of cases) {
      const res = await send(t, 'GET', `${path}?${params}`);
      expect(res.status, params).toBe(400);
      expect(JSON.stringify(res.body.data), params).toContain(code);
    }
    const noSearch = await send(t, 'GET', `${P}?sort=-@rank`);
    expect(noSearch.status).toBe(400);
    expect(noSearch.body.data.sort.code).toBe('validation_invalid_sort_field');
    // Hostile text is only ever text: bound as parameters, matched literally.
    for (const search of ["'; DROP TABLE articles; --", '") OR 1=1 --', 'harbor\u0000zebra', '\u0000', '日本語 テキスト', '🦊'.repeat(50)]) {
      const res = await send(t, 'GET', `${P}?search=${q(search)}&perPage=5`);
      expect(res.status, search).toBe(200);
      expect(res.body.totalItems, search).toBe(search === '\u0000' ? (await list('perPage=1')).totalItems : expected(search.replaceAll('\u0000', ' '), false).length);
    }
    // As in every query parameter, @request.* and @collection.* are for superusers (403 otherwise).
    expect((await send(t, 'GET', `${P}?search=${q('@request.auth.id')}`)).status).toBe(403);
    // A blank search is no search; repeated words count once.
    expect((await list(`search=${q('   ')}&perPage=1`)).totalItems).toBe((await list('perPage=1')).totalItems);
    expect((await list(`search=${q('a a a a a a a a a a b')}&perPage=1`)).totalItems).toBe(expected('a b', false).length);
    // With a sort a cursor can follow, a search pages by cursor like any list.
    const first = await send(t, 'GET', `${P}?search=harbor&sort=n&cursor=&perPage=100`);
    expect(first.status).toBe(200);
    const next = await list(`search=harbor&sort=n&cursor=${q(first.body.nextCursor)}&perPage=100`);
    const byN = expected('harbor', false).sort((a, b) => a.row.n - b.row.n || a.row.index - b.row.index).map((w) => w.row.id);
    expect([...first.body.items, ...next.items].map((i: { id: string }) => i.id)).toEqual(byN.slice(0, 200));
  });

  it('is a plain list option of the PocketBase SDK', async () => {
    const pb = new PocketBase(await listenOnLoopback(t));
    const page = await pb.collection('articles').getList(1, 5, { search: 'quartz plain' });
    expect(page.totalItems).toBe(expected('quartz plain', false).length);
    expect(page.items.map((r) => r.id)).toEqual(expected('quartz plain', false).slice(0, 5).map((w) => w.row.id));
  });
});
