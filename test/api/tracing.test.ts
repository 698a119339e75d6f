/**
 * OpenTelemetry tracing (README "Tracing"): the tracer provider is injected through the app's
 * deps with an in-memory exporter, so each test reads the spans Basalt produced. Runs on the
 * engine of BASALT_TEST_DB.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createOtelTracing } from '../../src/adapters/otel-tracing.js';
import { createGuardedPost } from '../../src/adapters/guarded-fetch.js';
import { tracingConfigFromEnv } from '../../src/cli/tracing-config.js';
import { startTracing } from '../../src/cli/start-tracing.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { createCollection, createRecord } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracing = createOtelTracing(provider);
let t: TestApp;
let off: TestApp;
let recordId = '';

const spans = () => exporter.getFinishedSpans();
const serverSpans = () => spans().filter((s) => s.kind === SpanKind.SERVER);
const childrenOf = (parent: ReadableSpan) => spans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
const dbSystem = (engine: string) => (engine === 'postgres' ? 'postgresql' : 'sqlite');

beforeAll(async () => {
  t = await startTestApp({ deps: { tracing } });
  off = await startTestApp();
  for (const app of [t, off]) await createCollection(app, { name: 'posts', fields: [{ name: 'title', type: 'text' }], listRule: '', viewRule: '', createRule: '' });
  recordId = String((await createRecord(t, 'posts', { title: 'hello' })).values.id);
});

afterAll(async () => {
  await t?.close();
  await off?.close();
});

beforeEach(() => exporter.reset());

describe('request spans', () => {
  it('a request is one SERVER span named after its route, with the HTTP attributes and database children', async () => {
    const res = await send(t, 'GET', `/api/collections/posts/records?filter=${encodeURIComponent("title = 'hello'")}&token=secret`);
    expect(res.status).toBe(200);
    const [server] = serverSpans();
    expect(serverSpans()).toHaveLength(1);
    expect(server!.name).toBe('GET /api/collections/:collection/records');
    expect(server!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/collections/:collection/records',
      'http.response.status_code': 200,
      'url.path': '/api/collections/posts/records',
      'client.address': '127.0.0.1',
    });
    // The query string (tokens, codes) is never recorded.
    expect(JSON.stringify(server!.attributes)).not.toContain('secret');
    expect(server!.status.code).not.toBe(SpanStatusCode.ERROR);
    const db = childrenOf(server!);
    expect(db.length).toBeGreaterThan(0);
    for (const s of db) {
      expect(s.kind).toBe(SpanKind.CLIENT);
      expect(s.attributes['db.system']).toBe(dbSystem(t.engine));
      expect(s.attributes['db.operation.name']).toBe('SELECT');
      // Parameterised: the filter's value is a parameter, never in the recorded text.
      expect(JSON.stringify(s.attributes)).not.toContain('hello');
    }
  });

  it('a write gets a TRANSACTION span under the request span', async () => {
    const res = await send(t, 'POST', '/api/collections/posts/records', { body: { title: 'second' } });
    expect(res.status).toBe(200);
    const [server] = serverSpans();
    const tx = childrenOf(server!).filter((s) => s.name === 'TRANSACTION');
    expect(tx).toHaveLength(1);
    expect(tx[0]!.attributes).toMatchObject({ 'db.system': dbSystem(t.engine), 'db.operation.name': 'TRANSACTION' });
  });

  it('an incoming traceparent is continued', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await send(t, 'GET', `/api/collections/posts/records/${recordId}`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(res.status).toBe(200);
    const [server] = serverSpans();
    expect(server!.spanContext().traceId).toBe(traceId);
    expect(server!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('a malformed traceparent starts a new trace instead of failing the request', async () => {
    const res = await send(t, 'GET', `/api/collections/posts/records/${recordId}`, { headers: { traceparent: 'not-a-traceparent' } });
    expect(res.status).toBe(200);
    expect(serverSpans()).toHaveLength(1);
    expect(serverSpans()[0]!.parentSpanContext).toBeUndefined();
  });

  it('4xx answers are not span errors; unmatched routes are named by method only', async () => {
    const res = await send(t, 'GET', '/api/collections/nope/records');
    expect(res.status).toBe(404);
    expect(serverSpans()[0]!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(serverSpans()[0]!.attributes['http.response.status_code']).toBe(404);
    exporter.reset();
    await send(t, 'GET', '/no/such/route');
    expect(serverSpans()[0]!.name).toBe('GET');
  });

  it('with tracing off nothing is recorded', async () => {
    const res = await send(off, 'GET', '/api/collections/posts/records');
    expect(res.status).toBe(200);
    expect(off.app.tracing).toBeNull();
    expect(spans()).toHaveLength(0);
  });
});

describe('outgoing requests', () => {
  let receiver: Server;
  let port = 0;
  const received: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('carry the traceparent of the active span, in a CLIENT span of the same trace', async () => {
    const post = createGuardedPost({ trustedHosts: new Set([`127.0.0.1:${port}`]), tracing });
    let traceId = '';
    await tracing.inSpan('parent', {}, async (span) => {
      traceId = span.spanContext().traceId;
      const answer = await post(`http://127.0.0.1:${port}/hook?sig=secret`, { 'content-type': 'application/json' }, '{}');
      expect(answer.status).toBe(200);
    });
    const header = String(received.at(-1)!.traceparent);
    expect(header).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const client = spans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(header.split('-')[2]).toBe(client.spanContext().spanId);
    expect(client.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200, 'url.full': `http://127.0.0.1:${port}/hook` });
  });

  it('without tracing send no traceparent', async () => {
    const post = createGuardedPost({ trustedHosts: new Set([`127.0.0.1:${port}`]) });
    await post(`http://127.0.0.1:${port}/hook`, {}, '{}');
    expect(received.at(-1)!.traceparent).toBeUndefined();
  });
});

describe('configuration from OTEL_* variables', () => {
  const cases: [string, NodeJS.ProcessEnv, boolean][] = [
    ['nothing set: off', {}, false],
    ['an OTLP endpoint: on', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    ['a traces endpoint: on', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    ['OTEL_TRACES_EXPORTER=otlp: on', { OTEL_TRACES_EXPORTER: 'otlp' }, true],
    ['OTEL_TRACES_EXPORTER=none wins over an endpoint', { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    ['OTEL_SDK_DISABLED=true wins', { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    ['only a service name: off', { OTEL_SERVICE_NAME: 'api' }, false],
  ];
  it.each(cases)('%s', (_name, env, enabled) => {
    expect(tracingConfigFromEnv(env).enabled).toBe(enabled);
  });

  it('builds the traces URL, the service name and the sampler', () => {
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/', OTEL_SERVICE_NAME: 'api', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toEqual({
      enabled: true,
      exporter: 'otlp',
      url: 'http://127.0.0.1:4318/v1/traces',
      serviceName: 'api',
      sampler: { kind: 'traceidratio', ratio: 0.25, parentBased: true },
    });
    expect(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ url: 'http://localhost:4318/v1/traces', serviceName: 'basalt', sampler: { kind: 'always_on', parentBased: true } });
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: 'jaeger' }, /OTEL_TRACES_EXPORTER/],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER/],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, /between 0 and 1/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector' }, /http/],
  ])('refuses %j at start-up', (env, message) => {
    expect(() => tracingConfigFromEnv(env)).toThrow(message);
  });

  it('off: startTracing gives no tracing', async () => {
    expect(await startTracing({})).toBeNull();
    expect(await startTracing({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBeNull();
  });
});
