/**
 * Two nodes on one PostgreSQL database share the job queue: every job runs exactly once
 * (`FOR UPDATE SKIP LOCKED` claims), both nodes take part, and a job enqueued on one node wakes
 * an idle worker on the other through LISTEN/NOTIFY. PostgreSQL only (SQLite is one node).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transact } from '../../src/core/events/transaction.js';
import { ENGINE } from '../harness/engines.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

const JOBS = { pollIntervalMs: 5000, shutdownGraceMs: 2000, completedRetentionMs: 86_400_000, failedRetentionMs: 86_400_000 };
const TOTAL = 3000;

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(ENGINE !== 'postgres')('jobs on a cluster (PostgreSQL)', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await startTestApp({ config: { jobs: JOBS } });
    b = await startTestApp({ sameDatabaseAs: a, config: { jobs: JOBS } });
    // Each run counts itself: a second run of a job bumps `runs` past 1.
    await a.app.db.query('CREATE TABLE "job_runs" ("id" TEXT PRIMARY KEY, "node" TEXT NOT NULL, "runs" INTEGER NOT NULL DEFAULT 1)', []);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it(`${TOTAL} jobs on two nodes: every job runs exactly once`, async () => {
    for (const [node, t] of [['a', a], ['b', b]] as const) {
      t.app.jobs.define(
        'count',
        async (job) => {
          await t.app.db.query('INSERT INTO "job_runs" ("id", "node") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "runs" = "job_runs"."runs" + 1', [job.id, node]);
        },
        { concurrency: 8 },
      );
    }
    // Enqueued in a few transactions from both nodes, so both are notified.
    for (let batch = 0; batch < 6; batch++) {
      const t = batch % 2 === 0 ? a : b;
      await transact(t.app.db, async (tx) => {
        for (let i = 0; i < TOTAL / 6; i++) await t.app.jobs.enqueue('count', { batch, i }, {}, tx);
      });
    }
    await until(async () => (await a.app.jobs.stats()).names.count?.completed === TOTAL, 50_000, 'every job to complete');
    const [row] = await a.app.db.query<{ jobs: number; runs: number; a: number; b: number }>(
      `SELECT COUNT(*)::int AS "jobs", SUM("runs")::int AS "runs", COUNT(*) FILTER (WHERE "node" = 'a')::int AS "a", COUNT(*) FILTER (WHERE "node" = 'b')::int AS "b" FROM "job_runs"`,
      [],
    );
    expect(row.jobs).toBe(TOTAL);
    expect(row.runs).toBe(TOTAL);
    expect(row.a).toBeGreaterThan(0);
    expect(row.b).toBeGreaterThan(0);
    const stats = await b.app.jobs.stats();
    expect(stats.names.count).toEqual({ queued: 0, running: 0, completed: TOTAL, failed: 0, cancelled: 0 });
  }, 60_000);

  it('a job enqueued on one node wakes an idle worker on the other within milliseconds', async () => {
    const started: number[] = [];
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    // On b, `wake` has one slot, kept busy: only a (asleep, polling every 5 s) can run the next one.
    b.app.jobs.define('wake', async (job) => {
      if (job.payload.hold) await hold;
    });
    const held = await b.app.jobs.enqueue('wake', { hold: true });
    await until(async () => (await b.app.jobs.view(held.id)).state === 'running', 2000, 'the held job');
    a.app.jobs.define('wake', async () => {
      started.push(performance.now());
    });
    await new Promise((r) => setTimeout(r, 300)); // a's worker goes to sleep
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = performance.now();
      await b.app.jobs.enqueue('wake', { i });
      await until(() => started.length > i, 3000, 'the wake-up');
      latencies.push(started[i] - before);
      await new Promise((r) => setTimeout(r, 50));
    }
    release();
    latencies.sort((x, y) => x - y);
    expect(latencies[2], `latencies ${latencies.map((l) => l.toFixed(1)).join(', ')} ms`).toBeLessThan(200);
  });

  it('cancelling on one node aborts the job running on the other', async () => {
    let aborted: unknown = null;
    a.app.jobs.define('remote', async (job) => {
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => ((aborted = job.signal.reason), resolve())));
    });
    const job = await a.app.jobs.enqueue('remote', {});
    await until(async () => (await b.app.jobs.view(job.id)).state === 'running', 2000, 'the job to run on a');
    await b.app.jobs.cancel(job.id);
    await until(() => aborted !== null, 2000, 'the abort on a');
    expect((aborted as Error).name).toBe('JobCancelledError');
    expect((await a.app.jobs.view(job.id)).state).toBe('cancelled');
  });
});
