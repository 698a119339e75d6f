/**
 * Three Basalt nodes behind nginx whose database connections go through PgBouncer in
 * transaction mode (issue 12 §5: the answer to PostgreSQL's connection limit). Each node keeps
 * its pool of 10 (30 client connections, plus one LISTEN connection each), PgBouncer holds at
 * most 4 server connections to the database, and everything Basalt does across a transaction
 * boundary must still work: sign-in, schema changes (advisory locks, DDL in a transaction, a
 * view's temporary view), concurrent writes, filtered reads, realtime across nodes, a cron that
 * fires once per cluster. Skips when pgbouncer, nginx, PostgreSQL or Redis is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL } from '../harness/engines.js';
import { freePort, missingPrerequisite, SdkClients, startCluster, type BasaltNode, type Cluster } from './cluster-harness.js';
import { pgbouncerPath, startPgBouncer, type PgBouncer } from './pgbouncer.js';

(globalThis as { EventSource?: unknown }).EventSource ??= EventSource;

const REDIS = process.env.BASALT_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const SERVER_CONNECTIONS = 4;
const missing = pgbouncerPath() ? await missingPrerequisite(PG_ADMIN_URL, REDIS) : 'pgbouncer is not installed (apt-get install -y pgbouncer)';
if (missing) console.warn(`PgBouncer suite skipped: ${missing}`);

const HOOK = `export default (app) => {
  app.cronAdd('pgb-tick', '* * * * * *', async ({ tick, app }) => {
    await app.records('ticks').create({ tick, pid: process.pid });
  });
  app.jobs.define('pgb-mark', async (job) => {
    await app.records('marks').create({ seq: job.payload.seq, pid: process.pid });
  }, { concurrency: 2 });
  app.onRecordCreate(async (e) => {
    await e.next();
    if (e.record.getInt('seq') >= 500000) await e.app.jobs.enqueue('pgb-mark', { seq: e.record.getInt('seq') });
  }, 'items');
};
`;

let bouncer: PgBouncer;
let cluster: Cluster;
let hooksDir = '';

const clients = new SdkClients();
const sdk = (url: string) => clients.sdk(url);
const superuser = (url: string) => clients.superuser(url);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Server connections PostgreSQL has open to the cluster's database right now. */
async function serverConnections(admin: pg.Client, db: string): Promise<number> {
  const r = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
  return Number(r.rows[0]!.n);
}

describe.skipIf(missing !== '')('three nodes through PgBouncer in transaction mode', () => {
  beforeAll(async () => {
    bouncer = await startPgBouncer({ upstreamUrl: PG_ADMIN_URL, port: await freePort(), poolSize: SERVER_CONNECTIONS });
    hooksDir = mkdtempSync(join(tmpdir(), 'basalt-pgb-hooks-'));
    writeFileSync(join(hooksDir, 'ticks.mjs'), HOOK);
    try {
      cluster = await startCluster({
        pgAdminUrl: PG_ADMIN_URL,
        redisUrl: REDIS,
        count: 3,
        hooksDir,
        dbVia: (url) => bouncer.via(url),
        // PgBouncer drops the statement_timeout Basalt sends at connect: the database carries it.
        databaseSettings: { statement_timeout: '5000' },
      });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- pgbouncer log ---\n${bouncer.log()}`);
    }
    const su = await superuser(cluster.url);
    await su.collections.create({ name: 'items', type: 'base', fields: [{ name: 'seq', type: 'number', required: true }, { name: 'tag', type: 'text' }], listRule: '', viewRule: '', createRule: '', indexes: ['CREATE INDEX idx_items_seq ON items (seq)'] });
    await su.collections.create({ name: 'ticks', type: 'base', fields: [{ name: 'tick', type: 'number', required: true }, { name: 'pid', type: 'number' }] });
    await su.collections.create({ name: 'marks', type: 'base', fields: [{ name: 'seq', type: 'number', required: true }, { name: 'pid', type: 'number' }] });
  });

  afterAll(async () => {
    clients.unsubscribeAll();
    await cluster?.stop();
    await bouncer?.stop();
    if (hooksDir) rmSync(hooksDir, { recursive: true, force: true });
  });

  it('the nodes really go through PgBouncer, and pooled connections carry the query deadline', async () => {
    expect(new URL(cluster.dbUrl).port).toBe(String(bouncer.port));
    const c = new pg.Client({ connectionString: cluster.dbUrl });
    await c.connect();
    try {
      expect((await c.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout).toBe('5s');
    } finally {
      await c.end();
    }
  });

  it('30 writers over three nodes share at most 4 server connections, and every acknowledged write is there once', async () => {
    const admin = new pg.Client({ connectionString: cluster.directDbUrl });
    await admin.connect();
    const db = new URL(cluster.directDbUrl).pathname.slice(1);
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await serverConnections(admin, db));
        await sleep(25);
      }
    })();
    try {
      const acknowledged: number[] = [];
      const writers = Array.from({ length: 30 }, async (_, w) => {
        const pb = sdk(cluster.url);
        for (let i = 0; i < 10; i++) {
          const seq = w * 100 + i + 1; // a required number field refuses 0
          const r = await pb.collection('items').create({ seq, tag: `w${w % 3}` });
          expect(r.seq).toBe(seq);
          acknowledged.push(seq);
        }
      });
      await Promise.all(writers);
      sampling = false;
      await sampler;
      expect(acknowledged).toHaveLength(300);
      // Reads through each node: a filtered, sorted list with its count, and a view by id.
      for (const node of cluster.nodes) {
        const pb = sdk(node.url);
        const page = await pb.collection('items').getList(1, 5, { filter: 'tag = "w1" && seq >= 0', sort: '-seq' });
        expect(page.totalItems).toBe(100);
        expect(page.items.map((r) => r.seq)).toEqual([2810, 2809, 2808, 2807, 2806]);
        expect((await pb.collection('items').getOne(page.items[0]!.id)).seq).toBe(2810);
      }
      const all = await sdk(cluster.url).collection('items').getFullList({ fields: 'seq', batch: 500 });
      expect(new Set(all.map((r) => r.seq)).size).toBe(300);
      expect(all).toHaveLength(300);
      // PgBouncer's own server connections are all PostgreSQL saw for this database.
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(SERVER_CONNECTIONS);
      expect(await serverConnections(admin, db)).toBeLessThanOrEqual(SERVER_CONNECTIONS);
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
      await admin.end();
    }
  });

  it('schema changes work through the pool: a field, an index, a view collection, and every node serves them', async () => {
    const su = await superuser(cluster.url);
    const items = await su.collections.getOne('items');
    await su.collections.update('items', { fields: [...items.fields, { name: 'note', type: 'text' }], indexes: [...items.indexes, 'CREATE INDEX idx_items_tag ON items (tag)'] });
    // A view's columns are read through a temporary view inside the schema transaction.
    await su.collections.create({ name: 'item_tags', type: 'view', listRule: '', viewQuery: 'SELECT tag AS id, count(*) AS n FROM items GROUP BY tag' });
    for (const node of cluster.nodes) {
      const pb = sdk(node.url);
      const deadline = Date.now() + 2000;
      for (;;) {
        try {
          expect((await pb.collection('items').create({ seq: 9000 + node.port, note: 'after the change' })).note).toBe('after the change');
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await sleep(50);
        }
      }
      const tags = await pb.collection('item_tags').getFullList({ sort: 'id' });
      expect(tags.map((t) => t.id)).toEqual(['', 'w0', 'w1', 'w2']);
    }
  });

  it('realtime crosses nodes and a per-second cron ticks once for the cluster', async () => {
    const [A, , C] = cluster.nodes as [BasaltNode, BasaltNode, BasaltNode];
    const seen: number[] = [];
    const onC = sdk(C.url);
    await onC.collection('items').subscribe('*', (e) => seen.push(e.record.seq as number));
    await sdk(A.url).collection('items').create({ seq: 424242 });
    const deadline = Date.now() + 5000;
    while (!seen.includes(424242) && Date.now() < deadline) await sleep(20);
    expect(seen).toContain(424242);

    const su = await superuser(cluster.url);
    const before = (await su.collection('ticks').getFullList()).length;
    await sleep(4000);
    const ticks = (await su.collection('ticks').getFullList()).map((t) => t.tick as number);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.length - before).toBeGreaterThanOrEqual(3);
    const logs = cluster.nodes.map((n) => n.log.join('')).join('');
    expect(logs).not.toMatch(/"level":(50|60)/);
  });

  it('jobs enqueued in a write transaction run exactly once, claimed through the pool', async () => {
    // NB: LISTEN does not survive transaction pooling (PgBouncer drops the notifications: "got
    // packet 'A' from server when not linked"), so other nodes learn of a job by polling (2 s).
    const [A, B] = cluster.nodes as [BasaltNode, BasaltNode, BasaltNode];
    const seqs = Array.from({ length: 20 }, (_, i) => 500_000 + i);
    await Promise.all(seqs.map((seq, i) => sdk((i % 2 ? A : B).url).collection('items').create({ seq })));
    const su = await superuser(cluster.url);
    const deadline = Date.now() + 10_000;
    let marks: number[] = [];
    while (Date.now() < deadline) {
      marks = (await su.collection('marks').getFullList({ fields: 'seq' })).map((m) => m.seq as number);
      if (marks.length >= seqs.length) break;
      await sleep(100);
    }
    await sleep(500); // a duplicate would show up now
    marks = (await su.collection('marks').getFullList({ fields: 'seq' })).map((m) => m.seq as number);
    expect(marks.sort((a, b) => a - b)).toEqual(seqs);
  });
});
