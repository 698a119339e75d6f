/**
 * A script that writes 20,000 transactions to a SQLite file and closes it (sqlite-checkpointer
 * test): it must print "done" and exit 0 — the background checkpoints must neither end its event
 * loop while a write waits behind them nor keep it alive after close.
 */
import { sql } from 'kysely';
import { openSqlite } from '../../src/db/sqlite/sqlite-database.js';

const db = openSqlite({ file: process.argv[2]!, readWorkers: 0 });
await db.transaction(async (tx) => {
  await tx.rows(sql`CREATE TABLE t (n INTEGER PRIMARY KEY, b TEXT)`);
});
for (let i = 0; i < 20_000; i++) {
  await db.transaction(async (tx) => {
    await tx.rows(sql`INSERT INTO t (n, b) VALUES (${i}, ${'x'.repeat(500)})`);
  });
}
await db.close();
console.log('done');
