/**
 * The outbound-webhooks benchmark (issue 11 §6), per engine, in this process against a receiver
 * in a child process on loopback that answers 200 at once:
 *
 * - deliveries/s: BENCH_WEBHOOK_DELIVERIES (5,000) records created in one transaction with one
 *   matching endpoint (so their deliveries are enqueued together), then the time from the commit
 *   until every delivery is logged as succeeded (signing, the POST, the attempt log and the job's
 *   completion included). The floor, measured in the same run: plain unsigned POSTs of the same
 *   body to the same receiver with the same concurrency, nothing recorded (what the receiver and
 *   the HTTP client can take). Goal: ≥ 1,000 deliveries/s on SQLite.
 * - creates/s with one matching endpoint against none (the endpoint disabled), BENCH_WEBHOOK_ROUNDS
 *   (3) rounds of BENCH_WEBHOOK_SECONDS (4) each, alternating, BENCH_WEBHOOK_CONNECTIONS (10)
 *   creates in flight through the write pipeline (in process, no HTTP: the strictest ratio). The
 *   deliveries run meanwhile, as in production. Goal: one/none ≥ 85 %.
 *
 * `BENCH_ONLY=webhooks npm run bench`. BENCH_PG_URL as for the HTTP benchmark; BENCH_ENGINES=sqlite
 * skips PostgreSQL. Reported, never asserted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { localAdapters } from '../src/adapters/local-adapters.js';
import { createApp, type App } from '../src/core/app.js';
import { DEFAULT_WEBHOOKS_CONFIG, defaultConfig } from '../src/core/config.js';
import { transact } from '../src/core/events/transaction.js';
import { WEBHOOK_DELIVERIES_TABLE } from '../src/core/internal-tables.js';
import { silentLogger } from '../src/core/ports.js';
import { systemCaller } from '../src/core/records/caller.js';
import { createDatabase } from '../src/db/create-database.js';
import { onCleanup } from './cleanup.js';
import { createTarget } from './targets.js';

export interface WebhooksBenchOptions {
  pgAdminUrl: string;
  engines: ('sqlite' | 'postgres')[];
  deliveries: number;
  concurrency: number;
  connections: number;
  seconds: number;
  rounds: number;
}

export interface WebhooksBenchRow {
  engine: string;
  deliveriesPerSec: number;
  floorPerSec: number;
  createsNone: number;
  createsOne: number;
  ratio: number;
  rounds: { none: number; one: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function webhooksOptionsFromEnv(env: NodeJS.ProcessEnv): Omit<WebhooksBenchOptions, 'engines' | 'pgAdminUrl'> {
  const n = (name: string, fallback: number) => {
    const v = env[name] ? Number(env[name]) : fallback;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}="${env[name]}" must be a positive whole number`);
    return v;
  };
  return {
    deliveries: n('BENCH_WEBHOOK_DELIVERIES', 5000),
    concurrency: DEFAULT_WEBHOOKS_CONFIG.concurrency,
    connections: n('BENCH_WEBHOOK_CONNECTIONS', 10),
    seconds: n('BENCH_WEBHOOK_SECONDS', 4),
    rounds: n('BENCH_WEBHOOK_ROUNDS', 3),
  };
}

const RECEIVER = `
const http = require('node:http');
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); }); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(String(server.address().port)));
`;

/** The receiver, in its own process so it does not share Basalt's event loop. */
async function startReceiver(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup('stop the webhook receiver', () => void child.kill(), () => void child.kill());
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', () => reject(new Error('the receiver exited')));
  });
  return { port, child };
}

/** Plain POSTs of `body` with `concurrency` in flight: the most the receiver and client can do. */
async function floor(url: string, body: string, total: number, concurrency: number): Promise<number> {
  const dispatcher = new Agent({ connections: concurrency });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const res = await undiciFetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });
        await res.arrayBuffer();
      }
    }),
  );
  const perSec = total / ((performance.now() - started) / 1000);
  await dispatcher.close();
  return perSec;
}

async function succeeded(app: App): Promise<number> {
  const row = await app.db.kysely.selectFrom(WEBHOOK_DELIVERIES_TABLE).select((eb) => eb.fn.countAll().as('n')).where('state', '=', 'succeeded').executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Creates/s for `seconds` with `connections` creates in flight. */
async function createsPerSec(app: App, connections: number, seconds: number): Promise<number> {
  const collection = app.registry.find('events')!;
  const caller = systemCaller();
  const end = performance.now() + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        await app.records.writer.create(collection, { data: { title: 'bench event', amount: count } }, caller);
        count++;
      }
    }),
  );
  return count / seconds;
}

async function benchEngine(engine: 'sqlite' | 'postgres', options: WebhooksBenchOptions, receiverPort: number): Promise<WebhooksBenchRow> {
  const target = await createTarget(engine, options.pgAdminUrl);
  const url = target.engine === 'postgres' ? target.url : '';
  const config = defaultConfig({
    dataDir: target.dir,
    databaseUrl: url,
    logLevel: 'silent',
    webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${receiverPort}`], concurrency: options.concurrency },
  });
  const db = await createDatabase(engine === 'postgres' ? { type: 'postgres', url, maxConnections: 10 } : { type: 'sqlite', file: join(target.dir, 'data.db') });
  const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
  try {
    await app.collections.create({ name: 'events', fields: [{ name: 'title', type: 'text' }, { name: 'amount', type: 'number' }] });
    const endpoint = await app.webhooks.create({ url: `http://127.0.0.1:${receiverPort}/hook`, collections: ['events'], actions: ['create'] });
    const collection = app.registry.find('events')!;

    // Deliveries/s: every delivery enqueued by one commit.
    let t0 = 0;
    await transact(app.db, async (tx) => {
      for (let i = 0; i < options.deliveries; i++) await app.records.writer.create(collection, { data: { title: 'bench event', amount: i } }, systemCaller(), tx);
      tx.beforeCommit(() => void (t0 = performance.now()));
    });
    while ((await succeeded(app)) < options.deliveries) await sleep(20);
    const deliveriesPerSec = options.deliveries / ((performance.now() - t0) / 1000);
    const body = JSON.stringify({ type: 'record.created', timestamp: new Date().toISOString(), data: { collectionId: collection.id, collectionName: 'events', record: { id: 'abcdefghijklmno', title: 'bench event', amount: 1 } } });
    const floorPerSec = await floor(`http://127.0.0.1:${receiverPort}/floor`, body, options.deliveries, options.concurrency);

    // Creates/s with the endpoint enabled (one) and disabled (none), alternating.
    const rounds: { none: number; one: number }[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const round = { none: 0, one: 0 };
      for (const variant of r % 2 === 0 ? (['none', 'one'] as const) : (['one', 'none'] as const)) {
        await app.webhooks.update(endpoint.id as string, { enabled: variant === 'one' });
        round[variant] = await createsPerSec(app, options.connections, options.seconds);
        // Let the deliveries of this round finish before the next one starts.
        const target = await app.db.kysely.selectFrom('_jobs').select((eb) => eb.fn.countAll().as('n')).where('state', 'in', ['queued', 'running']).executeTakeFirst();
        for (let i = 0; i < 600 && Number(target?.n ?? 0) > 0; i++) {
          const left = await app.db.kysely.selectFrom('_jobs').select((eb) => eb.fn.countAll().as('n')).where('state', 'in', ['queued', 'running']).executeTakeFirst();
          if (Number(left?.n ?? 0) === 0) break;
          await sleep(100);
        }
      }
      rounds.push(round);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const createsNone = median(rounds.map((r) => r.none));
    const createsOne = median(rounds.map((r) => r.one));
    return { engine, deliveriesPerSec, floorPerSec, createsNone, createsOne, ratio: median(rounds.map((r) => r.one / r.none)), rounds };
  } finally {
    await app.close();
  }
}

export async function runWebhooksBench(options: WebhooksBenchOptions): Promise<WebhooksBenchRow[]> {
  const receiver = await startReceiver();
  const rows: WebhooksBenchRow[] = [];
  try {
    for (const engine of options.engines) {
      console.log(`webhooks: ${engine}…`);
      rows.push(await benchEngine(engine, options, receiver.port));
    }
  } finally {
    receiver.child.kill();
  }
  return rows;
}

export function formatWebhooksTable(rows: WebhooksBenchRow[], options: Omit<WebhooksBenchOptions, 'engines' | 'pgAdminUrl'>): string {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `Outbound webhooks: ${options.deliveries} deliveries to a loopback receiver answering 200 (${options.concurrency} in flight); creates with ${options.connections} in flight, ${options.rounds} rounds of ${options.seconds} s, median`,
    '| engine | deliveries/s | floor: plain POSTs/s | deliveries / floor | creates/s, no endpoint | creates/s, one endpoint | one / none |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.engine} | ${fmt(r.deliveriesPerSec)} | ${fmt(r.floorPerSec)} | ${((100 * r.deliveriesPerSec) / r.floorPerSec).toFixed(1)} % | ${fmt(r.createsNone)} | ${fmt(r.createsOne)} | ${(100 * r.ratio).toFixed(1)} % |`),
    'Goals: ≥ 1,000 deliveries/s on SQLite; one / none ≥ 85 %.',
  ];
  return lines.join('\n');
}
