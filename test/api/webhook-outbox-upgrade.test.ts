/**
 * The webhook outbox's table layout changed on SQLite (a WITHOUT ROWID table before, rowid-keyed
 * now: one page per insert instead of ~3). A data dir from before keeps the rows it holds: they
 * are moved into the new table at start-up and delivered.
 */
import BetterSqlite3 from 'better-sqlite3';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAdapters } from '../../src/adapters/local-adapters.js';
import { createApp } from '../../src/core/app.js';
import { DEFAULT_WEBHOOKS_CONFIG, defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/ports.js';
import { createDatabase } from '../../src/db/create-database.js';
import { ENGINE } from '../harness/engines.js';

let receiver: Server;
let port: number;
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

// SQLite only by nature: the PostgreSQL suite would run the same thing again.
describe.skipIf(ENGINE === 'postgres')('webhook outbox from an earlier layout (SQLite)', () => {
  it('is rebuilt at start-up with its rows, which are then delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-outbox-'));
    const file = join(dir, 'data.db');
    const config = defaultConfig({ dataDir: dir, databaseUrl: '', logLevel: 'silent', webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${port}`] } });
    try {
      // A first start makes every table and an endpoint; then the outbox is put back the way
      // the earlier version made it, holding one message.
      let app = await createApp(config, { db: await createDatabase({ type: 'sqlite', file }), logger: silentLogger, ...localAdapters(config) });
      await app.collections.create({ name: 'notes', fields: [{ name: 'title', type: 'text' }] });
      const endpoint = await app.webhooks.create({ url: `http://127.0.0.1:${port}/hook`, collections: ['notes'], actions: ['create'] });
      await app.close();
      const raw = new BetterSqlite3(file);
      const body = JSON.stringify({ type: 'record.created', timestamp: '2026-12-03T10:00:00.000Z', data: { collectionName: 'notes', record: { id: 'abcdefghijklmno', title: 'kept' } } });
      const job = { w: endpoint.id, m: 'msg_01JEXAMPLE0000000000000000', t: 'record.created', c: 'notes', r: 'abcdefghijklmno', b: body, at: '2026-12-03 10:00:00.000Z' };
      raw.exec('DROP TABLE "_webhookOutbox"; CREATE TABLE "_webhookOutbox" ("id" TEXT PRIMARY KEY NOT NULL, "job" TEXT DEFAULT \'\' NOT NULL) WITHOUT ROWID');
      raw.prepare('INSERT INTO "_webhookOutbox" (id, job) VALUES (?, ?)').run(job.m, JSON.stringify(job));
      raw.close();

      app = await createApp(config, { db: await createDatabase({ type: 'sqlite', file }), logger: silentLogger, ...localAdapters(config) });
      try {
        const deadline = Date.now() + 10_000;
        while (!received.includes(body) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(received).toContain(body);
      } finally {
        await app.close();
      }
      const check = new BetterSqlite3(file, { readonly: true });
      const ddl = (check.prepare(`SELECT sql FROM sqlite_master WHERE name = '_webhookOutbox'`).get() as { sql: string }).sql;
      check.close();
      expect(ddl).not.toMatch(/WITHOUT ROWID/i);
      expect(ddl).not.toMatch(/PRIMARY KEY/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
