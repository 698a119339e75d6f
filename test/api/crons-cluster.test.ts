/**
 * Cron fires once per cluster: three nodes on one PostgreSQL database, each registering the same
 * per-second job with the real clock, for a few seconds. Every tick in the window runs exactly
 * once (no duplicate, no gap) — with the nodes' clocks in step, skewed by ±2 s, and with one node
 * stopped half-way. PostgreSQL only (nodes share a database there).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { CRON_RUNS_TABLE } from '../../src/core/internal-tables.js';
import { ENGINE } from '../harness/engines.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

interface Run {
  node: string;
  tick: number;
}

const started: TestApp[] = [];

afterAll(async () => {
  // The first node owns (and drops) the database: it closes last.
  for (const node of [...started].reverse()) await node.close();
});

async function startCluster(clocks: (Clock | undefined)[]): Promise<TestApp[]> {
  const first = await startTestApp({ engine: 'postgres', deps: clocks[0] ? { clock: clocks[0] } : {} });
  started.push(first);
  const nodes = [first];
  for (const clock of clocks.slice(1)) {
    const node = await startTestApp({ sameDatabaseAs: first, deps: clock ? { clock } : {} });
    started.push(node);
    nodes.push(node);
  }
  return nodes;
}

const skewed = (offsetMs: number): Clock => ({ now: () => Date.now() + offsetMs, sleep: systemClock.sleep });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers `id` every second on each node, each run appending (node, tick) to `runs`. */
function register(nodes: TestApp[], id: string, runs: Run[]): void {
  nodes.forEach((node, i) => {
    node.app.crons.add(id, '* * * * * *', (run) => void runs.push({ node: `node${i}`, tick: run.tick! }));
    node.app.crons.start();
  });
}

/** Every tick once, consecutive seconds from the first to the last; at least `min` of them. */
function expectEveryTickOnce(runs: Run[], min: number): void {
  const ticks = runs.map((r) => r.tick).sort((a, b) => a - b);
  expect(new Set(ticks).size, `duplicates in ${JSON.stringify(runs)}`).toBe(ticks.length);
  expect(ticks.length).toBeGreaterThanOrEqual(min);
  for (let i = 1; i < ticks.length; i++) expect(ticks[i] - ticks[i - 1], `gap after ${new Date(ticks[i - 1]).toISOString()}`).toBe(1000);
}

async function claimsOf(node: TestApp, cronId: string): Promise<number> {
  return (await node.app.db.kysely.selectFrom(CRON_RUNS_TABLE).select('id').where('cronId', '=', cronId).execute()).length;
}

describe.skipIf(ENGINE !== 'postgres')('three nodes, one database', () => {
  let nodes: TestApp[] = [];

  it('clocks in step: each tick runs exactly once, whoever wins it', async () => {
    nodes = await startCluster([undefined, undefined, undefined]);
    const runs: Run[] = [];
    register(nodes, 'everySecond', runs);
    await sleep(5_500);
    await Promise.all(nodes.map((n) => n.app.crons.stop()));
    expectEveryTickOnce(runs, 4);
    expect(await claimsOf(nodes[0], 'everySecond')).toBe(runs.length);
  });

  it('one node stops half-way: the others keep every tick', async () => {
    const runs: Run[] = [];
    register(nodes, 'survivor', runs);
    await sleep(2_500);
    const stoppedAt = Date.now();
    await nodes[2].app.crons.stop();
    const before = runs.length;
    await sleep(3_000);
    await Promise.all(nodes.slice(0, 2).map((n) => n.app.crons.stop()));
    expectEveryTickOnce(runs, 4);
    expect(runs.length - before).toBeGreaterThanOrEqual(2);
    // Nothing ran on the stopped node after its stop returned.
    expect(runs.filter((r) => r.node === 'node2' && r.tick > stoppedAt)).toEqual([]);
  });

  it('clocks skewed by -2 s, 0 and +2 s: still exactly once per tick', async () => {
    const skewedNodes = await startCluster([skewed(-2_000), skewed(0), skewed(2_000)]);
    const runs: Run[] = [];
    register(skewedNodes, 'skewed', runs);
    await sleep(5_500);
    await Promise.all(skewedNodes.map((n) => n.app.crons.stop()));
    expectEveryTickOnce(runs, 4);
    expect(await claimsOf(skewedNodes[0], 'skewed')).toBe(runs.length);
  });
});
