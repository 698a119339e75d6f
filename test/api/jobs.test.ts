/**
 * The durable job queue (issue 10 §2): transactional enqueue, retries with backoff and the dead
 * letter, de-duplication keys, timeouts, cancel and retry, bad input, the superuser API, shutdown
 * grace and wake-up latency. Runs on the engine of BASALT_TEST_DB.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { transact } from '../../src/core/events/transaction.js';
import { JobInputError } from '../../src/core/jobs/job-options.js';
import type { JobContext } from '../../src/core/jobs/job-types.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { createAuthRecord, createCollection, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const tok: Record<string, string> = {};
const ids: Record<string, string> = {};

/** Polls `check` (real time) until it holds or `ms` pass. */
async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const stateOf = async (id: string) => (await t.app.jobs.view(id)).state;

/** A latch a test opens when it wants a blocked handler to finish. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

beforeAll(async () => {
  t = await startTestApp({ config: { jobs: { pollIntervalMs: 500, shutdownGraceMs: 2000, completedRetentionMs: 60_000, failedRetentionMs: 120_000 } } });
  tok.su = (await createSuperuser(t)).token;
  tok.user = (await createAuthRecord(t, 'users', { email: 'user@example.com' })).token;
  await createCollection(t, { name: 'orders', fields: [{ name: 'total', type: 'number' }] });
});

afterAll(async () => {
  await t?.close();
});

describe('enqueue inside a transaction', () => {
  const ran: string[] = [];
  beforeAll(() => {
    t.app.jobs.define('receipt', async (job: JobContext<{ order: string }>) => {
      ran.push(job.payload.order);
    });
  });

  it('commits with the business write and then runs', async () => {
    const orders = t.app.registry.find('orders')!;
    const jobId = await transact(t.app.db, async (tx) => {
      const order = await t.app.records.writer.create(orders, { data: { total: 5 } }, systemCaller(), tx);
      const job = await t.app.jobs.enqueue('receipt', { order: order.values.id }, {}, tx);
      ids.order = String(order.values.id);
      return job.id;
    });
    await until(() => ran.includes(ids.order), 5000, 'the receipt job');
    await until(async () => (await stateOf(jobId)) === 'completed', 5000, 'completed state');
    const job = await t.app.jobs.view(jobId);
    expect(job).toMatchObject({ name: 'receipt', state: 'completed', attempts: 1, payload: { order: ids.order }, lockedBy: '', lockedUntil: '' });
    expect(job.finished).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('rolls back with it: no job row, the handler never runs', async () => {
    const orders = t.app.registry.find('orders')!;
    let jobId = '';
    await expect(
      transact(t.app.db, async (tx) => {
        await t.app.records.writer.create(orders, { data: { total: 7 } }, systemCaller(), tx);
        jobId = (await t.app.jobs.enqueue('receipt', { order: 'rolled-back' }, {}, tx)).id;
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(jobId).not.toBe('');
    await new Promise((r) => setTimeout(r, 100));
    await expect(t.app.jobs.view(jobId)).rejects.toMatchObject({ status: 404 });
    expect(ran).not.toContain('rolled-back');
  });
});

describe('retries and the dead letter', () => {
  it('retries with backoff, then keeps the job as failed with its error and stack', async () => {
    const attempts: number[] = [];
    t.app.jobs.define(
      'flaky',
      async (job) => {
        attempts.push(job.attempt);
        throw new Error(`boom ${job.attempt}`);
      },
      { maxAttempts: 3, backoff: { baseMs: 20, maxMs: 40 } },
    );
    const job = await t.app.jobs.enqueue('flaky', { n: 1 });
    await until(async () => (await stateOf(job.id)) === 'failed', 5000, 'the dead letter');
    const failed = await t.app.jobs.view(job.id);
    expect(attempts).toEqual([1, 2, 3]);
    expect(failed).toMatchObject({ state: 'failed', attempts: 3, maxAttempts: 3, lastError: 'boom 3' });
    expect(failed.lastStack).toContain('Error: boom 3');
    ids.failed = job.id;
  });

  it('a retry through the API brings it back to queued with fresh attempts', async () => {
    const res = await send(t, 'POST', `/api/jobs/${ids.failed}/retry`, { auth: tok.su });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({ id: ids.failed, state: 'queued', attempts: 0, finished: '' });
    await until(async () => (await stateOf(ids.failed)) === 'failed', 5000, 'failing again');
    expect((await t.app.jobs.view(ids.failed)).attempts).toBe(3);
  });

  it('a succeeding retry completes', async () => {
    let calls = 0;
    t.app.jobs.define(
      'second-time-lucky',
      async () => {
        if (++calls === 1) throw new Error('not yet');
      },
      { maxAttempts: 2, backoff: () => 10 },
    );
    const job = await t.app.jobs.enqueue('second-time-lucky', null);
    await until(async () => (await stateOf(job.id)) === 'completed', 5000, 'completion');
    expect((await t.app.jobs.view(job.id)).attempts).toBe(2);
    expect((await t.app.jobs.view(job.id)).lastError).toBe('not yet');
  });
});
