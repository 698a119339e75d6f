/**
 * Deep pages (core/records/page-anchors.ts): a page at a deep offset leaves anchors, and later
 * pages of the same query start from them. Every page is compared with the same page read the
 * plain way (no anchors), for sorts with ties, both directions, several terms, a rule and a
 * filter, and after writes that move positions (the anchor is then not used).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { ENGINE } from '../harness/engines.js';
import PocketBase from 'pocketbase';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let su = '';
const P = '/api/collections/items/records';
const ROWS = 2600;

async function page(query: string, pageNo: number, perPage = 50, auth = su): Promise<{ ids: string[]; total: number }> {
  const res = await send(t, 'GET', `${P}?${query}&page=${pageNo}&perPage=${perPage}`, { auth });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { ids: res.body.items.map((i: any) => i.id), total: res.body.totalItems };
}

/** The page read with no anchor at all (the plain OFFSET). */
async function plainPage(query: string, pageNo: number, perPage = 50, auth = su) {
  t.app.anchors.clear();
  return page(query, pageNo, perPage, auth);
}

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  await createCollection(t, {
    name: 'items',
    type: 'base',
    listRule: 'hidden = false',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'hidden', type: 'bool' },
      { name: 'data', type: 'json' },
    ],
  });
  await t.app.db.transaction(async (tx) => {
    for (let from = 0; from < ROWS; from += 500) {
      const rows = Array.from({ length: 500 }, (_, k) => {
        const i = from + k;
        // n repeats (ties broken by the row id), titles in another order, some rows hidden from guests.
        return { id: `i${String(i).padStart(14, '0')}`, title: `t${String((i * 7919) % ROWS).padStart(5, '0')}`, n: i % 97, hidden: t.engine === 'sqlite' ? Number(i % 10 === 0) : i % 10 === 0, data: '{}' };
      });
      await tx.kysely.insertInto('items').values(rows).execute();
    }
  });
});

afterAll(async () => {
  await t?.close();
});

describe('deep pages', () => {
  const sorts = ['sort=n', 'sort=-n', 'sort=title', 'sort=-n,title', 'sort=n,-id', `filter=${encodeURIComponent('n > 10')}&sort=-n`];
  for (const query of sorts) {
    it(`${query}: pages from an anchor equal the plain pages`, async () => {
      const plain = [await plainPage(query, 21), await plainPage(query, 22), await plainPage(query, 40)];
      t.app.anchors.clear();
      const found = t.app.anchors.stats.found;
      // Page 21 plainly (it leaves anchors), again (from an anchor), then 22 and 40 (from anchors).
      expect(await page(query, 21)).toEqual(plain[0]);
      expect(await page(query, 21)).toEqual(plain[0]);
      expect(await page(query, 22)).toEqual(plain[1]);
      expect(await page(query, 40)).toEqual(plain[2]);
      expect(t.app.anchors.stats.found).toBe(found + 3);
    });
  }

  it('as a guest, through the list rule', async () => {
    const plain = await plainPage('sort=-n', 30, 40, '');
    expect(plain.ids.length).toBe(40);
    await page('sort=-n', 29, 40, '');
    expect(await page('sort=-n', 30, 40, '')).toEqual(plain);
  });

  it('a write that moves positions is seen: the anchor is not used for other data', async () => {
    const query = 'sort=n';
    await plainPage(query, 30);
    const before = await page(query, 31);
    // A record sorting first shifts every position by one.
    expect((await send(t, 'POST', P, { auth: su, body: { title: 'first', n: -1 } })).status).toBe(200);
    const after = await page(query, 31);
    expect(after.total).toBe(before.total + 1);
    expect(after).toEqual(await plainPage(query, 31));
    expect(after.ids.slice(1)).toEqual(before.ids.slice(0, -1));
  });

  it('sorts a keyset cannot follow (JSON, @random, a relation) still page correctly', async () => {
    const byJson = await page('sort=data', 30);
    expect(byJson.ids.length).toBe(50);
    const random = await page('sort=@random', 30);
    expect(random.ids.length).toBe(50);
  });

  it('cursor paging walks every row once, in the order of the plain pages', async () => {
    const query = `sort=-n,title&filter=${encodeURIComponent('n < 40')}`;
    const all: string[] = [];
    for (let p = 1; ; p++) {
      const got = await plainPage(query, p, 200);
      all.push(...got.ids);
      if (got.ids.length < 200) break;
    }
    const walked: string[] = [];
    let cursor = '';
    for (let i = 0; i < 100; i++) {
      const res = await send(t, 'GET', `${P}?${query}&perPage=200&cursor=${encodeURIComponent(cursor)}`, { auth: su });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.page).toBe(0);
      expect(res.body.totalItems).toBe(all.length);
      walked.push(...res.body.items.map((x: any) => x.id));
      if (res.body.nextCursor === null) break;
      cursor = res.body.nextCursor;
    }
    expect(walked).toEqual(all);
  });

  it('a cursor keeps its place while rows are written before it', async () => {
    const first = await send(t, 'GET', `${P}?sort=n&perPage=30&cursor=`, { auth: su });
    const second = await send(t, 'GET', `${P}?sort=n&perPage=30&cursor=${first.body.nextCursor}`, { auth: su });
    expect((await send(t, 'POST', P, { auth: su, body: { title: 'early', n: -5 } })).status).toBe(200);
    const again = await send(t, 'GET', `${P}?sort=n&perPage=30&cursor=${first.body.nextCursor}`, { auth: su });
    expect(again.body.items.map((x: any) => x.id)).toEqual(second.body.items.map((x: any) => x.id));
  });

  it('the official SDK pages with a cursor as the README shows', async () => {
    const pb = new PocketBase(await listenOnLoopback(t));
    pb.autoCancellation(false);
    pb.authStore.save(su.replace(/^Bearer /, ''), null);
    const seen: string[] = [];
    let cursor: string | null = '';
    do {
      const got: any = await pb.collection('items').getList(1, 500, { sort: '-n,title', cursor, filter: 'n < 20' });
      seen.push(...got.items.map((x: any) => x.id));
      cursor = got.nextCursor;
    } while (cursor);
    const total = (await page(`filter=${encodeURIComponent('n < 20')}`, 1)).total;
    expect(new Set(seen).size).toBe(total);
    expect(seen.length).toBe(total);
  });

  it('bad cursors are 400s', async () => {
    const ok = (await send(t, 'GET', `${P}?sort=n&perPage=5&cursor=`, { auth: su })).body.nextCursor;
    const forged = (v: unknown[], sort = 'n') => Buffer.from(JSON.stringify({ s: sort, v })).toString('base64url');
    const cases: [string, string][] = [
      ['sort=n&cursor=not-a-cursor', 'validation_invalid_cursor'],
      [`sort=n&cursor=${'A'.repeat(5000)}`, 'validation_invalid_cursor'],
      [`sort=-n&cursor=${ok}`, 'validation_invalid_cursor'],
      [`sort=n&cursor=${forged([1])}`, 'validation_invalid_cursor'],
      [`sort=n&cursor=${forged(['x', 1])}`, 'validation_invalid_cursor'],
      [`sort=n&cursor=${forged([1, 'abc'])}`, 'validation_invalid_cursor'],
      [`sort=n&cursor=${forged([1, { a: 1 }])}`, 'validation_invalid_cursor'],
      [`sort=data&cursor=`, 'validation_cursor_unsupported_sort'],
      [`sort=@random&cursor=`, 'validation_cursor_unsupported_sort'],
    ];
    for (const [query, code] of cases) {
      const res = await send(t, 'GET', `${P}?${query}`, { auth: su });
      expect(res.status, query).toBe(400);
      expect(res.body.data.cursor.code, query).toBe(code);
    }
    // A forged but well-formed cursor only moves where the page starts: the rule still applies.
    const guest = await send(t, 'GET', `${P}?sort=n&perPage=1000&cursor=${forged([-100, 0])}`, { auth: '' });
    expect(guest.status).toBe(200);
    expect(guest.body.items.every((x: any) => x.hidden === false)).toBe(true);
  });

  it.skipIf(ENGINE !== 'postgres')('PostgreSQL: a collection\'s non-unique indexes end with the row id, so the tie order reads them in order', async () => {
    await createCollection(t, {
      name: 'ranked',
      type: 'base',
      fields: [{ name: 'n', type: 'number' }, { name: 'code', type: 'text' }, { name: 'item', type: 'relation', collectionId: 'items', maxSelect: 1 }],
      indexes: ['CREATE INDEX idx_ranked_n ON ranked (n DESC)', 'CREATE UNIQUE INDEX idx_ranked_code ON ranked (code)'],
    });
    const defs = (await sql<{ name: string; def: string }>`SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'ranked'`.execute(t.app.db.kysely)).rows;
    const def = (name: string) => defs.find((d) => d.name.startsWith(name))?.def ?? '';
    expect(def('idx_ranked_n')).toMatch(/\(n DESC, __rowid DESC\)$/);
    expect(def('idx_ranked_code')).not.toContain('__rowid');
    expect(def('_rel_')).toMatch(/__rowid\)$/);
    const plan = await t.app.db.transaction(async (tx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(tx.kysely);
      return sql<Record<string, string>>`EXPLAIN SELECT * FROM ranked ORDER BY n DESC, __rowid DESC LIMIT 20`.execute(tx.kysely);
    });
    const text = plan.rows.map((r) => Object.values(r)[0]).join('\n');
    expect(text).toContain('idx_ranked_n');
    expect(text).not.toMatch(/Sort/);
  });

  it('the last page and past it', async () => {
    const total = (await page('sort=n', 1)).total;
    const lastNo = Math.ceil(total / 50);
    const last = await plainPage('sort=n', lastNo);
    await page('sort=n', lastNo - 1);
    expect(await page('sort=n', lastNo)).toEqual(last);
    expect((await page('sort=n', lastNo + 3)).ids).toEqual([]);
  });
});
