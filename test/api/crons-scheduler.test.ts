/**
 * The cron scheduler on a real app and database, with a manual clock: tick computation (5 and 6
 * fields, macros, time zones), refused definitions, claims recorded in `_cronRuns`, overlap and
 * catch-up rules, pruning, and one timer for all jobs. Runs on either engine (BASALT_TEST_DB).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CRON_RUNS_TABLE } from '../../src/core/internal-tables.js';
import { CronScheduler, type CronRun } from '../../src/core/cron/cron-scheduler.js';
import { CronDefinitionError } from '../../src/core/cron/cron-schedule.js';
import { ManualClock } from '../harness/manual-clock.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

let t: TestApp;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock(at('2030-01-01T00:00:00.000Z'));
  t = await startTestApp({ deps: { clock } });
});

afterAll(async () => {
  await t?.close();
});

const crons = () => t.app.crons;

type Claim = { tick: string; node: string; started: string; finished: string; error: string };

async function claimsOf(cronId: string): Promise<Claim[]> {
  return (await t.app.db.kysely.selectFrom(CRON_RUNS_TABLE).selectAll().where('cronId', '=', cronId).orderBy('tick').execute()) as Claim[];
}

/** Moves the manual clock in steps (each wakes the scheduler) and lets the runs it started finish. */
async function advance(ms: number, step = ms): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await clock.advance(Math.min(step, ms - done));
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe('tick computation', () => {
  const after = at('2030-01-15T07:59:59.500Z');
  const nextOf = (expression: string, timezone?: string, from = after) => {
    crons().add('probe', expression, () => {}, { timezone });
    try {
      return iso(crons().nextTick('probe', from));
    } finally {
      crons().remove('probe');
    }
  };

  it('5-field expressions fire on whole minutes', () => {
    expect(nextOf('* * * * *')).toBe('2030-01-15T08:00:00.000Z');
    expect(nextOf('*/15 * * * *', undefined, at('2030-01-15T08:07:30Z'))).toBe('2030-01-15T08:15:00.000Z');
    expect(nextOf('30 2 * * 1-5', undefined, at('2030-01-18T03:00:00Z'))).toBe('2030-01-21T02:30:00.000Z'); // Friday → Monday
    expect(nextOf('0 0 1 */3 *')).toBe('2030-04-01T00:00:00.000Z');
  });

  it('6-field expressions have seconds first', () => {
    expect(nextOf('* * * * * *')).toBe('2030-01-15T08:00:00.000Z');
    expect(nextOf('*/10 * * * * *', undefined, at('2030-01-15T08:00:03Z'))).toBe('2030-01-15T08:00:10.000Z');
    expect(nextOf('30 0 12 * * *')).toBe('2030-01-15T12:00:30.000Z');
  });

  it('macros', () => {
    expect(nextOf('@yearly')).toBe('2031-01-01T00:00:00.000Z');
    expect(nextOf('@annually')).toBe('2031-01-01T00:00:00.000Z');
    expect(nextOf('@monthly')).toBe('2030-02-01T00:00:00.000Z');
    expect(nextOf('@weekly')).toBe('2030-01-20T00:00:00.000Z'); // Sunday
    expect(nextOf('@daily')).toBe('2030-01-16T00:00:00.000Z');
    expect(nextOf('@midnight')).toBe('2030-01-16T00:00:00.000Z');
    expect(nextOf('@hourly')).toBe('2030-01-15T08:00:00.000Z');
  });

  it('time zones: 9:00 in Paris is 08:00Z in winter and 07:00Z in summer; UTC by default', () => {
    expect(nextOf('0 9 * * *', 'Europe/Paris', at('2030-01-15T00:00:00Z'))).toBe('2030-01-15T08:00:00.000Z');
    expect(nextOf('0 9 * * *', 'Europe/Paris', at('2030-07-15T00:00:00Z'))).toBe('2030-07-15T07:00:00.000Z');
    expect(nextOf('0 9 * * *', 'America/New_York', at('2030-01-15T00:00:00Z'))).toBe('2030-01-15T14:00:00.000Z');
    expect(nextOf('0 9 * * *', undefined, at('2030-01-15T00:00:00Z'))).toBe('2030-01-15T09:00:00.000Z');
  });

  it('daylight saving: a fixed time missing that day runs after the jump; a repeated one runs once', () => {
    // 2030-03-31 in Paris: 02:00 → 03:00, so 02:30 does not exist: runs at 03:00 CEST (01:00Z).
    expect(nextOf('30 2 * * *', 'Europe/Paris', at('2030-03-30T12:00:00Z'))).toBe('2030-03-31T01:00:00.000Z');
    // 2030-10-27: 03:00 → 02:00, so 02:30 occurs twice: only the first (00:30Z), then the next day.
    expect(nextOf('30 2 * * *', 'Europe/Paris', at('2030-10-26T12:00:00Z'))).toBe('2030-10-27T00:30:00.000Z');
    expect(nextOf('30 2 * * *', 'Europe/Paris', at('2030-10-27T00:30:00Z'))).toBe('2030-10-28T01:30:00.000Z');
  });

  it('malformed expressions, unknown zones and bad ids are refused at add, naming the id and the problem', () => {
    const refused = (id: string, expression: string, timezone?: string) => {
      let error: unknown;
      try {
        crons().add(id, expression, () => {}, { timezone });
      } catch (err) {
        error = err;
      }
      expect(error, `${id} ${expression}`).toBeInstanceOf(CronDefinitionError);
      expect(crons().has(id)).toBe(false);
      return (error as Error).message;
    };
    expect(refused('bad1', 'not a cron')).toMatch(/^cron "bad1": invalid expression "not a cron"/);
    expect(refused('bad2', '60 * * * *')).toMatch(/cron "bad2": invalid expression .*minute/);
    expect(refused('bad3', '* * *')).toMatch(/cron "bad3": invalid expression/);
    expect(refused('bad4', '* * * * * * *')).toMatch(/cron "bad4": invalid expression/);
    expect(refused('bad5', '')).toBe('cron "bad5": the expression is empty');
    expect(refused('bad6', '@reboot')).toMatch(/cron "bad6": invalid expression "@reboot"/);
    expect(refused('bad7', '0 0 31 2 *')).toBe('cron "bad7": the expression "0 0 31 2 *" never fires');
    expect(refused('bad8', '0 * * * *', 'Mars/Olympus_Mons')).toMatch(/cron "bad8": unknown time zone "Mars\/Olympus_Mons"/);
    expect(refused('bad9', 'x'.repeat(300))).toMatch(/longer than 256/);
    expect(refused('', '* * * * *')).toMatch(/^invalid cron id ""/);
    expect(refused('a/b', '* * * * *')).toMatch(/^invalid cron id "a\/b"/);
    expect(refused('x'.repeat(101), '* * * * *')).toMatch(/^invalid cron id/);
    expect(() => crons().add('nofn', '* * * * *', 'not a function' as never)).toThrow(/cron "nofn": the handler must be a function/);
  });

  it('the same id replaces the job (PocketBase Add)', () => {
    crons().add('dup', '0 * * * *', () => {});
    crons().add('dup', '*/5 * * * *', () => {});
    expect(crons().list().filter((j) => j.id === 'dup')).toEqual([{ id: 'dup', expression: '*/5 * * * *' }]);
    crons().remove('dup');
  });
});

describe('firing with a manual clock', () => {
  const runs: { id: string; tick: string | null }[] = [];
  const record = (run: CronRun) => void runs.push({ id: run.id, tick: iso(run.tick) });

  beforeAll(() => {
    crons().start();
  });

  beforeEach(() => {
    runs.length = 0;
  });

  it('one timer for every job, however many are registered', async () => {
    crons().add('m1', '* * * * *', () => {});
    crons().add('m2', '*/5 * * * *', () => {});
    crons().add('m3', '0 9 * * *', () => {}, { timezone: 'Asia/Tokyo' });
    await new Promise((r) => setTimeout(r, 10));
    expect((clock as unknown as { sleepers: unknown[] }).sleepers).toHaveLength(1);
    for (const id of ['m1', 'm2', 'm3']) crons().remove(id);
  });

  it('runs each tick once, records the claim (node, start, end), the next tick from the schedule', async () => {
    crons().add('minutely', '* * * * *', record);
    await advance(60_000);
    await vi.waitFor(() => expect(runs).toEqual([{ id: 'minutely', tick: '2030-01-01T00:01:00.000Z' }]), { timeout: 10_000 });
    await advance(60_000);
    await vi.waitFor(() => expect(runs.map((r) => r.tick)).toEqual(['2030-01-01T00:01:00.000Z', '2030-01-01T00:02:00.000Z']), { timeout: 10_000 });
    const claims = await claimsOf('minutely');
    expect(claims.map((c) => c.tick)).toEqual(['2030-01-01 00:01:00.000Z', '2030-01-01 00:02:00.000Z']);
    expect(claims[0]).toMatchObject({ node: crons().node, started: '2030-01-01 00:01:00.000Z', finished: '2030-01-01 00:01:00.000Z', error: '' });
    crons().remove('minutely');
    await advance(60_000);
    expect(runs).toHaveLength(2);
  });

  it('a tick already claimed (by another node) is not run here', async () => {
    crons().add('taken', '* * * * *', record);
    await t.app.db.kysely.insertInto(CRON_RUNS_TABLE).values({ id: 'takenbyother01', cronId: 'taken', tick: '2030-01-01 00:04:00.000Z', node: 'other', started: '', finished: '', error: '' }).execute();
    await advance(60_000);
    await advance(60_000);
    await vi.waitFor(() => expect(runs.map((r) => r.tick)).toEqual(['2030-01-01T00:05:00.000Z']), { timeout: 10_000 });
    crons().remove('taken');
  });

  it('a failing handler is recorded with its error, and the job keeps its schedule', async () => {
    let calls = 0;
    crons().add('flaky', '* * * * *', () => {
      calls++;
      if (calls === 1) throw new Error('boom');
    });
    await advance(60_000);
    await vi.waitFor(async () => expect((await claimsOf('flaky'))[0]?.error).toBe('boom'), { timeout: 10_000 });
    await advance(60_000);
    await vi.waitFor(async () => expect((await claimsOf('flaky')).map((c) => c.error)).toEqual(['boom', '']), { timeout: 10_000 });
    crons().remove('flaky');
  });

  it('runs of one job do not overlap on a node; ticks that came due meanwhile run after, up to a minute late', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    crons().add('slow', '*/20 * * * * *', async (run) => {
      record(run);
      if (runs.length === 1) await gate;
    });
    await advance(20_000);
    await vi.waitFor(() => expect(runs).toHaveLength(1), { timeout: 10_000 });
    expect(await crons().runNow('slow')).toBe('busy');
    await advance(40_000, 20_000); // two more ticks come due while the first run holds the job
    expect(runs).toHaveLength(1);
    release();
    await vi.waitFor(() => expect(runs).toHaveLength(3), { timeout: 10_000 });
    expect(new Set(runs.map((r) => r.tick)).size).toBe(3);
    // Ticks more than a minute late are dropped (a stalled or suspended node), not replayed.
    runs.length = 0;
    await clock.advance(5 * 60_000);
    // The tick the clock woke the node for, then only the last minute's: 00:12:00 … 00:13:00.
    await vi.waitFor(() => expect(runs.map((r) => r.tick)).toEqual(['2030-01-01T00:08:20.000Z', '2030-01-01T00:12:00.000Z', '2030-01-01T00:12:20.000Z', '2030-01-01T00:12:40.000Z', '2030-01-01T00:13:00.000Z']), { timeout: 10_000 });
    crons().remove('slow');
  });

  it('runNow runs the handler once, unclaimed, with a null tick', async () => {
    crons().add('manual', '@yearly', record);
    expect(await crons().runNow('manual')).toBe('done');
    expect(runs).toEqual([{ id: 'manual', tick: null }]);
    expect(await claimsOf('manual')).toEqual([]);
    crons().add('manualFails', '@yearly', () => Promise.reject(new Error('nope')));
    expect(await crons().runNow('manualFails')).toBe('failed');
    expect(await crons().runNow('nope')).toBe('missing');
    crons().remove('manual');
    crons().remove('manualFails');
  });
});

describe('stopping', () => {
  it('waits for the runs in progress up to the grace period, then aborts their signal; refuses manual runs after', async () => {
    const s = new CronScheduler({ db: t.app.db, clock, logger: t.app.logger });
    let signal: AbortSignal | null = null;
    let finished = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    s.add('quick', '@yearly', async () => {
      await gate;
      finished = true;
    });
    s.add('stubborn', '@yearly', (run) => {
      signal = run.signal;
      return new Promise<void>(() => {}); // never ends
    });

    // A run that ends within the grace period is waited for.
    const quick = s.runNow('quick');
    await new Promise((r) => setTimeout(r, 20));
    let stopped = false;
    const stopping = s.stop(5_000).then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(await quick).toBe('done');
    expect(await s.runNow('quick')).toBe('stopped');

    // One that does not end is given up on at the end of the grace period, its signal aborted.
    s.start();
    void s.runNow('stubborn');
    await vi.waitFor(() => expect(signal).not.toBeNull(), { timeout: 10_000 });
    stopped = false;
    const giveUp = s.stop(5_000).then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20)); // the grace timer is armed
    await clock.advance(4_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    expect(signal!.aborted).toBe(false);
    await clock.advance(1_000);
    await giveUp;
    expect(signal!.aborted).toBe(true);
  });
});

describe('catch-up after the whole cluster was down', () => {
  it('runs the latest missed tick once at start when catchUp is set; none without it; none for a job that never ran', async () => {
    const runs: string[] = [];
    const s = crons();
    await s.stop();
    clock.set(at('2030-02-01T00:30:00.000Z'));
    s.add('hourlyCatchUp', '0 * * * *', (r) => void runs.push(`catchUp ${iso(r.tick)}`), { catchUp: true });
    s.add('hourlyPlain', '0 * * * *', (r) => void runs.push(`plain ${iso(r.tick)}`));
    s.add('neverRan', '0 * * * *', (r) => void runs.push(`neverRan ${iso(r.tick)}`), { catchUp: true });
    s.start();
    // Nothing ran before: nothing to catch up, for any of them.
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toEqual([]);
    s.remove('neverRan');
    await advance(30 * 60_000);
    await vi.waitFor(() => expect(runs.sort()).toEqual(['catchUp 2030-02-01T01:00:00.000Z', 'plain 2030-02-01T01:00:00.000Z']), { timeout: 10_000 });

    // Every node down from 01:10 to 05:30: four ticks missed.
    await s.stop();
    runs.length = 0;
    clock.set(at('2030-02-01T05:30:00.000Z'));
    s.start();
    await vi.waitFor(() => expect(runs).toEqual(['catchUp 2030-02-01T05:00:00.000Z']), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toHaveLength(1);

    // Restarting again: the latest tick already ran, nothing to catch up.
    await s.stop();
    s.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toHaveLength(1);
    expect((await claimsOf('hourlyCatchUp')).map((c) => c.tick)).toEqual(['2030-02-01 01:00:00.000Z', '2030-02-01 05:00:00.000Z']);
    expect((await claimsOf('hourlyPlain')).map((c) => c.tick)).toEqual(['2030-02-01 01:00:00.000Z']);
    s.remove('hourlyCatchUp');
    s.remove('hourlyPlain');
  });
});

describe('the claims table stays bounded', () => {
  it('rows older than a day go, except the latest of each job', async () => {
    const s = crons();
    await s.stop();
    const old = (id: string, cronId: string, tick: string) => ({ id, cronId, tick, node: 'n', started: tick, finished: tick, error: '' });
    await t.app.db.kysely
      .insertInto(CRON_RUNS_TABLE)
      .values([old('prunea1', 'gone', '2029-12-01 00:00:00.000Z'), old('prunea2', 'gone', '2029-12-02 00:00:00.000Z'), old('pruneb1', 'monthly', '2029-12-01 00:00:00.000Z')])
      .execute();
    clock.set(at('2030-03-01T00:00:30.000Z'));
    // A new scheduler instance prunes at its first tick (the app's may have pruned within the hour).
    const other = new CronScheduler({ db: t.app.db, clock, logger: t.app.logger });
    other.add('pruner', '* * * * *', () => {});
    other.start();
    await advance(60_000);
    await vi.waitFor(async () => expect((await claimsOf('gone')).map((c) => c.tick)).toEqual(['2029-12-02 00:00:00.000Z']), { timeout: 10_000 });
    expect((await claimsOf('monthly')).map((c) => c.tick)).toEqual(['2029-12-01 00:00:00.000Z']);
    await other.stop();
  });
});
