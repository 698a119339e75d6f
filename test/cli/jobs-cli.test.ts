/** `basalt jobs list|retry|cancel` on a SQLite data directory, through main() in-process. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAdapters } from '../../src/adapters/local-adapters.js';
import { createApp } from '../../src/core/app.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/ports.js';
import { createDatabase } from '../../src/db/create-database.js';
import { runMain } from '../harness/run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'basalt-jobs-cli-'));
let failedId = '';

beforeAll(async () => {
  const config = defaultConfig({ dataDir: dir, logLevel: 'silent' });
  const db = await createDatabase({ type: 'sqlite', file: join(dir, 'data.db') });
  const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
  app.jobs.define('report', async () => {
    throw new Error('the printer is on fire');
  }, { maxAttempts: 1 });
  failedId = (await app.jobs.enqueue('report', { page: 1 })).id;
  const end = Date.now() + 5000;
  while ((await app.jobs.view(failedId)).state !== 'failed') {
    if (Date.now() > end) throw new Error('the job did not fail');
    await new Promise((r) => setTimeout(r, 10));
  }
  await app.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('basalt jobs', () => {
  it('is listed in the help', async () => {
    const { out } = await runMain(['help']);
    expect(out).toContain('basalt jobs list');
    expect(out).toContain('basalt jobs retry|cancel ID');
  });

  it('list shows jobs with their state and last error; --filter narrows', async () => {
    const all = await runMain(['jobs', 'list', '--dir', dir]);
    expect(all.code, all.err).toBe(0);
    expect(all.out).toMatch(new RegExp(`${failedId}\\s+failed\\s+report\\s+attempts 1/1 .*the printer is on fire`));
    const none = await runMain(['jobs', 'list', '--dir', dir, '--filter', "state = 'queued'"]);
    expect(none.out).toContain('0 of 0 job(s)');
    const bad = await runMain(['jobs', 'list', '--dir', dir, '--filter=state ==']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('Invalid filter');
  });

  it('retry and cancel by id; clear errors for the wrong state or a missing job', async () => {
    const retried = await runMain(['jobs', 'retry', failedId, '--dir', dir]);
    expect(retried.code, retried.err).toBe(0);
    expect(retried.out).toContain('Queued again');
    const cancelled = await runMain(['jobs', 'cancel', failedId, '--dir', dir]);
    expect(cancelled.code, cancelled.err).toBe(0);
    expect(cancelled.out).toMatch(/Cancelled: .* cancelled/);
    const again = await runMain(['jobs', 'cancel', failedId, '--dir', dir]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('Only queued or running jobs can be cancelled');
    const missing = await runMain(['jobs', 'retry', 'nosuchjob000000', '--dir', dir]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no such job');
  });

  it('usage errors', async () => {
    expect((await runMain(['jobs'])).code).toBe(2);
    expect((await runMain(['jobs', 'retry', '--dir', dir])).code).toBe(2);
    expect((await runMain(['jobs', 'list', '--limit', '0', '--dir', dir])).code).toBe(2);
  });
});
