/** Expansion at scale: back-relations capped at 1000 per parent, id lists split under engine limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/core/records/caller.js';
import { transact } from '../../src/core/events/transaction.js';
import { createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let su = '';
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  await createCollection(t, { name: 'posts', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }] });
  await createCollection(t, {
    name: 'comments',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'post', type: 'relation', collectionId: 'posts', maxSelect: 1 },
      { name: 'n', type: 'number' },
    ],
  });
  ids.busy = String((await createRecord(t, 'posts', { title: 'busy' })).values.id);
  ids.quiet = String((await createRecord(t, 'posts', { title: 'quiet' })).values.id);
  const comments = t.app.registry.find('comments')!;
  await transact(t.app.db, async (tx) => {
    for (let i = 0; i < 1005; i++) await t.app.records.writer.create(comments, { data: { post: ids.busy, n: i } }, systemCaller(), tx);
    for (let i = 0; i < 3; i++) await t.app.records.writer.create(comments, { data: { post: ids.quiet, n: i } }, systemCaller(), tx);
  });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('expand limits', () => {
  it('a back-relation expands at most 1000 records per parent, in insertion order', async () => {
    const res = await send(t, 'GET', '/api/collections/posts/records?expand=comments_via_post&sort=title', { auth: su });
    expect(res.status).toBe(200);
    const [busy, quiet] = res.body.items;
    expect(busy.expand.comments_via_post).toHaveLength(1000);
    expect(busy.expand.comments_via_post[0].n).toBe(0);
    expect(busy.expand.comments_via_post[999].n).toBe(999);
    expect(quiet.expand.comments_via_post.map((c: { n: number }) => c.n)).toEqual([0, 1, 2]);
  });

  it('expanding 1000 records at once (ids in several queries) answers every one', async () => {
    const res = await send(t, 'GET', '/api/collections/comments/records?perPage=1000&expand=post', { auth: su });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1000);
    expect(res.body.items.every((c: { post: string; expand?: { post?: { id: string } } }) => c.expand?.post?.id === c.post)).toBe(true);
  });
});
