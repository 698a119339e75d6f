/**
 * The entry of the stored logs' writer thread on PostgreSQL (db/log-worker-client.ts): one
 * connection of its own, opened on first use. A batch is kept raw (one `_logsRaw` row of its packed
 * bytes); an expansion takes the oldest raw batches (rows another node is expanding are skipped),
 * formats their entries (core/logs/log-batch.ts) and writes them with one `COPY … FROM STDIN`,
 * removing the raw rows in the same transaction. Measured against the one
 * `INSERT … SELECT FROM unnest($1…$5)` the COPY replaces (1,000 request entries a batch): the
 * server spent ~25 % less time a row, and this side half (array literals escape every element;
 * the COPY text only the rare tab, newline and backslash).
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { workerData } from 'node:worker_threads';
import { readLogBatch } from '../../core/logs/log-batch.js';
import { LOG_BATCH_FORMAT, LOGS_RAW_TABLE, LOGS_TABLE } from '../../core/logs/log-store.js';
import { serveLogBatches } from '../log-worker-loop.js';
import { quoteIdent } from '../column-kinds.js';

const { url } = workerData as { url: string };

const COPY = `COPY ${quoteIdent(LOGS_TABLE)} ("id", "level", "message", "data", "created") FROM STDIN`;
const RAW = quoteIdent(LOGS_RAW_TABLE);

/** Characters COPY's text format escapes, and NUL, which PostgreSQL text cannot hold. */
// eslint-disable-next-line no-control-regex -- NUL is what is looked for
const SPECIAL = /[\\\t\n\r\u0000]/;
// eslint-disable-next-line no-control-regex -- as above
const SPECIALS = /[\\\t\n\r\u0000]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\uFFFD' };

/** A value as a field of COPY's text format. */
export function copyField(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIALS, (ch) => ESCAPES[ch]) : value;
}

let client: pg.Client | null = null;

async function connection(): Promise<pg.Client> {
  if (client) return client;
  // Named, so an operator (and a test) can tell the log writer's connection in pg_stat_activity.
  const c = new pg.Client({ connectionString: url, application_name: 'basalt-logs', statement_timeout: 30_000, query_timeout: 60_000 });
  // A lost connection fails the batch in flight; the next batch connects again.
  c.on('error', () => {
    if (client === c) client = null;
  });
  await c.connect();
  return (client = c);
}

/** Runs `work` on the connection, in a transaction; a failure drops the connection (the next call opens another). */
async function inTransaction<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await connection();
  try {
    await c.query('BEGIN');
    const result = await work(c);
    await c.query('COMMIT');
    return result;
  } catch (err) {
    // The connection's state after a failed statement (a COPY cut short) is not worth trusting.
    if (client === c) client = null;
    await c.end().catch(() => {});
    throw err;
  }
}

async function store(bytes: Uint8Array, count: number): Promise<void> {
  const c = await connection();
  try {
    await c.query(`INSERT INTO ${RAW} ("format", "entries", "bytes") VALUES ($1, $2, $3)`, [LOG_BATCH_FORMAT, count, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
  } catch (err) {
    if (client === c) client = null;
    await c.end().catch(() => {});
    throw err;
  }
}

async function expand(limit: number): Promise<number> {
  await inTransaction(async (c) => {
    const lines: string[] = [];
    const ids: string[] = [];
    let done = 0;
    while (done < limit) {
      // One batch at a time, oldest first; a batch another node is expanding is skipped.
      const { rows } = await c.query<{ id: string; format: number; entries: number; bytes: Buffer }>(
        `SELECT "id", "format", "entries", "bytes" FROM ${RAW} ${ids.length ? 'WHERE "id" <> ALL($1::bigint[])' : ''} ORDER BY "id" LIMIT 1 FOR UPDATE SKIP LOCKED`,
        ids.length ? [ids] : [],
      );
      if (rows.length === 0) break;
      const row = rows[0];
      ids.push(row.id);
      done += row.entries;
      // A batch packed by a version that packed differently cannot be read: dropped, not misread.
      if (row.format !== LOG_BATCH_FORMAT) continue;
      readLogBatch(row.bytes, (e) => {
        lines.push(`${e.id}\t${e.level}\t${copyField(e.message)}\t${copyField(e.data)}\t${e.created}\n`);
      });
    }
    if (lines.length > 0) await pipeline(Readable.from([lines.join('')]), c.query(copyFrom(COPY)));
    if (ids.length > 0) await c.query(`DELETE FROM ${RAW} WHERE "id" = ANY($1::bigint[])`, [ids]);
  });
  const c = await connection();
  const { rows } = await c.query<{ n: string }>(`SELECT COALESCE(SUM("entries"), 0) AS n FROM ${RAW}`);
  return Number(rows[0].n);
}

serveLogBatches({
  store,
  expand,
  close: async () => {
    await client?.end();
  },
});
