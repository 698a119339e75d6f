/**
 * Searchable fields (core/collections/search-indexes.ts): `~` on a field marked `searchable`
 * answers exactly what it answers on an unindexed copy of the same text — items and totals,
 * for many patterns, after writes, a rename and the option switched off and on — and the plan
 * uses the index (SQLite: the FTS5 trigram table; PostgreSQL: the pg_trgm GIN index).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { ENGINE } from '../harness/engines.js';
import { checkClientQuery } from '../../src/core/records/client-query.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { filterPredicate, ROOT } from '../../src/core/records/record-query.js';
import { ensureSearchIndexes } from '../../src/core/collections/search-indexes.js';

let t: TestApp;
let su = '';
const P = '/api/collections/docs/records';
const q = encodeURIComponent;
const WORDS = ['lantern', 'Harbor', 'quartz', 'Élan', 'naïve', 'zebra', 'o"quote', "it's", 'ABCdef', '100%', 'under_score', 'back\\slash'];

/** `filter` on the searchable field and the same on the unindexed copy: ids and totals must be equal. */
async function expectSame(pattern: string, op = '~'): Promise<number> {
  const literal = JSON.stringify(pattern);
  const [indexed, plain] = await Promise.all([
    send(t, 'GET', `${P}?perPage=500&sort=id&filter=${q(`title ${op} ${literal}`)}`, { auth: su }),
    send(t, 'GET', `${P}?perPage=500&sort=id&filter=${q(`copy ${op} ${literal}`)}`, { auth: su }),
  ]);
  expect(indexed.status, JSON.stringify(indexed.body)).toBe(200);
  expect(plain.status).toBe(200);
  expect(indexed.body.totalItems, pattern).toBe(plain.body.totalItems);
  expect(indexed.body.items.map((i: any) => i.id), pattern).toEqual(plain.body.items.map((i: any) => i.id));
  return indexed.body.totalItems;
}

async function planOf(filter: string): Promise<string> {
  const model = t.app.registry.find('docs')!;
  const caller = systemCaller();
  const where = filterPredicate(t.app.query, model, checkClientQuery({ filter }, caller), caller)!;
  const select = sql`SELECT COUNT(*) FROM ${sql.id(model.table)} AS ${sql.id(ROOT)} WHERE ${where}`;
  if (t.engine === 'sqlite') {
    const rows = await sql<Record<string, unknown>>`EXPLAIN QUERY PLAN ${select}`.execute(t.app.db.kysely);
    return rows.rows.map((r) => String(r.detail)).join('\n');
  }
  // At 20,000 rows PostgreSQL may rightly prefer a scan: with scans priced out, the plan shows
  // whether the index can serve the very expression `~` compiles to (at a million it does so by itself).
  const rows = await t.app.db.transaction(async (tx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(tx.kysely);
    return sql<Record<string, unknown>>`EXPLAIN ${select}`.execute(tx.kysely);
  });
  return rows.rows.map((r) => String(t.engine === 'sqlite' ? r.detail : Object.values(r)[0])).join('\n');
}

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  await createCollection(t, {
    name: 'docs',
    type: 'base',
    listRule: '',
    fields: [
      { name: 'title', type: 'text', searchable: true },
      { name: 'copy', type: 'text' },
      { name: 'body', type: 'editor', searchable: true },
    ],
  });
  await t.app.db.transaction(async (tx) => {
    for (let from = 0; from < 20000; from += 500) {
      const rows = Array.from({ length: 500 }, (_, k) => {
        const i = from + k;
        const text = `${WORDS[i % WORDS.length]} item ${i} ${WORDS[(i * 7) % WORDS.length]}${i % 1000 === 0 ? ' rare-needle' : ''}`;
        return { id: `d${String(i).padStart(14, '0')}`, title: text, copy: text, body: `<p>${text}</p>` };
      });
      await tx.kysely.insertInto('docs').values(rows).execute();
    }
  });
  await sql`ANALYZE`.execute(t.app.db.kysely);
});

afterAll(async () => {
  await t?.close();
});

describe('searchable fields', () => {
  it('`~` answers exactly what the unindexed copy answers, for every kind of pattern', async () => {
    for (const pattern of ['rare-needle', 'RARE-NEEDLE', 'lantern', 'LANTERN', 'harbor', 'élan', 'ÉLAN', 'naïve', 'o"quote', "it's", 'abcDEF', '100%', '100', 'under_score', 'back\\slash', 'ite', 'it', 'x', 'no such text', 'item 1999', '%tern%', 'lan%ern']) {
      await expectSame(pattern);
    }
    expect(await expectSame('rare-needle')).toBe(20);
  });

  it('`!~` is unchanged', async () => {
    await expectSame('lantern', '!~');
  });

  it('the plan goes through the index', async () => {
    const plan = await planOf("title ~ 'rare-needle'");
    expect(plan).toContain('_search_');
  });

  it('creates, updates and deletes keep the index in step', async () => {
    const created = await send(t, 'POST', P, { auth: su, body: { title: 'fresh marmalade', copy: 'fresh marmalade' } });
    expect(created.status).toBe(200);
    expect(await expectSame('marmalade')).toBe(1);
    expect((await send(t, 'PATCH', `${P}/${created.body.id}`, { auth: su, body: { title: 'stale jam', copy: 'stale jam' } })).status).toBe(200);
    expect(await expectSame('marmalade')).toBe(0);
    expect(await expectSame('stale jam')).toBe(1);
    expect((await send(t, 'DELETE', `${P}/${created.body.id}`, { auth: su })).status).toBe(204);
    expect(await expectSame('stale jam')).toBe(0);
  });

  it('a rename, the option off and on again: still exact, index made again', async () => {
    const fields = (patch: Record<string, unknown>) => t.app.registry.find('docs')!.fields.map((f) => (f.name === 'title' || f.name === 'heading' ? { ...f, ...patch } : f));
    let res = await send(t, 'PATCH', '/api/collections/docs', { auth: su, body: { fields: fields({ name: 'heading' }) } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const heading = await send(t, 'GET', `${P}?filter=${q("heading ~ 'rare-needle'")}`, { auth: su });
    expect(heading.body.totalItems).toBe(20);
    res = await send(t, 'PATCH', '/api/collections/docs', { auth: su, body: { fields: fields({ searchable: false }) } });
    expect(res.status).toBe(200);
    expect(res.body.fields.find((f: any) => f.name === 'heading').searchable).toBe(false);
    res = await send(t, 'PATCH', '/api/collections/docs', { auth: su, body: { fields: fields({ searchable: 'yes' }) } });
    expect(res.status).toBe(400);
    res = await send(t, 'PATCH', '/api/collections/docs', { auth: su, body: { fields: fields({ searchable: true, name: 'title' }) } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await expectSame('rare-needle')).toBe(20);
    expect(await planOf("title ~ 'rare-needle'")).toContain('_search_');
  });

  it.skipIf(ENGINE !== 'postgres')('an index of an earlier build (on translate()) is made again on the expression `~` compiles to', async () => {
    const [index] = (await sql<{ name: string; def: string }>`SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE indexname LIKE '\\_search\\_%'`.execute(t.app.db.kysely)).rows;
    expect(index.def).toContain('lower(');
    const model = t.app.registry.find('docs')!;
    await sql.raw(`DROP INDEX "${index.name}"; CREATE INDEX "${index.name}" ON "${model.table}" USING gin (translate("title", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') basalt_ext.gin_trgm_ops)`).execute(t.app.db.kysely);
    await ensureSearchIndexes(t.app.db, [model.data]);
    const [after] = (await sql<{ def: string }>`SELECT indexdef AS def FROM pg_indexes WHERE indexname = ${index.name}`.execute(t.app.db.kysely)).rows;
    expect(after.def).toContain('lower(');
    expect(after.def).not.toContain('translate(');
    expect(await planOf("title ~ 'rare-needle'")).toContain('_search_');
  });

  it('the collection deleted takes its index along', async () => {
    expect((await send(t, 'DELETE', '/api/collections/docs', { auth: su })).status).toBe(204);
    if (t.engine === 'sqlite') {
      const left = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE name LIKE '\\_search\\_%' ESCAPE '\\'`.execute(t.app.db.kysely);
      expect(left.rows).toEqual([]);
    } else {
      const left = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM pg_indexes WHERE indexname LIKE '\\_search\\_%'`.execute(t.app.db.kysely);
      expect(left.rows[0].n).toBe(0);
    }
  });
});
