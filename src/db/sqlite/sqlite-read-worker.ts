/**
 * The entry of a read worker (see sqlite-read-pool.ts): one read-only connection to the database
 * file, with the same pragmas and SQL functions as the main thread's, running one read at a time.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { runConsoleRead, runConsoleWrite } from './sqlite-console-statement.js';
import { openConnection } from './sqlite-connection.js';
import { registerSqliteFunctions } from './sqlite-functions.js';
import { StatementCache } from './statement-cache.js';
import type { ReadReply, ReadRequest } from './sqlite-read-pool.js';

const db = openConnection((workerData as { file: string }).file, true);
registerSqliteFunctions(db);
const statements = new StatementCache(db);
/** SQL console writes only (sqlite-sql-console.ts): opened on the first, kept for the worker's life. */
let writer: BetterSqlite3.Database | null = null;

function consoleWriter(): BetterSqlite3.Database {
  if (writer) return writer;
  writer = openConnection((workerData as { file: string }).file, false);
  registerSqliteFunctions(writer);
  return writer;
}

/** Blobs cross the thread boundary as plain Uint8Arrays: the pool turns them back into Buffers. */
function hasBlob(rows: Record<string, unknown>[]): boolean {
  for (const row of rows) for (const key in row) if (row[key] instanceof Uint8Array) return true;
  return false;
}

parentPort!.on('message', (message: ReadRequest) => {
  if (message.type === 'clear') {
    statements.clear();
    return;
  }
  let reply: ReadReply;
  try {
    if (message.type === 'console') {
      const result = message.write ? runConsoleWrite(consoleWriter(), message) : runConsoleRead(db, message);
      parentPort!.postMessage({ id: message.id, console: result } satisfies ReadReply);
      return;
    }
    const stmt = statements.get(message.sql);
    // NB: the pool sends only statements the main reader found read-only; checked again here so a
    // worker can never write, whatever it is sent.
    if (!stmt.reader || !stmt.readonly) throw new Error('not a read-only statement');
    const rows = stmt.all(message.params as unknown[]) as Record<string, unknown>[];
    reply = { id: message.id, rows, blobs: hasBlob(rows) };
  } catch (err) {
    const e = err as { message?: unknown; code?: unknown };
    reply = { id: message.id, error: { message: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : undefined } };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ id: 0, ready: true } satisfies ReadReply);
