/**
 * Prometheus metrics (issue 12 §4): `GET /api/metrics` is off by default (404); when configured
 * it answers the metrics token or a superuser (401 otherwise, in the standard shape) with the
 * text format 0.0.4; requests are labelled by route pattern (never a raw URL, whatever clients
 * send); database, realtime, rate-limit, job and webhook metrics move when those things happen.
 * The output is read with a small parser of the exposition format. Runs on the engine of
 * BASALT_TEST_DB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../src/adapters/prometheus-metrics.js';
import { createBasalt } from '../../src/cli/create-basalt.js';
import { DEFAULT_WEBHOOKS_CONFIG, defaultConfig } from '../../src/core/config.js';
import { noMetrics } from '../../src/core/metrics/metrics.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send } from '../harness/scenario.js';
import { openSse } from '../harness/sse-client.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { ENGINE } from '../harness/engines.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition format's sample lines: `name{label="value",…} number`; comments skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

const seriesOf = (samples: Sample[], name: string) => samples.filter((s) => s.name === name);

async function until(check: () => boolean | Promise<boolean>, ms = 8000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('metrics off (no token, no address)', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = (await createSuperuser(t)).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('collects nothing', () => {
    expect(t.app.metrics).toBe(noMetrics);
  });

  runScenarios(() => t, [
    { name: 'a guest', method: 'GET', url: '/api/metrics', status: 404 },
    { name: 'a would-be token', method: 'GET', url: '/api/metrics', auth: `Bearer ${TOKEN}`, status: 404 },
    { name: 'a superuser', method: 'GET', url: '/api/metrics', auth: () => admin, status: 404 },
  ]);
});

describe('metrics on (--metrics-token)', () => {
  let t: TestApp;
  let admin: string;
  let user: string;
  let base: string;
  let receiver: Server;
  let receiverPort = 0;
  let receiverStatus = 200;
  let received = 0;

  const scrape = async (auth = `Bearer ${TOKEN}`): Promise<Sample[]> => {
    const res = await send(t, 'GET', '/api/metrics', { auth });
    expect(res.status, res.raw.slice(0, 300)).toBe(200);
    return parseMetrics(res.raw);
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.writeHead(receiverStatus).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverPort = (receiver.address() as AddressInfo).port;
    t = await startTestApp({
      config: {
        metrics: { token: TOKEN, http: null },
        webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${receiverPort}`], retryScheduleMs: [100], timeoutMs: 2000 },
        jobs: { pollIntervalMs: 100, shutdownGraceMs: 1000, completedRetentionMs: 60_000, failedRetentionMs: 60_000 },
      },
      // Job counts fresh at every scrape, so the test can see them change (the default reuses them for 5 s).
      deps: { metrics: new PrometheusMetrics({ jobCountsMaxAgeMs: 0 }) },
    });
    admin = (await createSuperuser(t)).token;
    user = (await createAuthRecord(t, 'users', { email: 'user@example.com' })).token;
    await createCollection(t, { name: 'posts', fields: [{ name: 'title', type: 'text' }], listRule: '', viewRule: '', createRule: '' });
    await t.server.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  describe('who may read them', () => {
    runScenarios(() => t, [
      { name: 'no credentials', method: 'GET', url: '/api/metrics', status: 401 },
      { name: 'a wrong token', method: 'GET', url: '/api/metrics', auth: 'Bearer metrics-token-0123456789abcdeX', status: 401 },
      { name: 'the token with a character more', method: 'GET', url: '/api/metrics', auth: `Bearer ${TOKEN}0`, status: 401 },
      { name: 'a prefix of the token', method: 'GET', url: '/api/metrics', auth: `Bearer ${TOKEN.slice(0, -1)}`, status: 401 },
      { name: 'the token without "Bearer"', method: 'GET', url: '/api/metrics', auth: TOKEN, status: 401 },
      { name: 'the token as Basic credentials', method: 'GET', url: '/api/metrics', auth: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, status: 401 },
      { name: '"Bearer" alone', method: 'GET', url: '/api/metrics', auth: 'Bearer ', status: 401 },
      { name: 'the token twice', method: 'GET', url: '/api/metrics', auth: `Bearer ${TOKEN} ${TOKEN}`, status: 401 },
      { name: 'a huge header', method: 'GET', url: '/api/metrics', auth: `Bearer ${'a'.repeat(10_000)}`, status: 401 },
      { name: 'the token in the query string', method: 'GET', url: `/api/metrics?token=${TOKEN}`, status: 401 },
      { name: 'a regular user', method: 'GET', url: '/api/metrics', auth: () => user, status: 401 },
      { name: 'a forged API key', method: 'GET', url: '/api/metrics', auth: 'Bearer bsk_notakey', status: 401 },
      {
        name: 'the token',
        method: 'GET',
        url: '/api/metrics',
        auth: `Bearer ${TOKEN}`,
        status: 200,
        check: (_body, raw) => {
          expect(raw).toContain('# TYPE basalt_http_requests_total counter');
          expect(raw).toContain('# TYPE basalt_http_request_duration_seconds histogram');
        },
      },
      { name: 'the token, lower-case scheme', method: 'GET', url: '/api/metrics', auth: `bearer ${TOKEN}`, status: 200 },
      { name: 'a superuser', method: 'GET', url: '/api/metrics', auth: () => admin, status: 200 },
    ]);

    it('answers text format 0.0.4, uncached, with the process metrics', async () => {
      const res = await send(t, 'GET', '/api/metrics', { auth: `Bearer ${TOKEN}` });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(CONTENT_TYPE);
      expect(res.headers['cache-control']).toBe('no-store');
      const samples = parseMetrics(res.raw);
      for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
        expect(seriesOf(samples, name).length, name).toBeGreaterThan(0);
      }
      // The token never appears in what is served.
      expect(res.raw).not.toContain(TOKEN);
    });
  });

  describe('HTTP requests', () => {
    it('are counted by route pattern, method and status; no id reaches a label', async () => {
      const post = await createRecord(t, 'posts', { title: 'hello' });
      const id = String(post.values.id);
      const route = { route: '/api/collections/:collection/records/:id', method: 'GET' };
      const before = await scrape();
      for (let i = 0; i < 3; i++) expect((await send(t, 'GET', `/api/collections/posts/records/${id}`)).status).toBe(200);
      expect((await send(t, 'GET', '/api/collections/posts/records/nothere1234567')).status).toBe(404);
      const after = await scrape();
      expect(valueOf(after, 'basalt_http_requests_total', { ...route, status: '200' }) - valueOf(before, 'basalt_http_requests_total', { ...route, status: '200' })).toBe(3);
      expect(valueOf(after, 'basalt_http_requests_total', { ...route, status: '404' }) - valueOf(before, 'basalt_http_requests_total', { ...route, status: '404' })).toBe(1);
      expect(valueOf(after, 'basalt_http_request_duration_seconds_count', route) - valueOf(before, 'basalt_http_request_duration_seconds_count', route)).toBe(4);
      // Every bucket of the histogram is there, 1 ms to 10 s.
      const les = seriesOf(after, 'basalt_http_request_duration_seconds_bucket').filter((s) => s.labels.route === route.route && s.labels.method === 'GET').map((s) => s.labels.le);
      expect(les).toEqual(['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
      const text = (await send(t, 'GET', '/api/metrics', { auth: `Bearer ${TOKEN}` })).raw;
      expect(text).not.toContain(id);
      expect(text).not.toContain('nothere1234567');
      expect(text).not.toContain('/api/collections/posts');
    });

    it('keep few label sets whatever URLs clients send (1,000 distinct ones)', async () => {
      const labelSets = (samples: Sample[]) => new Set(seriesOf(samples, 'basalt_http_requests_total').map((s) => JSON.stringify(s.labels)));
      const before = labelSets(await scrape());
      const random = () => Math.random().toString(36).slice(2, 12);
      const markers: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const r = `zq${random()}`;
        if (i < 20) markers.push(r);
        const url = [
          `/api/collections/posts/records/${r}`,
          `/api/collections/${r}/records`,
          `/${r}/${random()}?q=${random()}`,
          `/api/${r}`,
          `/api/files/posts/${r}/${random()}.png`,
        ][i % 5];
        const res = await send(t, i % 7 === 0 ? 'DELETE' : 'GET', url);
        expect(res.status, url).toBeGreaterThanOrEqual(400);
        expect(res.status, url).toBeLessThan(500);
      }
      const afterSamples = await scrape();
      const after = labelSets(afterSamples);
      // A handful of new (route, method, status) triples — nowhere near one per URL.
      expect(after.size - before.size).toBeLessThan(15);
      expect(seriesOf(afterSamples, 'basalt_http_request_duration_seconds_bucket').length).toBeLessThan(2000);
      const text = (await send(t, 'GET', '/api/metrics', { auth: `Bearer ${TOKEN}` })).raw;
      for (const marker of markers) expect(text).not.toContain(marker);
      expect(valueOf(afterSamples, 'basalt_http_requests_total', { route: '(unmatched)' })).toBeGreaterThanOrEqual(400);
    });
  });

  describe('the database', () => {
    it('times reads, writes and transactions on this engine, and shows its pool', async () => {
      const before = await scrape();
      expect((await send(t, 'POST', '/api/collections/posts/records', { body: { title: 'timed' } })).status).toBe(200);
      expect((await send(t, 'GET', '/api/collections/posts/records?filter=' + encodeURIComponent('title = "timed"'))).status).toBe(200);
      const after = await scrape();
      const engine = t.engine;
      for (const kind of ['read', 'transaction']) {
        const grew = valueOf(after, 'basalt_db_query_duration_seconds_count', { engine, kind }) - valueOf(before, 'basalt_db_query_duration_seconds_count', { engine, kind });
        expect(grew, kind).toBeGreaterThan(0);
      }
      expect(valueOf(after, 'basalt_db_query_duration_seconds_sum', { engine })).toBeGreaterThan(0);
      if (engine === 'postgres') {
        expect(seriesOf(after, 'basalt_db_pool_clients')).toEqual([{ name: 'basalt_db_pool_clients', labels: { engine }, value: expect.any(Number) }]);
        expect(valueOf(after, 'basalt_db_pool_clients')).toBeGreaterThan(0);
        expect(seriesOf(after, 'basalt_db_pool_waiting_requests').length).toBe(1);
      } else {
        expect(valueOf(after, 'basalt_db_read_workers', { engine })).toBeGreaterThan(0);
        expect(seriesOf(after, 'basalt_db_read_queue_length').length).toBe(1);
      }
    });
  });

  describe('list totals', () => {
    it('say whether a total was counted, stored, or carried across a write', async () => {
      await createCollection(t, { name: 'tallied', fields: [{ name: 'n', type: 'number' }], listRule: 'n > 1', createRule: '' });
      const list = async () => {
        const res = await send(t, 'GET', '/api/collections/tallied/records?perPage=1');
        expect(res.status).toBe(200);
        return res.body.totalItems as number;
      };
      const totals = async () => {
        const s = await scrape();
        return Object.fromEntries(['stored', 'carried', 'counted'].map((result) => [result, valueOf(s, 'basalt_list_totals_total', { result })]));
      };
      for (const n of [1, 2, 3]) expect((await send(t, 'POST', '/api/collections/tallied/records', { body: { n } })).status).toBe(200);
      const before = await totals();
      expect(await list()).toBe(2);
      expect(await list()).toBe(2);
      expect((await send(t, 'POST', '/api/collections/tallied/records', { body: { n: 5 } })).status).toBe(200);
      expect(await list()).toBe(3);
      const after = await totals();
      expect({ stored: after.stored - before.stored, carried: after.carried - before.carried, counted: after.counted - before.counted }).toEqual({ stored: 1, carried: 1, counted: 1 });
    });
  });

  describe('ranked searches', () => {
    it('say whether a page was ranked or read from the kept order', async () => {
      await createCollection(t, { name: 'ranked', fields: [{ name: 'title', type: 'text', searchable: true }], listRule: '', createRule: '' });
      for (const title of ['red fox', 'fox', 'a red car']) expect((await send(t, 'POST', '/api/collections/ranked/records', { body: { title } })).status).toBe(200);
      const results = async () => {
        const s = await scrape();
        return Object.fromEntries(['reused', 'ranked'].map((result) => [result, valueOf(s, 'basalt_ranked_searches_total', { result })]));
      };
      const before = await results();
      for (let i = 0; i < 3; i++) {
        const res = await send(t, 'GET', '/api/collections/ranked/records?search=red');
        expect(res.status).toBe(200);
        expect(res.body.items.map((r: { title: string }) => r.title)).toEqual(['red fox', 'a red car']);
      }
      const after = await results();
      expect({ reused: after.reused - before.reused, ranked: after.ranked - before.ranked }).toEqual({ reused: 2, ranked: 1 });
    });
  });

  describe('realtime', () => {
    it('counts connected clients and the messages sent to them', async () => {
      const before = await scrape();
      const sse = await openSse(base);
      try {
        const during = await scrape();
        expect(valueOf(during, 'basalt_realtime_clients')).toBe(valueOf(before, 'basalt_realtime_clients') + 1);
        // PB_CONNECT at least.
        expect(valueOf(during, 'basalt_realtime_events_sent_total')).toBeGreaterThan(valueOf(before, 'basalt_realtime_events_sent_total'));
      } finally {
        sse.close();
      }
      await until(async () => valueOf(await scrape(), 'basalt_realtime_clients') === valueOf(before, 'basalt_realtime_clients'), 5000, 'the client to go');
    });
  });

  describe('rate limits', () => {
    it('count refusals by route pattern', async () => {
      const set = async (enabled: boolean) => {
        const res = await send(t, 'PATCH', '/api/settings', { auth: admin, body: { rateLimits: { enabled, rules: [{ label: 'posts:create', duration: 60, maxRequests: 1 }] } } });
        expect(res.status, res.raw).toBe(200);
      };
      await set(true);
      try {
        const labels = { route: '/api/collections/:collection/records' };
        const before = valueOf(await scrape(), 'basalt_rate_limit_refusals_total', labels);
        const create = () => send(t, 'POST', '/api/collections/posts/records', { body: { title: 'limited' } });
        expect((await create()).status).toBe(200);
        expect((await create()).status).toBe(429);
        expect((await create()).status).toBe(429);
        expect(valueOf(await scrape(), 'basalt_rate_limit_refusals_total', labels) - before).toBe(2);
      } finally {
        await set(false);
      }
    });
  });

  describe('jobs', () => {
    it('count attempts by queue and outcome, and show the queue by state', async () => {
      t.app.jobs.define('metrics_ok', async () => {});
      t.app.jobs.define(
        'metrics_boom',
        async () => {
          throw new Error('boom');
        },
        { maxAttempts: 1 },
      );
      const ok = await t.app.jobs.enqueue('metrics_ok', {});
      const boom = await t.app.jobs.enqueue('metrics_boom', {});
      const done = async (id: string, state: string) => (await t.app.jobs.view(id)).state === state;
      await until(() => done(ok.id, 'completed'), 8000, 'the job to complete');
      await until(() => done(boom.id, 'failed'), 8000, 'the job to fail');
      const samples = await scrape();
      expect(valueOf(samples, 'basalt_jobs_executed_total', { queue: 'metrics_ok', outcome: 'completed' })).toBe(1);
      expect(valueOf(samples, 'basalt_jobs_executed_total', { queue: 'metrics_boom', outcome: 'failed' })).toBe(1);
      expect(valueOf(samples, 'basalt_jobs_executed_total', { queue: 'metrics_ok', outcome: 'failed' })).toBe(0);
      expect(valueOf(samples, 'basalt_jobs', { queue: 'metrics_ok', state: 'completed' })).toBe(1);
      expect(valueOf(samples, 'basalt_jobs', { queue: 'metrics_boom', state: 'failed' })).toBe(1);
      // Every state of a known queue is reported, zeros included.
      expect(seriesOf(samples, 'basalt_jobs').filter((s) => s.labels.queue === 'metrics_ok').map((s) => s.labels.state).sort()).toEqual(['cancelled', 'completed', 'failed', 'queued', 'running']);
    });
  });

  describe('webhooks', () => {
    it('count deliveries by result', async () => {
      const endpoint = await send(t, 'POST', '/api/webhooks', { auth: admin, body: { url: `http://127.0.0.1:${receiverPort}/hook`, collections: ['posts'], actions: ['create'] } });
      expect(endpoint.status, endpoint.raw).toBe(200);
      const result = async (r: string) => valueOf(await scrape(), 'basalt_webhook_deliveries_total', { result: r });
      receiverStatus = 200;
      expect((await send(t, 'POST', '/api/collections/posts/records', { body: { title: 'delivered' } })).status).toBe(200);
      await until(async () => (await result('succeeded')) === 1, 8000, 'a successful delivery');
      // 400: not retried (failed at once); 503: retried once (retry), then failed (the schedule has one retry).
      receiverStatus = 400;
      expect((await send(t, 'POST', '/api/collections/posts/records', { body: { title: 'refused' } })).status).toBe(200);
      await until(async () => (await result('failed')) === 1, 8000, 'a failed delivery');
      receiverStatus = 503;
      expect((await send(t, 'POST', '/api/collections/posts/records', { body: { title: 'retried' } })).status).toBe(200);
      await until(async () => (await result('failed')) === 2, 8000, 'a retried delivery to fail');
      expect(await result('retry')).toBe(1);
      expect(await result('succeeded')).toBe(1);
      expect(received).toBe(4);
    });
  });
});

describe('the job counts behind the gauge', () => {
  it('are read at most once per interval, however often scraped', async () => {
    let calls = 0;
    const metrics = new PrometheusMetrics({ jobCountsMaxAgeMs: 60_000 });
    metrics.observeApp({
      engine: 'sqlite',
      realtimeClients: () => 0,
      databaseStats: () => ({}),
      jobCounts: async () => {
        calls++;
        return [{ name: 'q', state: 'queued', count: 3 }];
      },
    });
    const bodies = await Promise.all([metrics.render(), metrics.render(), metrics.render()]);
    await metrics.render();
    expect(calls).toBe(1);
    for (const { body } of bodies) expect(valueOf(parseMetrics(body), 'basalt_jobs', { queue: 'q', state: 'queued' })).toBe(3);
  });
});

describe.skipIf(ENGINE !== 'sqlite')('--metrics-http (a separate address, framework mode)', () => {
  it('serves the metrics at /metrics without a token; the main address still wants one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-metrics-'));
    const basalt = await createBasalt({ config: defaultConfig({ dataDir: dir, logLevel: 'silent', http: { host: '127.0.0.1', port: 0 }, metrics: { token: '', http: { host: '127.0.0.1', port: 0 } } }) });
    try {
      const base = await basalt.listen();
      const metricsUrl = basalt.metricsUrl();
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(metricsUrl).not.toBe(base);
      expect((await fetch(`${base}/api/health`)).status).toBe(200);
      const res = await fetch(`${metricsUrl}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
      const samples = parseMetrics(await res.text());
      expect(valueOf(samples, 'basalt_http_requests_total', { route: '/api/health', method: 'GET', status: '200' })).toBe(1);
      // Nothing else is served there, and the main address keeps its guard (no token configured: superusers only).
      for (const [method, path, status] of [['GET', '/', 404], ['GET', '/api/health', 404], ['POST', '/metrics', 405], ['GET', '/metrics/../api/health', 404]] as const) {
        const other = await fetch(`${metricsUrl}${path}`, { method });
        expect(other.status, `${method} ${path}`).toBe(status);
        expect(Object.keys((await other.json()) as object).sort()).toEqual(['data', 'message', 'status']);
      }
      const main = await fetch(`${base}/api/metrics`);
      expect(main.status).toBe(401);
      expect(Object.keys((await main.json()) as object).sort()).toEqual(['data', 'message', 'status']);
    } finally {
      await basalt.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
