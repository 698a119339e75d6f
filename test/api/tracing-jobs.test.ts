/**
 * Trace context carried by jobs and webhook deliveries (README "Tracing"): a job stores the span
 * context it was enqueued under, and its attempt runs in a span of that trace; a webhook delivery
 * (a job moved from the outbox) continues the trace of the write that caused it and sends its
 * `traceparent` to the receiver. The tracer provider is injected with an in-memory exporter, as in
 * tracing.test.ts. Runs on the engine of BASALT_TEST_DB.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import PocketBase from 'pocketbase';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { createOtelTracing } from '../../src/adapters/otel-tracing.js';
import { DEFAULT_WEBHOOKS_CONFIG, type Config } from '../../src/core/config.js';
import { DELIVERY_JOB } from '../../src/core/webhooks/outbox-relay.js';
import { addHooks, createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracing = createOtelTracing(provider);

const received: Received[] = [];
let receiver: Server;
let port = 0;
let t: TestApp;
let off: TestApp;
/** Each app's endpoint (its path on the receiver is the app's name) and its signing secret. */
const secrets = new Map<TestApp, string>();
/** Jobs of `traced-job` that ran, by app. */
const ran = new Map<TestApp, string[]>();

const spans = () => exporter.getFinishedSpans();
const byId = (id: string | undefined) => spans().find((s) => s.spanContext().spanId === id);
const parentOf = (s: ReadableSpan) => byId(s.parentSpanContext?.spanId);
const jobSpans = (name: string) => spans().filter((s) => s.name === `job ${name}`);

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The `trace` column of the job `id`, read straight from `_jobs`. */
async function storedTrace(app: TestApp, id: string): Promise<string | null> {
  const rows = await app.app.db.rows<{ trace: string | null }>(sql`SELECT ${sql.id('trace')} FROM ${sql.id('_jobs')} WHERE ${sql.id('id')} = ${id}`);
  expect(rows).toHaveLength(1);
  return rows[0]!.trace;
}

async function jobIdsNamed(app: TestApp, name: string): Promise<{ id: string; trace: string | null }[]> {
  return app.app.db.rows<{ id: string; trace: string | null }>(sql`SELECT ${sql.id('id')}, ${sql.id('trace')} FROM ${sql.id('_jobs')} WHERE ${sql.id('name')} = ${name} ORDER BY ${sql.id('id')}`);
}

async function setUp(name: string, withTracing: boolean): Promise<TestApp> {
  const config: Partial<Config> = {
    webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${port}`], retryScheduleMs: [100], timeoutMs: 2000 },
    jobs: { pollIntervalMs: 200, shutdownGraceMs: 1000, completedRetentionMs: 60_000, failedRetentionMs: 60_000 },
  };
  const app = await startTestApp({ config, deps: withTracing ? { tracing } : {} });
  const admin = (await createSuperuser(app)).token;
  await createCollection(app, { name: 'orders', fields: [{ name: 'title', type: 'text' }], createRule: '', viewRule: '' });
  await createCollection(app, { name: 'notes', fields: [{ name: 'text', type: 'text' }], createRule: '' });
  const endpoint = await send(app, 'POST', '/api/webhooks', { auth: admin, body: { url: `http://127.0.0.1:${port}/${name}`, collections: ['orders'], actions: ['create'] } });
  expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(200);
  secrets.set(app, endpoint.body.secret);
  ran.set(app, []);
  app.app.jobs.define('traced-job', async (job) => {
    // A statement of the job's own: a child of the job's span.
    await app.app.db.rows(sql`SELECT 1 AS ${sql.id('one')}`);
    ran.get(app)!.push(job.id);
  });
  addHooks(app, (hooks) => {
    // A before-hook enqueues in the write's transaction.
    hooks.onRecordCreate(async (e) => {
      await e.next();
      await e.app.jobs.enqueue('traced-job', { note: e.record.getString('text') });
    }, 'notes');
    hooks.routerAdd('POST', '/api/test/enqueue', async (e) => {
      const job = await e.app.jobs.enqueue('traced-job', { from: 'route' });
      return { id: job.id };
    });
  });
  return app;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
  t = await setUp('on', true);
  off = await setUp('off', false);
});

afterAll(async () => {
  await t?.close();
  await off?.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

beforeEach(() => exporter.reset());

describe('webhook deliveries', () => {
  it('continue the trace of the write: request → transaction → job → outgoing POST, and the receiver gets its traceparent', async () => {
    const pb = new PocketBase(await listenOnLoopback(t));
    const order = await pb.collection('orders').create({ title: 'traced' });
    await until(() => received.some((r) => r.path === '/on' && r.body.includes(order.id)), 'the delivery');
    await until(() => jobSpans(DELIVERY_JOB).length > 0, 'the delivery job span');

    const request = spans().find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /api/collections/:collection/records')!;
    expect(request).toBeDefined();
    const traceId = request.spanContext().traceId;
    const job = jobSpans(DELIVERY_JOB)[0]!;
    // The job's parent is the write's transaction, inside the request.
    const tx = parentOf(job)!;
    expect(tx.name).toBe('TRANSACTION');
    expect(parentOf(tx)).toBe(request);
    expect(job.spanContext().traceId).toBe(traceId);
    expect(job.kind).toBe(SpanKind.CONSUMER);
    expect(job.attributes).toMatchObject({ 'messaging.system': 'basalt', 'messaging.operation.type': 'process', 'messaging.destination.name': DELIVERY_JOB, 'basalt.job.attempt': 1 });

    // The outgoing POST is the job's child, and its span is the parent the receiver is told of.
    const post = spans().find((s) => s.kind === SpanKind.CLIENT && s.name === 'POST' && s.parentSpanContext?.spanId === job.spanContext().spanId)!;
    expect(post).toBeDefined();
    expect(post.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200, 'url.full': `http://127.0.0.1:${port}/on` });
    const delivery = received.find((r) => r.path === '/on' && r.body.includes(order.id))!;
    expect(delivery.headers.traceparent).toBe(`00-${traceId}-${post.spanContext().spanId}-01`);

    // The header is outside what is signed: the signature still verifies.
    const event = new Webhook(secrets.get(t)!).verify(delivery.body, {
      'webhook-id': String(delivery.headers['webhook-id']),
      'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
      'webhook-signature': String(delivery.headers['webhook-signature']),
    }) as { data: { record: { id: string } } };
    expect(event.data.record.id).toBe(order.id);

    // The job row keeps the transaction's context.
    const jobId = String(job.attributes['messaging.message.id']);
    expect(await storedTrace(t, jobId)).toBe(`00-${traceId}-${tx.spanContext().spanId}-01`);
  });
});

describe('jobs', () => {
  it('a job enqueued by a hook in the write runs under the request that wrote', async () => {
    const res = await send(t, 'POST', '/api/collections/notes/records', { body: { text: 'from a hook' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await until(() => jobSpans('traced-job').length > 0, 'the job span');
    const job = jobSpans('traced-job')[0]!;
    const request = spans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(job.spanContext().traceId).toBe(request.spanContext().traceId);
    // request → TRANSACTION (the hook ran in it) → job → the job's own statement.
    expect(parentOf(job)!.name).toBe('TRANSACTION');
    expect(parentOf(parentOf(job)!)).toBe(request);
    await until(() => spans().some((s) => s.parentSpanContext?.spanId === job.spanContext().spanId), 'the job statement span');
    const statement = spans().find((s) => s.parentSpanContext?.spanId === job.spanContext().spanId)!;
    expect(statement.attributes['db.operation.name']).toBe('SELECT');
  });

  it('a job enqueued by a custom route is a child of the request span, and carries its tracestate', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await send(t, 'POST', '/api/test/enqueue', { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01`, tracestate: 'vendor=opaque' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const id = String(res.body.id);
    await until(() => ran.get(t)!.includes(id) && jobSpans('traced-job').length > 0, 'the job');
    const request = spans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(request.spanContext().traceId).toBe(traceId);
    // Custom routes are served outside Fastify's route table: the span still gets their pattern.
    expect(request.name).toBe('POST /api/test/enqueue');
    expect(request.attributes['http.route']).toBe('/api/test/enqueue');
    const job = jobSpans('traced-job')[0]!;
    expect(job.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(job.spanContext().traceId).toBe(traceId);
    expect(job.spanContext().traceState?.serialize()).toBe('vendor=opaque');
    expect(job.attributes['messaging.message.id']).toBe(id);
    expect(await storedTrace(t, id)).toBe(`00-${traceId}-${request.spanContext().spanId}-01 vendor=opaque`);
  });

  it('a job enqueued outside any span stores no context and starts a trace of its own', async () => {
    const job = await t.app.jobs.enqueue('traced-job', { from: 'outside' });
    await until(() => ran.get(t)!.includes(job.id) && jobSpans('traced-job').length > 0, 'the job');
    expect(await storedTrace(t, job.id)).toBeNull();
    const span = jobSpans('traced-job')[0]!;
    expect(span.parentSpanContext).toBeUndefined();
    // The job API does not show the column.
    expect(Object.keys(job)).not.toContain('trace');
  });

  it('a stored context that does not parse starts a new trace instead of failing the job', async () => {
    const job = await t.app.jobs.enqueue('traced-job', { from: 'garbled' }, { delay: 60_000 });
    // Due now, with a context written by hand: the worker's next poll (200 ms) takes it.
    await t.app.db.rows(sql`UPDATE ${sql.id('_jobs')} SET ${sql.id('trace')} = ${'not a traceparent'}, ${sql.id('runAt')} = ${''} WHERE ${sql.id('id')} = ${job.id}`);
    await until(() => ran.get(t)!.includes(job.id), 'the garbled job');
    await until(() => jobSpans('traced-job').some((s) => s.attributes['messaging.message.id'] === job.id), 'its span');
    const span = jobSpans('traced-job').find((s) => s.attributes['messaging.message.id'] === job.id)!;
    expect(span.parentSpanContext).toBeUndefined();
  });
});

describe('background work', () => {
  it("the worker's polls, the outbox relay's sweeps and the stored logs' flushes record no spans of their own", async () => {
    // Polls and sweeps run every 200 ms here; each would otherwise be a trace of one statement
    // (PostgreSQL). The requests of the tests before left log entries whose flush comes now.
    await new Promise((r) => setTimeout(r, 700));
    expect(spans().map((s) => [s.name, s.attributes['db.query.text']])).toEqual([]);
  });
});

describe('with tracing off', () => {
  it('jobs and outbox rows store NULL, and deliveries send no traceparent even when the request had one', async () => {
    const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    const order = await send(off, 'POST', '/api/collections/orders/records', { body: { title: 'untraced' }, headers });
    expect(order.status).toBe(200);
    const note = await send(off, 'POST', '/api/collections/notes/records', { body: { text: 'untraced' }, headers });
    expect(note.status).toBe(200);
    const routed = await send(off, 'POST', '/api/test/enqueue', { headers });
    expect(routed.status).toBe(200);
    await until(() => received.some((r) => r.path === '/off' && r.body.includes(String(order.body.id))), 'the delivery');
    await until(() => ran.get(off)!.includes(String(routed.body.id)), 'the routed job');
    const delivery = received.find((r) => r.path === '/off' && r.body.includes(String(order.body.id)))!;
    expect(delivery.headers.traceparent).toBeUndefined();
    expect(delivery.headers.tracestate).toBeUndefined();
    const jobs = [...(await jobIdsNamed(off, DELIVERY_JOB)), ...(await jobIdsNamed(off, 'traced-job'))];
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    for (const job of jobs) expect(job.trace).toBeNull();
    expect(off.app.tracing).toBeNull();
  });
});
