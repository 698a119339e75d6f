/**
 * The index Basalt keeps on every single-value relation column (core/collections/relation-indexes.ts),
 * and the plans of the common relation shapes on a collection large enough for the planner to
 * care: a back-relation filter, a filter by relation id and a relation-path filter each use an
 * index (EXPLAIN on the SQL Basalt compiles, on both engines), never a scan of the related table
 * per row. A field opts out with `indexed: false`; renames keep the index.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { checkClientQuery } from '../../src/core/records/client-query.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { filterPredicate, ROOT } from '../../src/core/records/record-query.js';

let t: TestApp;
let su = '';
let postsId = '';
let authorFieldId = '';

const indexName = () => `_rel_${postsId}_${authorFieldId}`;
const indexExists = (name: string) => t.app.db.schema.indexExists(name);

/** The plan of the count a list of `collection` with `filter` runs, as text. */
async function planOf(collection: string, filter: string): Promise<string> {
  const model = t.app.registry.find(collection)!;
  const caller = systemCaller();
  const where = filterPredicate(t.app.query, model, checkClientQuery({ filter }, caller), caller)!;
  const select = sql`SELECT COUNT(*) FROM ${sql.id(model.table)} AS ${sql.id(ROOT)} WHERE ${where}`;
  if (t.engine === 'sqlite') {
    const rows = await sql<{ detail: string }>`EXPLAIN QUERY PLAN ${select}`.execute(t.app.db.kysely);
    return rows.rows.map((r) => r.detail).join('\n');
  }
  const rows = await sql<Record<string, string>>`EXPLAIN ${select}`.execute(t.app.db.kysely);
  return rows.rows.map((r) => Object.values(r)[0]).join('\n');
}

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  await createCollection(t, { name: 'authors', type: 'base', listRule: '', fields: [{ name: 'country', type: 'text' }] });
  const posts = await createCollection(t, {
    name: 'posts',
    type: 'base',
    listRule: '',
    fields: [
      { name: 'n', type: 'number' },
      { name: 'author', type: 'relation', collectionId: 'authors', maxSelect: 1 },
      { name: 'tags', type: 'relation', collectionId: 'authors', maxSelect: 5 },
    ],
  });
  postsId = posts.id;
  authorFieldId = posts.fields.find((f: any) => f.name === 'author').id;
  // Enough rows that a scan is not the cheap plan: 2,000 authors, 20,000 posts, straight into the tables.
  await t.app.db.transaction(async (tx) => {
    for (let a = 0; a < 2000; a += 500) {
      const rows = Array.from({ length: 500 }, (_, i) => ({ id: `a${String(a + i).padStart(14, '0')}`, country: ['FR', 'DE', 'IT', 'ES'][(a + i) % 4] }));
      await tx.kysely.insertInto('authors').values(rows).execute();
    }
    for (let p = 0; p < 20000; p += 500) {
      const rows = Array.from({ length: 500 }, (_, i) => ({ id: `p${String(p + i).padStart(14, '0')}`, n: p + i, author: `a${String((p + i) % 2000).padStart(14, '0')}`, tags: '[]' }));
      await tx.kysely.insertInto('posts').values(rows).execute();
    }
  });
  if (t.engine === 'sqlite') await sql`ANALYZE`.execute(t.app.db.kysely);
  else {
    await sql`ANALYZE authors`.execute(t.app.db.kysely);
    await sql`ANALYZE posts`.execute(t.app.db.kysely);
  }
});

afterAll(async () => {
  await t?.close();
});

describe('relation indexes', () => {
  it('a single relation column is indexed; a multiple one (a JSON list) is not', async () => {
    expect(await indexExists(indexName())).toBe(true);
    const tagsId = t.app.registry.find('posts')!.fields.find((f) => f.name === 'tags')!.id;
    expect(await indexExists(`_rel_${postsId}_${tagsId}`)).toBe(false);
    // Basalt's own: the collection's indexes stay what the superuser wrote.
    const res = await send(t, 'GET', '/api/collections/posts', { auth: su });
    expect(res.body.indexes).toEqual([]);
    expect(res.body.fields.find((f: any) => f.name === 'author').indexed).toBeUndefined();
  });

  // The shapes a view rule, an expand or a per-record check runs: one record, and its relations.
  it("a back-relation of one record finds that record's rows through the index, not a scan", async () => {
    const plan = await planOf('authors', "id = 'a00000000000007' && posts_via_author.n ?> 5");
    expect(plan).toContain(indexName());
    expect(plan).not.toMatch(/SCAN (TABLE )?posts\b|Seq Scan on posts/);
  });

  it('a filter by relation id uses the index', async () => {
    const plan = await planOf('posts', "author = 'a00000000000007'");
    expect(plan).toContain(indexName());
  });

  it('a relation path of one record joins the related record by its primary key, not a scan', async () => {
    const plan = await planOf('posts', "id = 'p00000000000042' && author.country = 'FR'");
    expect(plan).not.toMatch(/SCAN (TABLE )?(authors|posts)\b|Seq Scan on (authors|posts)/);
  });

  it.runIf(process.env.BASALT_TEST_DB === 'postgres')('an unsorted filtered list reads rows in their order through an index, not a sort of the table', async () => {
    const rows = await sql<Record<string, string>>`EXPLAIN SELECT id FROM posts AS __r WHERE __r.n > 5 ORDER BY __r.__rowid LIMIT 20`.execute(t.app.db.kysely);
    const plan = rows.rows.map((r) => Object.values(r)[0]).join('\n');
    expect(plan).toContain(`_rowid_${postsId}`);
    expect(plan).not.toContain('Sort');
  });

  it('lists through the API answer the same with the index', async () => {
    const res = await send(t, 'GET', `/api/collections/authors/records?filter=${encodeURIComponent('posts_via_author.n ?> 19990')}&perPage=50`, { auth: su });
    expect(res.status).toBe(200);
    expect(res.body.totalItems).toBe(9);
  });

  it('a rename keeps the index; `indexed: false` drops it; `true` brings it back', async () => {
    const fields = (patch: Record<string, unknown>) => t.app.registry.find('posts')!.fields.map((f) => (f.name === "author" || f.name === "writer" ? { ...f, ...patch } : f));
    let res = await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { fields: fields({ name: 'writer' }) } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await indexExists(indexName())).toBe(true);
    res = await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { fields: fields({ indexed: false }) } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.fields.find((f: any) => f.name === 'writer').indexed).toBe(false);
    expect(await indexExists(indexName())).toBe(false);
    res = await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { fields: fields({ indexed: 'yes' }) } });
    expect(res.status).toBe(400);
    expect(res.body.data.fields[String(fields({}).findIndex((f) => f.name === 'writer'))].indexed.code).toBe('validation_invalid_value');
    res = await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { fields: fields({ indexed: true, name: 'author' }) } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await indexExists(indexName())).toBe(true);
  });

  it('a field removed takes its index along', async () => {
    const fields = t.app.registry.find('posts')!.fields.filter((f) => f.name !== "author");
    const res = await send(t, 'PATCH', '/api/collections/posts', { auth: su, body: { fields } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await indexExists(indexName())).toBe(false);
  });
});
