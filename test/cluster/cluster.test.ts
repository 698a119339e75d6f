/**
 * Three Basalt nodes (the built binary) on one fresh PostgreSQL database and one Redis, behind
 * nginx configured from examples/nginx/basalt.conf, driven with the official SDK (issue 12 §5):
 * a token from one node works on the others; realtime crosses nodes; a schema change is served
 * by every node within a second; a per-second cron ticks once per second for the whole cluster;
 * rate limits count across nodes; a node killed with `kill -9` mid-load loses no acknowledged
 * write and duplicates none. `npm run test:cluster`; skips when nginx, PostgreSQL or Redis is missing.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { ClientResponseError } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL } from '../harness/engines.js';
import { missingPrerequisite, SdkClients, startCluster, type BasaltNode, type Cluster } from './cluster-harness.js';

(globalThis as { EventSource?: unknown }).EventSource ??= EventSource;

const REDIS = process.env.BASALT_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const missing = await missingPrerequisite(PG_ADMIN_URL, REDIS);
if (missing) console.warn(`cluster suite skipped: ${missing}`);

// Ticks are recorded with the pid of the node that ran them.
const HOOK = `export default (app) => {
  app.cronAdd('cluster-tick', '* * * * * *', async ({ tick, app }) => {
    await app.records('cluster_ticks').create({ tick, pid: process.pid });
  });
};
`;

let cluster: Cluster;
let hooksDir = '';
let A: BasaltNode;
let B: BasaltNode;
let C: BasaltNode;

const clients = new SdkClients();
const sdk = (url: string) => clients.sdk(url);
const superuser = (url: string) => clients.superuser(url);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe.skipIf(missing !== '')('three nodes behind nginx (PostgreSQL + Redis)', () => {
  beforeAll(async () => {
    hooksDir = mkdtempSync(join(tmpdir(), 'basalt-cluster-hooks-'));
    writeFileSync(join(hooksDir, 'ticks.mjs'), HOOK);
    cluster = await startCluster({ pgAdminUrl: PG_ADMIN_URL, redisUrl: REDIS, count: 3, hooksDir });
    [A, B, C] = cluster.nodes as [BasaltNode, BasaltNode, BasaltNode];
    const su = await superuser(cluster.url);
    await su.collections.update('users', { viewRule: 'id = @request.auth.id' });
    await su.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'text', type: 'text' }], listRule: '', viewRule: '' });
    await su.collections.create({ name: 'items', type: 'base', fields: [{ name: 'seq', type: 'text', required: true }], listRule: '', viewRule: '', createRule: '' });
    await su.collections.create({ name: 'rlprobe', type: 'base', fields: [{ name: 'text', type: 'text' }], listRule: '' });
    await su.collections.create({
      name: 'cluster_ticks',
      type: 'base',
      fields: [
        { name: 'tick', type: 'number', required: true },
        { name: 'pid', type: 'number' },
      ],
    });
    await su.collection('users').create({ email: 'alice@example.com', password: 'alice-pass-1', passwordConfirm: 'alice-pass-1' });
  });

  afterAll(async () => {
    clients.unsubscribeAll();
    await cluster?.stop();
    if (hooksDir) rmSync(hooksDir, { recursive: true, force: true });
  });

  it('1. a token from one node is accepted by the others, directly and through nginx', async () => {
    const onA = sdk(A.url);
    const auth = await onA.collection('users').authWithPassword('alice@example.com', 'alice-pass-1');
    for (const node of [B, C]) {
      const pb = sdk(node.url);
      pb.authStore.save(auth.token, auth.record);
      expect((await pb.collection('users').getOne(auth.record.id)).email).toBe('alice@example.com');
      // The token really is checked: a guest on the same node is refused.
      await expect(sdk(node.url).collection('users').getOne(auth.record.id)).rejects.toMatchObject({ status: 404 });
    }
    const viaNginx = sdk(cluster.url);
    viaNginx.authStore.save(auth.token, auth.record);
    for (let i = 0; i < 6; i++) expect((await viaNginx.collection('users').getOne(auth.record.id)).id).toBe(auth.record.id);
    const refreshed = await viaNginx.collection('users').authRefresh();
    expect(refreshed.record.id).toBe(auth.record.id);
  });

  it('2. a subscriber on node C (and one through nginx) receives a record written on node A', async () => {
    const onC = sdk(C.url);
    const throughNginx = sdk(cluster.url);
    const seenC: string[] = [];
    const seenN: string[] = [];
    await onC.collection('notes').subscribe('*', (e) => seenC.push(`${e.action}:${e.record.text}`));
    await throughNginx.collection('notes').subscribe('*', (e) => seenN.push(`${e.action}:${e.record.text}`));
    const suA = await superuser(A.url);
    const created = await suA.collection('notes').create({ text: 'written on A' });
    await suA.collection('notes').update(created.id, { text: 'edited on A' });
    await eventually('events on C', async () => (seenC.length >= 2 ? true : undefined), 5000);
    await eventually('events through nginx', async () => (seenN.length >= 2 ? true : undefined), 5000);
    expect(seenC).toEqual(['create:written on A', 'update:edited on A']);
    expect(seenN).toEqual(['create:written on A', 'update:edited on A']);
  });

  it('3. a schema change made on node A is served by every node within one second', async () => {
    const suA = await superuser(A.url);
    const others = await Promise.all([B, C].map((n) => superuser(n.url)));
    await suA.collections.update('notes', { fields: [...(await suA.collections.getOne('notes')).fields, { name: 'mood', type: 'text' }] });
    const changedAt = Date.now();
    await Promise.all(
      others.map((pb, i) =>
        eventually(`field on node ${'BC'[i]}`, async () => ((await pb.collection('notes').create({ text: 'x', mood: 'happy' })).mood === 'happy' ? true : undefined), 1000),
      ),
    );
    await suA.collections.create({ name: 'late', type: 'base', fields: [{ name: 'n', type: 'number' }] });
    await Promise.all(others.map((pb, i) => eventually(`collection on node ${'BC'[i]}`, async () => (await pb.collection('late').getList(1, 1)) && true, 1000)));
    expect(Date.now() - changedAt).toBeLessThan(2500);
  });

  it('4. a per-second cron ticks exactly once per second across the three nodes', async () => {
    const su = await superuser(cluster.url);
    const t0 = Math.ceil((Date.now() + 500) / 1000) * 1000;
    const t1 = t0 + 5000;
    await sleep(t1 + 1500 - Date.now()); // the last tick's row is written right after its second
    const rows = await su.collection('cluster_ticks').getFullList({ filter: `tick >= ${t0} && tick < ${t1}`, sort: 'tick' });
    expect(rows.map((r) => r.tick)).toEqual([0, 1, 2, 3, 4].map((s) => t0 + s * 1000));
    const all = await su.collection('cluster_ticks').getFullList({ fields: 'tick,pid' });
    expect(new Set(all.map((r) => r.tick)).size).toBe(all.length);
    console.log(`cron: ${all.length} ticks in total, run by ${new Set(all.map((r) => r.pid)).size} node(s)`);
  });

  it('5. a rate-limit rule counts across nodes', async () => {
    const su = await superuser(cluster.url);
    await su.settings.update({ rateLimits: { enabled: true, rules: [{ label: '/api/collections/rlprobe/records', maxRequests: 5, duration: 60 }] } });
    await sleep(1000); // the settings reach the other nodes' memory through Redis
    // One client address for this run only (Redis may be shared), given as nginx would give it.
    const ip = `10.${process.pid % 250}.${Date.now() % 250}.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const node = [A, B, C][i % 3]!;
      const res = await fetch(`${node.url}/api/collections/rlprobe/records`, { headers: { 'x-forwarded-for': ip } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    await su.settings.update({ rateLimits: { enabled: false, rules: [] } });
  });

  it('6. a node killed with kill -9 mid-load loses no acknowledged write and duplicates none', async () => {
    const acked = new Map<string, string>();
    const abandoned: string[] = [];
    let retries = 0;
    let stop = false;
    const writer = async (w: number) => {
      const pb = sdk(cluster.url);
      for (let i = 0; !stop; i++) {
        const seq = `${w}-${i}`;
        const key = randomUUID();
        for (let attempt = 1; ; attempt++) {
          try {
            const rec = await pb.collection('items').create({ seq }, { headers: { 'Idempotency-Key': key } });
            acked.set(seq, rec.id);
            break;
          } catch (e) {
            const status = e instanceof ClientResponseError ? e.status : -1;
            // 0: connection lost; 502/504: nginx lost the node mid-request; 409: the first
            // attempt's claim is still held (by the dead node until its lease ends).
            const retryable = status === 0 || status === 502 || status === 503 || status === 504 || status === 409;
            if (!retryable) throw e;
            if (attempt >= 10 || (status === 409 && stop)) {
              abandoned.push(seq);
              break;
            }
            retries++;
            await sleep(100);
          }
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await sleep(1500);
    const before = acked.size;
    B.proc.kill('SIGKILL');
    await sleep(3000);
    stop = true;
    await Promise.all(writers);
    const after = acked.size - before;

    const su = await superuser(cluster.url);
    const rows = await su.collection('items').getFullList({ fields: 'id,seq', batch: 1000 });
    const bySeq = new Map<string, string[]>();
    for (const r of rows) bySeq.set(r.seq, [...(bySeq.get(r.seq) ?? []), r.id]);
    const lost = [...acked].filter(([seq, id]) => JSON.stringify(bySeq.get(seq)) !== JSON.stringify([id]));
    const duplicated = [...bySeq].filter(([, ids]) => ids.length > 1);
    console.log(`kill -9: ${acked.size} acknowledged (${after} after the kill), ${retries} retries, ${abandoned.length} abandoned, ${rows.length} rows`);
    expect(B.proc.signalCode).toBe('SIGKILL');
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(duplicated).toEqual([]);
    // Rows nobody acknowledged can only be the writes in flight when B died.
    expect(rows.length - acked.size).toBeLessThanOrEqual(abandoned.length);
  });
});
