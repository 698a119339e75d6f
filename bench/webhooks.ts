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
 * - HTTP creates/s with one matching endpoint against none (the endpoint disabled), on
 *   `basalt serve` in its own process under autocannon, after a 2 s warm-up, BENCH_WEBHOOK_ROUNDS
 *   (5) rounds of BENCH_WEBHOOK_SECONDS (4) each, alternating, BENCH_WEBHOOK_CONNECTIONS (10) connections:
 *   first with --webhook-concurrency 0 (the server writes the outbox rows and leaves sending to
 *   other nodes: the write path's own cost), goal one/none ≥ 85 %; then with the server also
 *   sending the deliveries meanwhile, printed beside it (a delivery costs more CPU than the create
 *   that caused it: the POST, its signature, its log).
 *
 * `BENCH_ONLY=webhooks npm run bench`. BENCH_PG_URL as for the HTTP benchmark; BENCH_ENGINES=sqlite
 * skips PostgreSQL. Reported, never asserted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { seedDataset } from './dataset.js';
import { runLoad } from './load.js';
import { SCENARIOS } from './scenarios.js';
import { freePort, startServer } from './processes.js';
import { createTarget } from './targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

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
  /** one / none on the API node: the outbox row's cost. */
  ratio: number;
  /** one / none on a node that also sends the deliveries while it takes the creates. */
  deliveringRatio: number;
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
    rounds: n('BENCH_WEBHOOK_ROUNDS', 5),
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

async function openApp(engine: 'sqlite' | 'postgres', options: WebhooksBenchOptions, receiverPort: number, concurrency: number): Promise<{ app: App; dir: string; url: string }> {
  const target = await createTarget(engine, options.pgAdminUrl);
  const url = target.engine === 'postgres' ? target.url : '';
  const config = defaultConfig({
    dataDir: target.dir,
    databaseUrl: url,
    logLevel: 'silent',
    webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${receiverPort}`], concurrency },
  });
  const db = await createDatabase(engine === 'postgres' ? { type: 'postgres', url, maxConnections: 10 } : { type: 'sqlite', file: join(target.dir, 'data.db') });
  const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
  await app.collections.create({ name: 'events', fields: [{ name: 'title', type: 'text' }, { name: 'amount', type: 'number' }], createRule: '' });
  return { app, dir: target.dir, url };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Deliveries/s: every delivery enqueued by one commit, until the last is logged as succeeded; and the floor. */
async function deliveryThroughput(engine: 'sqlite' | 'postgres', options: WebhooksBenchOptions, receiverPort: number): Promise<{ deliveriesPerSec: number; floorPerSec: number }> {
  const { app } = await openApp(engine, options, receiverPort, options.concurrency);
  try {
    await app.webhooks.create({ url: `http://127.0.0.1:${receiverPort}/hook`, collections: ['events'], actions: ['create'] });
    const collection = app.registry.find('events')!;
    let t0 = 0;
    await transact(app.db, async (tx) => {
      for (let i = 0; i < options.deliveries; i++) await app.records.writer.create(collection, { data: { title: 'bench event', amount: i } }, systemCaller(), tx);
      tx.beforeCommit(() => void (t0 = performance.now()));
    });
    while ((await succeeded(app)) < options.deliveries) await sleep(20);
    const deliveriesPerSec = options.deliveries / ((performance.now() - t0) / 1000);
    const body = JSON.stringify({ type: 'record.created', timestamp: new Date().toISOString(), data: { collectionId: collection.id, collectionName: 'events', record: { id: 'abcdefghijklmno', title: 'bench event', amount: 1 } } });
    const floorPerSec = await floor(`http://127.0.0.1:${receiverPort}/floor`, body, options.deliveries, options.concurrency);
    return { deliveriesPerSec, floorPerSec };
  } finally {
    await app.close();
  }
}

/**
 * HTTP creates/s of the benchmark's `create` scenario (POST a post on the seeded 10,000-post
 * dataset; `basalt serve` in its own process, autocannon here) with one endpoint on `posts`
 * disabled (none) and enabled (one), alternating which goes first; the server sends
 * `concurrency` deliveries at once itself (0: it only writes the outbox rows, another node would
 * send them).
 */
async function httpCreateRounds(engine: 'sqlite' | 'postgres', options: WebhooksBenchOptions, receiverPort: number, concurrency: number, logDir: string): Promise<{ none: number; one: number }[]> {
  const target = await createTarget(engine, options.pgAdminUrl);
  const url = target.engine === 'postgres' ? target.url : '';
  const data = await seedDataset(target, { users: 100, posts: 10_000 });
  const config = defaultConfig({ dataDir: target.dir, databaseUrl: url, logLevel: 'silent', webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: [`127.0.0.1:${receiverPort}`], concurrency: 0 } });
  const db = await createDatabase(engine === 'postgres' ? { type: 'postgres', url, maxConnections: 2 } : { type: 'sqlite', file: join(target.dir, 'data.db') });
  const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
  let token: string;
  let endpointId: string;
  try {
    const su = await app.records.writer.create(app.registry.find('_superusers')!, { data: { email: 'bench@example.com', password: 'benchpass123', passwordConfirm: 'benchpass123' } }, systemCaller());
    token = await app.auth.issueToken(su);
    endpointId = String((await app.webhooks.create({ url: `http://127.0.0.1:${receiverPort}/hook`, collections: ['posts'], actions: ['create'], enabled: false })).id);
  } finally {
    await app.close();
  }
  const port = await freePort();
  const server = await startServer({
    name: `basalt-webhooks-${engine}-${concurrency}`,
    nodeArgs: ['bin/basalt.js', 'serve', '--http', `127.0.0.1:${port}`, '--dir', target.dir, ...(url ? ['--db', url] : []), '--webhook-allow', `127.0.0.1:${receiverPort}`, '--webhook-concurrency', String(concurrency), '--log-level', 'warn'],
    port,
    logFile: join(logDir, `webhooks-${engine}-${concurrency}.log`),
    cwd: ROOT,
  });
  const create = SCENARIOS.find((s) => s.id === 'create')!;
  const next = create.requests(data);
  try {
    // A warm-up run, not counted: the first seconds of a fresh server (compilation, caches, the
    // first pages of new tables) would otherwise fall on whichever variant goes first.
    await runLoad({ url: server.url, connections: options.connections, seconds: 2, next });
    if (concurrency > 0) await sleep(2000);
    const rounds: { none: number; one: number }[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const round = { none: 0, one: 0 };
      for (const variant of r % 2 === 0 ? (['none', 'one'] as const) : (['one', 'none'] as const)) {
        const res = await fetch(`${server.url}/api/webhooks/${endpointId}`, { method: 'PATCH', headers: { authorization: token, 'content-type': 'application/json' }, body: JSON.stringify({ enabled: variant === 'one' }) });
        if (!res.ok) throw new Error(`cannot switch the endpoint: ${res.status} ${await res.text()}`);
        await sleep(300);
        const result = await runLoad({ url: server.url, connections: options.connections, seconds: options.seconds, next });
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`creates failed: ${JSON.stringify(result.statusCodes)}, ${result.errors} errors`);
        round[variant] = result.reqPerSec;
        // Delivering here: the next measurement starts once this one's deliveries are sent.
        if (concurrency > 0) await sleep(2000);
      }
      rounds.push(round);
    }
    return rounds;
  } finally {
    await server.stop();
  }
}

async function benchEngine(engine: 'sqlite' | 'postgres', options: WebhooksBenchOptions, receiverPort: number, logDir: string): Promise<WebhooksBenchRow> {
  const { deliveriesPerSec, floorPerSec } = await deliveryThroughput(engine, options, receiverPort);
  const outbox = await httpCreateRounds(engine, options, receiverPort, 0, logDir);
  const delivering = await httpCreateRounds(engine, options, receiverPort, options.concurrency, logDir);
  return {
    engine,
    deliveriesPerSec,
    floorPerSec,
    createsNone: median(outbox.map((r) => r.none)),
    createsOne: median(outbox.map((r) => r.one)),
    ratio: median(outbox.map((r) => r.one / r.none)),
    deliveringRatio: median(delivering.map((r) => r.one / r.none)),
    rounds: outbox,
  };
}

export async function runWebhooksBench(options: WebhooksBenchOptions, logDir: string): Promise<WebhooksBenchRow[]> {
  const receiver = await startReceiver();
  const rows: WebhooksBenchRow[] = [];
  try {
    for (const engine of options.engines) {
      console.log(`webhooks: ${engine}…`);
      rows.push(await benchEngine(engine, options, receiver.port, logDir));
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
    '| engine | deliveries/s | floor: plain POSTs/s | deliveries / floor | creates/s, no endpoint | creates/s, one endpoint | one / none | one / none, delivering on the same node |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.engine} | ${fmt(r.deliveriesPerSec)} | ${fmt(r.floorPerSec)} | ${((100 * r.deliveriesPerSec) / r.floorPerSec).toFixed(1)} % | ${fmt(r.createsNone)} | ${fmt(r.createsOne)} | ${(100 * r.ratio).toFixed(1)} % | ${(100 * r.deliveringRatio).toFixed(1)} % |`),
    "creates/s: the benchmark's create scenario (HTTP POST of a post on the seeded 10,000-post dataset) to `basalt serve` with --webhook-concurrency 0 (it writes the outbox rows; another node would send them); the last column: a server that also sends the deliveries meanwhile (--webhook-concurrency 32).",
    ...rows.map((r) => `${r.engine} rounds (none → one creates/s): ${r.rounds.map((x) => `${fmt(x.none)} → ${fmt(x.one)} (${((100 * x.one) / x.none).toFixed(1)} %)`).join('; ')}`),
    'Goals: ≥ 1,000 deliveries/s on SQLite; one / none ≥ 85 %.',
  ];
  return lines.join('\n');
}
