import { afterAll, beforeAll, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { seedFilterDataset, type FilterDataset } from './filter-dataset.js';

let t: TestApp; let ds: FilterDataset;
beforeAll(async () => { t = await startTestApp(); ds = await seedFilterDataset(t); await t.app.collections.update('posts', { listRule: 'title ~ @request.query.p' }); });
afterAll(async () => { await t?.close(); });
it('explore', async () => {
  for (const [f, p, who] of [
    ["title ~ @request.query.p", '%\\', 'su'],
    ["title ~ @request.query.p", 'a\\', 'su'],
    ["title ~ @request.query.p", '%a\\', 'su'],
    ["", '%\\', 'guest'],
    ["", 'x\u0000', 'guest'],
    ["title !~ @request.query.p", '%\\', 'su'],
    ["title ~ @request.query.p", '\\', 'su'],
  ] as const) {
    const url = '/api/collections/posts/records?p=' + encodeURIComponent(p) + (f ? '&filter=' + encodeURIComponent(f) : '');
    const r = await t.server.inject({ method: 'GET', url, headers: who === 'su' ? { authorization: ds.superuserToken } : {} });
    console.log('RES', JSON.stringify(f), JSON.stringify(p), who, r.statusCode, r.body.slice(0, 150));
  }
});
