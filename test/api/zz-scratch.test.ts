import { afterAll, beforeAll, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { seedFilterDataset, type FilterDataset } from './filter-dataset.js';
import { send } from '../harness/scenario.js';

let t: TestApp; let ds: FilterDataset;
beforeAll(async () => { t = await startTestApp(); ds = await seedFilterDataset(t); });
afterAll(async () => { await t?.close(); });
it('explore', async () => {
  const byId = Object.fromEntries(Object.entries(ds.posts).map(([k, v]) => [v, k]));
  const filters = readFileSync('/root/scratch/filters.txt', 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const out: string[] = [];
  for (const f of filters) {
    const r = await send(t, 'GET', '/api/collections/posts/records?perPage=500&sort=@rowid&filter=' + encodeURIComponent(f), { auth: ds.superuserToken });
    out.push(`${f}  =>  ${r.status === 200 ? JSON.stringify(r.body.items.map((i: any) => byId[i.id] ?? i.id)) : r.status + ' ' + JSON.stringify(r.body)}`);
  }
  console.log('\n' + out.join('\n'));
});
