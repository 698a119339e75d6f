/**
 * `_jobs.trace` and `_webhookOutbox.trace` (README "Tracing") came after the first layout of
 * those tables. A database from before gains both columns at start-up, keeps its rows, and runs
 * them: a queued job and an outbox row written without a span context run as traces of their own.
 * Runs on the engine of BASALT_TEST_DB.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createOtelTracing } from '../../src/adapters/otel-tracing.js';
import { localAdapters } from '../../src/adapters/local-adapters.js';
import { createApp } from '../../src/core/app.js';
import { DEFAULT_WEBHOOKS_CONFIG, defaultConfig } from '../../src/core/config.js';
import { silentLogger, type Database } from '../../src/core/ports.js';
import { DELIVERY_JOB } from '../../src/core/webhooks/outbox-relay.js';
import { createDatabase } from '../../src/db/create-database.js';
import { ENGINE } from '../harness/engines.js';
import { createPgDatabase } from '../harness/test-app.js';

let receiver: Server;
let port = 0;
const received: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  port = (receiver.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the trace columns on a database from before them', () => {
  it('are added at start-up; the rows written without them are run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-job-trace-'));
    const pgDb = ENGINE === 'postgres' ? await createPgDatabase() : null;
    const open = (): Promise<Database> => (pgDb ? createDatabase({ type: 'postgres', url: pgDb.url }) : createDatabase({ type: 'sqlite', file: join(dir, 'data.db') }));
    const config = defaultConfig({ dataDir: dir, databaseUrl: pgDb?.url ?? '', logLevel: 'silent', webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${port}`] } });
    try {
      // A first start makes every table and an endpoint.
      let app = await createApp(config, { db: await open(), logger: silentLogger, ...localAdapters(config) });
      await app.collections.create({ name: 'notes', fields: [{ name: 'title', type: 'text' }] });
      const endpoint = await app.webhooks.create({ url: `http://127.0.0.1:${port}/hook`, collections: ['notes'], actions: ['create'] });
      await app.close();

      // Then both tables are put back the way the earlier version made them, each holding a row.
      const raw = await open();
      await raw.query('ALTER TABLE "_jobs" DROP COLUMN "trace"', []);
      await raw.query('ALTER TABLE "_webhookOutbox" DROP COLUMN "trace"', []);
      const now = '2026-12-03 10:00:00.000Z';
      await raw.rows(sql`INSERT INTO ${sql.id('_jobs')} (${sql.id('id')}, ${sql.id('name')}, ${sql.id('payload')}, ${sql.id('maxAttempts')}, ${sql.id('created')}, ${sql.id('updated')}) VALUES (${'oldjob000000001'}, ${'old-job'}, ${'{"kept":true}'}, ${1}, ${now}, ${now})`);
      const body = JSON.stringify({ type: 'record.created', timestamp: '2026-12-03T10:00:00.000Z', data: { collectionName: 'notes', record: { id: 'abcdefghijklmno', title: 'kept' } } });
      const job = { w: endpoint.id, m: 'msg_01JEXAMPLE0000000000000001', t: 'record.created', c: 'notes', r: 'abcdefghijklmno', b: body, at: now };
      await raw.rows(sql`INSERT INTO ${sql.id('_webhookOutbox')} (${sql.id('id')}, ${sql.id('job')}) VALUES (${job.m}, ${JSON.stringify(job)})`);
      expect(await raw.schema.columnNames('_jobs')).not.toContain('trace');
      expect(await raw.schema.columnNames('_webhookOutbox')).not.toContain('trace');
      await raw.close();

      // The next start, with tracing on.
      const exporter = new InMemorySpanExporter();
      const tracing = createOtelTracing(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
      app = await createApp(config, { db: await open(), logger: silentLogger, ...localAdapters(config, tracing), tracing });
      try {
        expect(await app.db.schema.columnNames('_jobs')).toContain('trace');
        expect(await app.db.schema.columnNames('_webhookOutbox')).toContain('trace');
        const ran: unknown[] = [];
        app.jobs.define('old-job', async (j) => void ran.push(j.payload));
        await until(() => ran.length === 1 && received.includes(body), 'the old job and the old delivery');
        expect(ran).toEqual([{ kept: true }]);
        await until(() => exporter.getFinishedSpans().filter((s) => s.name.startsWith('job ')).length === 2, 'both job spans');
        // No stored context: each runs as a trace of its own.
        for (const name of ['job old-job', `job ${DELIVERY_JOB}`]) {
          const span = exporter.getFinishedSpans().find((s) => s.name === name)!;
          expect(span.parentSpanContext).toBeUndefined();
        }
        // New rows get the column.
        const id = await tracing.inSpan('enqueuer', {}, async () => (await app.jobs.enqueue('old-job', { fresh: true })).id);
        const [row] = await app.db.rows<{ trace: string | null }>(sql`SELECT ${sql.id('trace')} FROM ${sql.id('_jobs')} WHERE ${sql.id('id')} = ${id}`);
        expect(row!.trace).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      } finally {
        await app.close();
      }
    } finally {
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
