/**
 * The workflows benchmark (issue 11 §6): transitions per second against plain updates of the same
 * records, per engine, in this process through the write pipeline (no HTTP), BENCH_WORKFLOW_ROUNDS
 * (3) rounds of BENCH_WORKFLOW_SECONDS (3) each, alternating, 10 in flight on distinct records.
 * A transition is an update of the state field plus its history row and the lock of the record's
 * row (so two transitions of one record serialise); the plain update changes another field.
 * `BENCH_ONLY=webhooks npm run bench` runs it after the webhook runs. Reported, never asserted.
 */
import { join } from 'node:path';
import { localAdapters } from '../src/adapters/local-adapters.js';
import { createApp, type App } from '../src/core/app.js';
import { defaultConfig } from '../src/core/config.js';
import { transact } from '../src/core/events/transaction.js';
import { silentLogger } from '../src/core/ports.js';
import { systemCaller } from '../src/core/records/caller.js';
import { createDatabase } from '../src/db/create-database.js';
import { createTarget } from './targets.js';

export interface WorkflowsBenchRow {
  engine: string;
  transitionsPerSec: number;
  updatesPerSec: number;
  ratio: number;
}

const IN_FLIGHT = 10;
const RECORDS = 1000;

async function openApp(engine: 'sqlite' | 'postgres', pgAdminUrl: string): Promise<App> {
  const target = await createTarget(engine, pgAdminUrl);
  const url = target.engine === 'postgres' ? target.url : '';
  const config = defaultConfig({ dataDir: target.dir, databaseUrl: url, logLevel: 'silent' });
  const db = await createDatabase(engine === 'postgres' ? { type: 'postgres', url, maxConnections: 10 } : { type: 'sqlite', file: join(target.dir, 'data.db') });
  return createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
}

/** Operations/s for `seconds`, IN_FLIGHT at once, each on its own slice of the records. */
async function perSecond(ids: string[], seconds: number, op: (id: string, n: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, lane) => {
      for (let n = 0; performance.now() < end; n++) {
        await op(ids[(lane + n * IN_FLIGHT) % ids.length]!, n);
        count++;
      }
    }),
  );
  return count / seconds;
}

async function benchEngine(engine: 'sqlite' | 'postgres', pgAdminUrl: string, rounds: number, seconds: number): Promise<WorkflowsBenchRow> {
  const app = await openApp(engine, pgAdminUrl);
  try {
    await app.collections.create({
      name: 'tickets',
      fields: [
        { name: 'state', type: 'select', values: ['open', 'closed'], maxSelect: 1 },
        { name: 'note', type: 'text' },
      ],
      workflow: { field: 'state', initial: 'open', transitions: [{ name: 'close', from: ['open'], to: 'closed' }, { name: 'reopen', from: ['closed'], to: 'open' }] },
    });
    const tickets = app.registry.find('tickets')!;
    const caller = systemCaller();
    const ids = await transact(app.db, async (tx) => {
      const out: string[] = [];
      for (let i = 0; i < RECORDS; i++) out.push(String((await app.records.writer.create(tickets, { data: { note: 'n' } }, caller, tx)).values.id));
      return out;
    });
    // Each record alternates: close, reopen, close… (its lane visits it every IN_FLIGHT operations).
    const closed = new Set<string>();
    const transition = (id: string) => {
      const name = closed.has(id) ? 'reopen' : 'close';
      if (name === 'close') closed.add(id);
      else closed.delete(id);
      return app.workflows.transition(app.registry.find('tickets')!, id, name, {}, caller);
    };
    const update = (id: string, n: number) => app.records.writer.update(app.registry.find('tickets')!, id, { data: { note: `note ${n}` } }, caller);
    const ratios: number[] = [];
    const t: number[] = [];
    const u: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['t', 'u'] as const) : (['u', 't'] as const);
      const got: Record<'t' | 'u', number> = { t: 0, u: 0 };
      for (const which of order) got[which] = await perSecond(ids, seconds, which === 't' ? transition : update);
      t.push(got.t);
      u.push(got.u);
      ratios.push(got.t / got.u);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    return { engine, transitionsPerSec: median(t), updatesPerSec: median(u), ratio: median(ratios) };
  } finally {
    await app.close();
  }
}

export async function runWorkflowsBench(options: { engines: ('sqlite' | 'postgres')[]; pgAdminUrl: string; env: NodeJS.ProcessEnv }): Promise<WorkflowsBenchRow[]> {
  const rounds = Number(options.env.BENCH_WORKFLOW_ROUNDS || 3);
  const seconds = Number(options.env.BENCH_WORKFLOW_SECONDS || 3);
  const rows: WorkflowsBenchRow[] = [];
  for (const engine of options.engines) {
    console.log(`workflows: ${engine}…`);
    rows.push(await benchEngine(engine, options.pgAdminUrl, rounds, seconds));
  }
  return rows;
}

export function formatWorkflowsTable(rows: WorkflowsBenchRow[]): string {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  return [
    `Workflow transitions against plain updates of the same records (in process, ${IN_FLIGHT} in flight, median of the rounds)`,
    '| engine | transitions/s | plain updates/s | transitions / updates |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.engine} | ${fmt(r.transitionsPerSec)} | ${fmt(r.updatesPerSec)} | ${(100 * r.ratio).toFixed(1)} % |`),
  ].join('\n');
}
