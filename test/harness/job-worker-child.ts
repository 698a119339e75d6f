/**
 * A worker process for the lease-expiry test (test/api/jobs.test.ts): opens the database given
 * on the command line (a SQLite file or a postgres:// URL), defines `blocker` with a short timeout
 * (so a short lease) whose handler never finishes, enqueues one, and prints `running <id>` once
 * the handler has started. The test then kills this process with SIGKILL.
 */
import { join } from 'node:path';
import { localAdapters } from '../../src/adapters/local-adapters.js';
import { createApp } from '../../src/core/app.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/ports.js';
import { createDatabase } from '../../src/db/create-database.js';

const [dataDir, databaseUrl] = process.argv.slice(2);
const config = defaultConfig({ dataDir, databaseUrl: databaseUrl ?? '', logLevel: 'silent' });
const db = await createDatabase(databaseUrl ? { type: 'postgres', url: databaseUrl, maxConnections: 2 } : { type: 'sqlite', file: join(dataDir, 'data.db'), readWorkers: 0 });
const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
app.jobs.define(
  'blocker',
  async (job) => {
    process.stdout.write(`running ${job.id} ${job.attempt}\n`);
    await new Promise(() => {}); // never ends: only SIGKILL stops this process
  },
  { timeout: 1000, maxAttempts: 3 },
);
await app.jobs.enqueue('blocker', { from: 'child' });
