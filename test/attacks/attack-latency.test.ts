/**
 * The hardening issue's attacks, each run while another client keeps measuring `/api/health` and
 * a plain getOne over real sockets: neither may stall (p99 under 100 ms), the attack itself must
 * end in a clean 4xx/503 (never a 500 or a hang), and memory stays bounded. Timing assertions are
 * what this suite is for, so it runs on its own (`npm run test:attacks`, one file at a time),
 * not inside `npm test` where other suites share the two cores. Runs on every engine.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transact } from '../../src/core/events/transaction.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { openSse } from '../harness/sse-client.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let base = '';
let postId = '';
let su = '';
const P99_LIMIT_MS = 100;
/** RSS growth allowed over a whole attack (the blow-ups measured before the fixes were GBs). */
const RSS_GROWTH_LIMIT = 256 << 20;

beforeAll(async () => {
  t = await startTestApp({ config: { queryTimeoutMs: 2000 } });
  base = await listenOnLoopback(t);
  su = (await createSuperuser(t)).token;
  await t.app.collections.update('users', { listRule: '', viewRule: '' });
  const users = t.app.registry.find('users')!;
  await createCollection(t, {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'body', type: 'text' },
      { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
    ],
    listRule: '',
    viewRule: '',
    createRule: '',
  });
  const authors: string[] = [];
  for (let i = 0; i < 2; i++) authors.push((await createAuthRecord(t, 'users', { email: `author${i}@example.com`, name: `A${i}` })).id);
  const posts = t.app.registry.find('posts')!;
  await transact(t.app.db, async (tx) => {
    for (let i = 0; i < 50; i++) {
      const r = await t.app.records.writer.create(posts, { data: { title: `post ${i}`, body: `body ${i}`, author: authors[i % 2] } }, systemCaller(), tx);
      postId ||= String(r.values.id);
    }
  });
  await createRecord(t, 'posts', { title: 'warm', author: authors[0] });
  // A superuser's slow-but-allowed filter needs rows: a cross join of two aliases over 300.
  const items = await createCollection(t, { name: 'items', fields: [{ name: 'title', type: 'text' }, { name: 'n', type: 'number' }], listRule: '', viewRule: '' });
  await transact(t.app.db, async (tx) => {
    const c = t.app.registry.find(items.id)!;
    for (let i = 0; i < 300; i++) await t.app.records.writer.create(c, { data: { title: `item ${i}`, n: i } }, systemCaller(), tx);
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

interface Probe {
  /** Requests timed so far. */
  count(): number;
  stop(): Promise<{ p99: number; max: number; count: number; errors: number; slowest: number[] }>;
}

/**
 * The probe runs in a worker thread, with an event loop of its own: in the server's thread its
 * timers would wait out a stall too, and the requests it then sends would look fast. Its first
 * requests (connection, JIT) are not measured; it says `ready` after them.
 */
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const WARM_UP = 5;
const times = [];
let errors = 0;
let running = true;
parentPort.on('message', () => (running = false));
(async () => {
  for (let i = 0; running; i++) {
    const start = performance.now();
    let failed = false;
    try {
      const res = await fetch(workerData.urls[i % workerData.urls.length], { signal: AbortSignal.timeout(30000) });
      await res.arrayBuffer();
      failed = res.status !== 200;
    } catch {
      failed = true;
    }
    if (i === WARM_UP - 1) parentPort.postMessage({ ready: true });
    if (i >= WARM_UP) {
      times.push(performance.now() - start);
      if (failed) errors++;
      parentPort.postMessage({ count: times.length });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  parentPort.postMessage({ times, errors });
})();
`;

/** Alternates `/api/health` and a getOne every 10 ms, one request in flight, timing each. */
async function probe(): Promise<Probe> {
  const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: { urls: [`${base}/api/health`, `${base}/api/collections/posts/records/${postId}`] } });
  let ready!: () => void;
  let counted = 0;
  const isReady = new Promise<void>((r) => (ready = r));
  const done = new Promise<{ times: number[]; errors: number }>((resolve, reject) => {
    worker.on('message', (m: { ready?: true; count?: number; times?: number[]; errors?: number }) => {
      if (m.ready) ready();
      else if (m.count !== undefined) counted = m.count;
      else resolve(m as { times: number[]; errors: number });
    });
    worker.once('error', reject);
  });
  await isReady;
  return {
    count: () => counted,
    async stop() {
      worker.postMessage('stop');
      const { times, errors } = await done;
      await worker.terminate();
      const sorted = [...times].sort((a, b) => a - b);
      return { p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0, max: sorted.at(-1) ?? 0, count: sorted.length, errors, slowest: sorted.slice(-5) };
    },
  };
}

/** How long each attack keeps going at least. */
const ATTACK_WINDOW_MS = 1000;
/**
 * Probe requests each attack keeps going for at least: with fewer, the "p99" is the maximum, and
 * one scheduling blip of a slow machine decides the test (it did: 195 ms once in 39 samples, the
 * next attacks' p99 under 30 ms). With 100 it takes two slow probes, and a stall makes many.
 */
const MIN_SAMPLES = 200;
/** The most an attack keeps going for, however slowly the probe samples. */
const MAX_WINDOW_MS = 20_000;

/**
 * Repeats `attack` under a probe for at least ATTACK_WINDOW_MS and until the probe has timed
 * MIN_SAMPLES requests; the first attack's answer is returned for the test's own assertions.
 */
async function underProbe<T>(attack: () => Promise<T>): Promise<{ result: T; p99: number; max: number; rssGrowth: number; elapsedMs: number }> {
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const p = await probe();
  const started = performance.now();
  const result = await attack();
  const elapsedMs = performance.now() - started;
  let rounds = 1;
  const going = () => performance.now() - started < ATTACK_WINDOW_MS || (p.count() < MIN_SAMPLES && performance.now() - started < MAX_WINDOW_MS);
  for (; going(); rounds++) await attack();
  const stats = await p.stop();
  clearInterval(sampler);
  expect(stats.errors).toBe(0);
  expect(stats.count).toBeGreaterThanOrEqual(MIN_SAMPLES);
  console.log(`${expect.getState().currentTestName}: attack ${elapsedMs.toFixed(0)} ms (×${rounds}); probe p99 ${stats.p99.toFixed(1)} ms, max ${stats.max.toFixed(1)} ms over ${stats.count} (slowest ${stats.slowest.map((x) => x.toFixed(0)).join(', ')} ms); RSS +${((rssPeak - rssBefore) / 2 ** 20).toFixed(0)} MiB`);
  return { result, p99: stats.p99, max: stats.max, rssGrowth: rssPeak - rssBefore, elapsedMs };
}

async function get(path: string, auth = ''): Promise<{ status: number; body: any; bytes: number }> {
  const res = await fetch(`${base}${path}`, { headers: auth ? { authorization: auth } : {} });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, bytes: text.length };
}

/** A refusal in the standard error shape: a 4xx or the deadline's 503, never a 500. */
function expectCleanRefusal(res: { status: number; body: any }) {
  expect([400, 403, 503], JSON.stringify(res.body).slice(0, 300)).toContain(res.status);
  expect(res.body).toMatchObject({ status: res.status, message: expect.any(String), data: expect.any(Object) });
}

const PRODUCT_FILTER = 'author.posts_via_author.author.posts_via_author.title != author.posts_via_author.author.posts_via_author.body';
const DEEP_EXPAND = 'author.posts_via_author.author.posts_via_author.author.posts_via_author';

describe('no single request stalls the server', () => {
  it('a join-product filter (guest) is refused, health and getOne keep answering', async () => {
    const run = await underProbe(() => get(`/api/collections/posts/records?filter=${encodeURIComponent(PRODUCT_FILTER)}`));
    expectCleanRefusal(run.result);
    expect(run.p99).toBeLessThan(P99_LIMIT_MS);
    expect(run.rssGrowth).toBeLessThan(RSS_GROWTH_LIMIT);
  });

  it('five of them at once (pool exhaustion on PostgreSQL) all end cleanly', async () => {
    const run = await underProbe(() => Promise.all(Array.from({ length: 5 }, () => get(`/api/collections/posts/records?filter=${encodeURIComponent(PRODUCT_FILTER)}`))));
    for (const res of run.result) expectCleanRefusal(res);
    expect(run.p99).toBeLessThan(P99_LIMIT_MS);
  });

  it('the same filter as a superuser: the higher bound still refuses it, or the deadline ends it', async () => {
    const run = await underProbe(() => get(`/api/collections/posts/records?filter=${encodeURIComponent(PRODUCT_FILTER)}`, su));
    if (run.result.status !== 200) expectCleanRefusal(run.result);
    expect(run.p99).toBeLessThan(P99_LIMIT_MS);
  });

  it('the same filter as a realtime subscription does not stall writes', async () => {
    const run = await underProbe(async () => {
      const sse = await openSse(base);
      const res = await fetch(`${base}/api/realtime`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: sse.clientId, subscriptions: [`posts/*?options=${encodeURIComponent(JSON.stringify({ query: { filter: PRODUCT_FILTER } }))}`] }),
      });
      const body = await res.json();
      const writes = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const w = await fetch(`${base}/api/collections/posts/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: `rt ${i}` }) });
        await w.arrayBuffer();
        writes.push({ status: w.status, ms: performance.now() - started });
      }
      sse.close();
      return { status: res.status, body, writes };
    });
    expectCleanRefusal(run.result);
    for (const w of run.result.writes) expect(w.status).toBe(200);
    expect(run.p99).toBeLessThan(P99_LIMIT_MS);
  });

  it("a superuser's filter within its budget but slow ends at the deadline (503); nothing else waits", async () => {
    // Two @collection aliases joined over 300 items, never equal, for every item: allowed, and seconds of work.
    const slow = "@collection.items:a.title ?= @collection.items:b.n";
    const run = await underProbe(() => Promise.all([1, 2, 3].map(() => get(`/api/collections/items/records?perPage=1&filter=${encodeURIComponent(slow)}`, su))));
    // NB: PostgreSQL sometimes plans this as a hash join once its statistics of `items` have been
    // refreshed (autovacuum's ANALYZE, mid-suite), and then answers (200, nothing found) well
    // before the deadline: fine, as long as no request outlives the deadline.
    const fastPlan = (res: { status: number }) => t.engine === 'postgres' && res.status === 200;
    for (const res of run.result) if (!fastPlan(res)) expectCleanRefusal(res);
    for (const res of run.result) if (!fastPlan(res)) expect(res.status).toBe(503);
    expect(run.elapsedMs).toBeLessThan(2000 + 1500);
    expect(run.p99).toBeLessThan(P99_LIMIT_MS);
  });

  it('a long strftime format is refused before it runs', async () => {
    const filter = `strftime('${'%Y-%m-%d %H:%M:%S '.repeat(2000)}', created) != ""`;
    const run = await underProbe(() => get(`/api/collections/posts/records?filter=${encodeURIComponent(filter)}`));
    // The URL itself may be too long for the server (414/431) — also a clean, cheap refusal.
    if (run.result.status < 414) expectCleanRefusal(run.result);
    expect(run.p99).toBeLessThan(P99_LIMIT_MS);
  });

  it('a deep expand over 1000 records answers a bounded body without growing memory', async () => {
    const run = await underProbe(() => get(`/api/collections/posts/records?perPage=1000&expand=${DEEP_EXPAND}`));
    if (run.result.status !== 200) expectCleanRefusal(run.result);
    expect(run.result.bytes).toBeLessThan(64 << 20);
    expect(run.p99).toBeLessThan(P99_LIMIT_MS);
    expect(run.rssGrowth).toBeLessThan(RSS_GROWTH_LIMIT);
  });

  it('a body of a million unknown keys gets a small 400 quickly', async () => {
    // Written straight into one buffer: a million-string array in this process would make the
    // garbage collector pause the server during the measurement, not the server's own work.
    const payload = Buffer.alloc(12 << 20);
    let length = payload.write('{"title":"x"');
    for (let i = 0; i < 1_000_000; i++) length += payload.write(`,"k${i}":1`, length);
    length += payload.write('}', length);
    const run = await underProbe(async () => {
      const res = await fetch(`${base}/api/collections/posts/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload.subarray(0, length) });
      const text = await res.text();
      return { status: res.status, body: JSON.parse(text), bytes: text.length };
    });
    expectCleanRefusal(run.result);
    expect(run.result.bytes).toBeLessThan(64 << 10);
    expect(run.p99).toBeLessThan(P99_LIMIT_MS);
  });
});
