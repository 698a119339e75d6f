/**
 * The durable job queue (issue 10 §2): transactional enqueue, retries with backoff and the dead
 * letter, de-duplication keys, timeouts, cancel and retry, bad input, the superuser API, shutdown
 * grace and wake-up latency. Runs on the engine of BASALT_TEST_DB.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAdapters } from '../../src/adapters/local-adapters.js';
import { createApp, type App } from '../../src/core/app.js';
import { defaultConfig, type JobsConfig } from '../../src/core/config.js';
import { transact } from '../../src/core/events/transaction.js';
import { JobInputError } from '../../src/core/jobs/job-options.js';
import type { JobContext } from '../../src/core/jobs/job-types.js';
import { silentLogger } from '../../src/core/ports.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { createDatabase } from '../../src/db/create-database.js';
import { createAuthRecord, createCollection, createSuperuser } from '../harness/fixtures.js';
import { ManualClock } from '../harness/manual-clock.js';
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

const JOBS: JobsConfig = { pollIntervalMs: 500, shutdownGraceMs: 2000, completedRetentionMs: 60_000, failedRetentionMs: 120_000 };

/** Another node on the same database as `t` (SQLite: the same file; PostgreSQL: the same database). */
async function openNode(jobs: Partial<JobsConfig> = {}): Promise<App> {
  const config = defaultConfig({ ...t.config, jobs: { ...JOBS, ...jobs } });
  const db = await createDatabase(
    t.engine === 'postgres' ? { type: 'postgres', url: t.config.databaseUrl, maxConnections: 3 } : { type: 'sqlite', file: join(t.config.dataDir, 'data.db'), readWorkers: 0 },
  );
  return createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
}

beforeAll(async () => {
  t = await startTestApp({ config: { jobs: JOBS } });
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

describe('de-duplication keys', () => {
  beforeAll(() => t.app.jobs.define('digest', async () => {}));

  it('a second enqueue with the key of a pending job returns that job', async () => {
    const first = await t.app.jobs.enqueue('digest', { v: 1 }, { key: 'digest:alice', delay: 60_000 });
    const second = await t.app.jobs.enqueue('digest', { v: 2 }, { key: 'digest:alice' });
    expect(second.id).toBe(first.id);
    expect(second.payload).toEqual({ v: 1 });
    // Concurrent enqueues with one key: still one job.
    const many = await Promise.all(Array.from({ length: 5 }, () => t.app.jobs.enqueue('digest', {}, { key: 'digest:bob', delay: 60_000 })));
    expect(new Set(many.map((j) => j.id)).size).toBe(1);
    const list = await send(t, 'GET', `/api/jobs?filter=${encodeURIComponent("key ~ 'digest:'")}`, { auth: tok.su });
    expect(list.body.totalItems).toBe(2);
  });

  it('once the job is no longer pending, the key is free again', async () => {
    const first = await t.app.jobs.enqueue('digest', {}, { key: 'digest:carol', delay: 60_000 });
    await t.app.jobs.cancel(first.id);
    const next = await t.app.jobs.enqueue('digest', {}, { key: 'digest:carol', delay: 60_000 });
    expect(next.id).not.toBe(first.id);
    // Retrying the cancelled one would give the key two pending jobs: refused.
    const res = await send(t, 'POST', `/api/jobs/${first.id}/retry`, { auth: tok.su });
    expect(res.status, res.raw).toBe(400);
    expect(res.body.message).toContain('same key');
  });
});

describe('bad input: a clear error, nothing written', () => {
  const countJobs = async () => (await t.app.jobs.stats()).total;

  it('enqueue of a job name not defined on this node', async () => {
    await expect(t.app.jobs.enqueue('nope', {})).rejects.toThrow(/unknown job "nope".*define it/);
    await expect(t.app.jobs.enqueue('nope', {})).rejects.toBeInstanceOf(JobInputError);
  });

  it('payloads JSON cannot carry', async () => {
    const before = await countJobs();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [unknown, RegExp][] = [
      [undefined, /undefined/],
      [10n, /BigInt/],
      [{ deep: { n: 1n } }, /payload key "n" is a BigInt/],
      [cyclic, /not JSON-serialisable/],
      [() => 1, /function/],
      [{ f: () => 1 }, /payload key "f" is a function/],
      [{ n: NaN }, /NaN/],
      [{ n: Infinity }, /Infinity/],
      [Symbol('x'), /symbol/],
    ];
    for (const [payload, message] of cases) {
      await expect(t.app.jobs.enqueue('digest', payload), String(message)).rejects.toThrow(message);
    }
    expect(await countJobs()).toEqual(before);
  });

  it('invalid enqueue options', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ delay: -1 }, /delay/],
      [{ delay: 1.5 }, /delay/],
      [{ delay: 10, runAt: Date.now() }, /not both/],
      [{ runAt: new Date('nope') }, /runAt/],
      [{ runAt: 'tomorrow' }, /runAt/],
      [{ priority: 1.5 }, /priority/],
      [{ key: '' }, /key/],
      [{ key: 'x'.repeat(300) }, /key/],
      [{ maxAttempts: 0 }, /maxAttempts/],
      [{ delayMs: 10 }, /unknown enqueue option "delayMs"/],
    ];
    for (const [options, message] of bad) await expect(t.app.jobs.enqueue('digest', {}, options as any)).rejects.toThrow(message);
    await expect(t.app.jobs.enqueue('digest', {}, 'soon' as any)).rejects.toThrow(/options must be an object/);
  });

  it('invalid definitions', () => {
    const ok = async () => {};
    expect(() => t.app.jobs.define('digest', ok)).toThrow(/already defined/);
    expect(() => t.app.jobs.define('a b', ok)).toThrow(/job name "a b" is invalid/);
    expect(() => t.app.jobs.define('', ok)).toThrow(/invalid/);
    expect(() => t.app.jobs.define('x1', 'handler' as any)).toThrow(/handler must be a function/);
    expect(() => t.app.jobs.define('x2', ok, { concurrency: -1 })).toThrow(/concurrency/);
    expect(() => t.app.jobs.define('x3', ok, { maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => t.app.jobs.define('x4', ok, { timeout: -5 })).toThrow(/timeout/);
    expect(() => t.app.jobs.define('x5', ok, { backoff: { baseMs: -1 } })).toThrow(/baseMs/);
    expect(() => t.app.jobs.define('x6', ok, { backoff: { baseMs: 100, maxMs: 10 } })).toThrow(/maxMs/);
    expect(() => t.app.jobs.define('x7', ok, { retries: 3 } as any)).toThrow(/unknown job definition option "retries"/);
    for (const name of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']) expect(t.app.jobs.isDefined(name)).toBe(false);
  });
});

describe('timeouts and cancel', () => {
  it('a timeout aborts the signal and counts as a failed attempt', async () => {
    let reason: unknown = null;
    t.app.jobs.define(
      'sleepy',
      async (job) => {
        await new Promise<void>((_resolve, reject) =>
          job.signal.addEventListener('abort', () => {
            reason = job.signal.reason;
            reject(job.signal.reason);
          }),
        );
      },
      { timeout: 100, maxAttempts: 1 },
    );
    const job = await t.app.jobs.enqueue('sleepy', {});
    await until(async () => (await stateOf(job.id)) === 'failed', 5000, 'the timeout');
    const failed = await t.app.jobs.view(job.id);
    expect(failed.lastError).toBe('job "sleepy" timed out after 100 ms');
    expect(failed.attempts).toBe(1);
    expect((reason as Error | null)?.name).toBe('JobTimeoutError');
  });

  it('cancel: a queued job is cancelled; a running one gets its signal aborted and ends cancelled', async () => {
    let seen: unknown = null;
    const started = latch();
    t.app.jobs.define('long', async (job) => {
      started.open();
      await new Promise<void>((resolve) =>
        job.signal.addEventListener('abort', () => {
          seen = job.signal.reason;
          resolve(); // returns normally: the cancel must still win
        }),
      );
    });
    const queued = await t.app.jobs.enqueue('long', {}, { delay: 60_000 });
    const cancelled = await send(t, 'POST', `/api/jobs/${queued.id}/cancel`, { auth: tok.su });
    expect(cancelled.status, cancelled.raw).toBe(200);
    expect(cancelled.body).toMatchObject({ id: queued.id, state: 'cancelled' });
    const again = await send(t, 'POST', `/api/jobs/${queued.id}/cancel`, { auth: tok.su });
    expect(again.status).toBe(400);
    expect(again.body.message).toContain('cancelled');

    const running = await t.app.jobs.enqueue('long', {});
    await started.opened;
    expect(await stateOf(running.id)).toBe('running');
    const res = await send(t, 'POST', `/api/jobs/${running.id}/cancel`, { auth: tok.su });
    expect(res.status, res.raw).toBe(200);
    await until(() => seen !== null, 2000, 'the abort');
    expect((seen as Error).name).toBe('JobCancelledError');
    await new Promise((r) => setTimeout(r, 50));
    expect(await stateOf(running.id)).toBe('cancelled');
    // Retried, the job runs again (and is cancelled again here to leave nothing running).
    const retried = await send(t, 'POST', `/api/jobs/${queued.id}/retry`, { auth: tok.su });
    expect(retried.body).toMatchObject({ state: 'queued', attempts: 0 });
    await until(async () => (await stateOf(queued.id)) === 'running', 2000, 'the retried job');
    await t.app.jobs.cancel(queued.id);
  });
});

describe('superuser API', () => {
  runScenarios(() => t, [
    { name: 'list as a guest', method: 'GET', url: '/api/jobs', status: 401 },
    { name: 'list as a user', method: 'GET', url: '/api/jobs', auth: () => tok.user, status: 403 },
    { name: 'stats as a user', method: 'GET', url: '/api/jobs/stats', auth: () => tok.user, status: 403 },
    { name: 'cancel as a guest', method: 'POST', url: () => `/api/jobs/${ids.failed}/cancel`, status: 401 },
    { name: 'retry as a user', method: 'POST', url: () => `/api/jobs/${ids.failed}/retry`, auth: () => tok.user, status: 403 },
    {
      name: 'list, filtered and sorted',
      method: 'GET',
      url: `/api/jobs?filter=${encodeURIComponent("state = 'failed' && name = 'flaky'")}&sort=-created,priority`,
      auth: () => tok.su,
      status: 200,
      expect: { page: 1, perPage: 30, totalItems: 1, totalPages: 1, items: [{ name: 'flaky', state: 'failed', attempts: 3 }] },
    },
    { name: 'a huge perPage is capped', method: 'GET', url: '/api/jobs?perPage=100000000', auth: () => tok.su, status: 200, expect: { perPage: 1000 } },
    { name: 'skipTotal', method: 'GET', url: '/api/jobs?skipTotal=1', auth: () => tok.su, status: 200, expect: { totalItems: -1, totalPages: -1 } },
    { name: 'a bad page', method: 'GET', url: '/api/jobs?page=abc', auth: () => tok.su, status: 400 },
    { name: 'a malformed filter', method: 'GET', url: `/api/jobs?filter=${encodeURIComponent("state = 'x' &&")}`, auth: () => tok.su, status: 400 },
    { name: 'a filter on a column that is not listed', method: 'GET', url: `/api/jobs?filter=${encodeURIComponent("payload = 'x'")}`, auth: () => tok.su, status: 400 },
    { name: 'a filter reaching another table', method: 'GET', url: `/api/jobs?filter=${encodeURIComponent("@collection.users.email = 'x'")}`, auth: () => tok.su, status: 400 },
    { name: 'an expensive filter', method: 'GET', url: `/api/jobs?filter=${encodeURIComponent(Array(300).fill("name ~ 'a'").join(' || '))}`, auth: () => tok.su, status: 400 },
    { name: 'an unknown sort field', method: 'GET', url: '/api/jobs?sort=payload', auth: () => tok.su, status: 400 },
    { name: 'view a failed job', method: 'GET', url: () => `/api/jobs/${ids.failed}`, auth: () => tok.su, status: 200, expect: { state: 'failed', lastError: 'boom 3' } },
    { name: 'view a missing job', method: 'GET', url: '/api/jobs/nosuchjob000000', auth: () => tok.su, status: 404 },
    { name: 'view with a hostile id', method: 'GET', url: `/api/jobs/${encodeURIComponent("x' OR '1'='1")}`, auth: () => tok.su, status: 404 },
    { name: 'view with a long id', method: 'GET', url: `/api/jobs/${'a'.repeat(90)}`, auth: () => tok.su, status: 404 },
    // Past the router's parameter limit (100 characters): refused before routing.
    { name: 'view with a huge id', method: 'GET', url: `/api/jobs/${'a'.repeat(5000)}`, auth: () => tok.su, status: 400 },
    { name: 'cancel a missing job', method: 'POST', url: '/api/jobs/nosuchjob000000/cancel', auth: () => tok.su, status: 404 },
    { name: 'retry a missing job', method: 'POST', url: '/api/jobs/nosuchjob000000/retry', auth: () => tok.su, status: 404 },
    { name: 'cancel a failed job', method: 'POST', url: () => `/api/jobs/${ids.failed}/cancel`, auth: () => tok.su, status: 400 },
    { name: 'cancel with a body of garbage', method: 'POST', url: () => `/api/jobs/${ids.failed}/cancel`, auth: () => tok.su, headers: { 'content-type': 'application/json' }, body: '{nope', status: 400 },
    {
      name: 'stats',
      method: 'GET',
      url: '/api/jobs/stats',
      auth: () => tok.su,
      status: 200,
      check: (body) => {
        expect(Object.keys(body.total).sort()).toEqual(['cancelled', 'completed', 'failed', 'queued', 'running']);
        expect(body.names.flaky.failed).toBe(1);
        expect(body.names.receipt.completed).toBe(1);
      },
    },
  ]);
});

describe('workers', () => {
  it('on an idle queue, a job enqueued starts within milliseconds (not at the next poll)', async () => {
    const starts: number[] = [];
    t.app.jobs.define('ping', async () => {
      starts.push(performance.now());
    });
    await new Promise((r) => setTimeout(r, 700)); // past a poll: the worker is asleep
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = performance.now();
      await t.app.jobs.enqueue('ping', { i });
      await until(() => starts.length > i, 2000, 'the ping');
      latencies.push(starts[i] - before);
      await new Promise((r) => setTimeout(r, 50));
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[2], `latencies ${latencies.map((l) => l.toFixed(1)).join(', ')} ms`).toBeLessThan(200);
  });

  it('shutdown: a running job finishes within the grace; one still running is released and retaken at the next start', async () => {
    const node = await openNode({ shutdownGraceMs: 400 });
    const quick = latch();
    const stuck = latch();
    let quickDone = false;
    node.jobs.define(
      'drain',
      async (job) => {
        if (job.payload.kind === 'quick') {
          quick.open();
          await new Promise((r) => setTimeout(r, 150));
          quickDone = true;
        } else {
          stuck.open();
          await new Promise(() => {}); // ignores its signal: still running at the end of the grace
        }
      },
      { concurrency: 2 },
    );
    const a = await node.jobs.enqueue('drain', { kind: 'quick' });
    const b = await node.jobs.enqueue('drain', { kind: 'stuck' });
    await Promise.all([quick.opened, stuck.opened]);
    const closing = performance.now();
    await node.close();
    expect(performance.now() - closing).toBeGreaterThanOrEqual(350);
    expect(quickDone).toBe(true);
    expect(await t.app.jobs.view(a.id)).toMatchObject({ state: 'completed', attempts: 1 });
    expect(await t.app.jobs.view(b.id)).toMatchObject({ state: 'queued', attempts: 0, lockedBy: '', lockedUntil: '' });

    const next = await openNode();
    try {
      const ran: string[] = [];
      next.jobs.define('drain', async (job) => {
        ran.push(job.id);
      });
      await until(async () => (await stateOf(b.id)) === 'completed', 5000, 'the released job');
      expect(ran).toEqual([b.id]);
      expect((await t.app.jobs.view(b.id)).attempts).toBe(1);
    } finally {
      await next.close();
    }
  });

  it('a job whose worker process was killed (kill -9) is taken again after its lease expires', async () => {
    const script = fileURLToPath(new URL('../harness/job-worker-child.ts', import.meta.url));
    const args = ['--import', 'tsx', script, t.config.dataDir, ...(t.engine === 'postgres' ? [t.config.databaseUrl] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const jobId = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /running (\w+) 1\n/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`the child exited (${code}) before running its job: ${stderr}`)));
    });
    const killed = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await killed;
    const view = await t.app.jobs.view(jobId);
    expect(view).toMatchObject({ state: 'running', attempts: 1 });
    expect(view.lockedUntil > view.updated).toBe(true);

    const taken: number[] = [];
    t.app.jobs.define(
      'blocker',
      async (job) => {
        taken.push(job.attempt);
      },
      { timeout: 1000, maxAttempts: 3 },
    );
    // The lease: 1 s timeout + 1 s margin from the claim.
    await until(async () => (await stateOf(jobId)) === 'completed', 6000, 'the retaken job');
    expect(taken).toEqual([2]);
    expect((await t.app.jobs.view(jobId)).lastError).toContain('lease expired');
  });
});

/** Moves the manual clock by `ms` in steps, letting real time pass between them (the worker's queries take some). */
async function passTime(clock: ManualClock, ms: number, step = 250): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await clock.advance(Math.min(step, ms - done));
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('time from the Clock: backoff and retention', () => {
  it('a retry waits for its backoff on the clock; pruning keeps failed jobs longer than completed ones', async () => {
    const clock = new ManualClock();
    const m = await startTestApp({ deps: { clock }, config: { jobs: { ...JOBS, completedRetentionMs: 60_000, failedRetentionMs: 600_000 } } });
    try {
      const attempts: number[] = [];
      m.app.jobs.define(
        'manual',
        async (job) => {
          attempts.push(job.attempt);
          if (job.payload.fail && job.attempt === 1) throw new Error('first try fails');
        },
        { maxAttempts: 2, backoff: { baseMs: 10_000, maxMs: 10_000 } },
      );
      const ok = await m.app.jobs.enqueue('manual', { fail: false });
      const flaky = await m.app.jobs.enqueue('manual', { fail: true });
      await until(async () => (await m.app.jobs.view(flaky.id)).state === 'queued' && (await m.app.jobs.view(flaky.id)).attempts === 1, 10_000, 'the first failure');
      await new Promise((r) => setTimeout(r, 100));
      expect(attempts.sort()).toEqual([1, 1]); // no retry before the clock moves
      await passTime(clock, 4_000);
      expect(attempts.length).toBe(2); // jitter keeps the delay within [5 s, 10 s]
      await passTime(clock, 6_250);
      await until(async () => (await m.app.jobs.view(flaky.id)).state === 'completed', 10_000, 'the retry');
      expect(attempts.length).toBe(3);

      const dead = await m.app.jobs.enqueue('manual', {}, { delay: 10 ** 9 });
      await m.app.jobs.cancel(dead.id);
      // The runner prunes by itself as the clock moves, so this prune may find its work done
      // (seen under load): what counts is what is left.
      await clock.advance(120_000);
      expect(await m.app.jobs.prune()).toBeLessThanOrEqual(2);
      await expect(m.app.jobs.view(ok.id)).rejects.toMatchObject({ status: 404 });
      await expect(m.app.jobs.view(flaky.id)).rejects.toMatchObject({ status: 404 });
      expect((await m.app.jobs.view(dead.id)).state).toBe('cancelled');
      await clock.advance(600_000);
      expect(await m.app.jobs.prune()).toBeLessThanOrEqual(1);
      await expect(m.app.jobs.view(dead.id)).rejects.toMatchObject({ status: 404 });
    } finally {
      await m.close();
    }
  });
});
