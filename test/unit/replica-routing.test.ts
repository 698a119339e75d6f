/** The pure parts of read-replica routing: WAL positions and which statements a standby may run. */
import { describe, expect, it } from 'vitest';
import { insertToEnd, parseLsn } from '../../src/db/postgres/replicas/lsn.js';
import { replicaSafe } from '../../src/db/postgres/replicas/replica-safe.js';

describe('parseLsn', () => {
  it('reads both halves, so positions compare across a 4 GiB boundary', () => {
    expect(parseLsn('0/3003C80')).toBe(0x3003c80n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
  });

  it('reads null (nothing replayed yet) as 0 and refuses anything else', () => {
    expect(parseLsn(null)).toBe(0n);
    expect(() => parseLsn('16-B374D848')).toThrow(/not a WAL position/);
    expect(() => parseLsn('123456789/0')).toThrow(/not a WAL position/);
  });
});

describe('insertToEnd', () => {
  const wal = { blockSize: 8192n, segmentSize: 16n << 20n };

  it('moves an insert position just past a page header back to the page boundary (a replay position)', () => {
    expect(insertToEnd(8192n + 24n, wal)).toBe(8192n);
    expect(insertToEnd((16n << 20n) + 40n, wal)).toBe(16n << 20n);
    expect(insertToEnd((3n << 32n) + (16n << 20n) * 5n + 8192n * 7n + 24n, wal)).toBe((3n << 32n) + (16n << 20n) * 5n + 8192n * 7n);
  });

  it('leaves every other position as it is', () => {
    expect(insertToEnd(0x3003c80n, wal)).toBe(0x3003c80n);
    expect(insertToEnd(8192n + 40n, wal)).toBe(8192n + 40n);
    expect(insertToEnd((16n << 20n) + 24n, wal)).toBe((16n << 20n) + 24n);
    expect(insertToEnd(8192n, wal)).toBe(8192n);
  });
});

describe('replicaSafe', () => {
  it.each([
    'SELECT "r"."id" FROM "posts" AS "r" WHERE "r"."id" = $1 LIMIT 1',
    'WITH "__event" AS (SELECT $1 AS "id") SELECT 1 AS "i" FROM "__event"',
    'SELECT COUNT(*) AS "n" FROM "posts" AS "r" WHERE 1=1',
  ])('lets a plain read go to a replica: %s', (text) => {
    expect(replicaSafe(text)).toBe(true);
  });

  it.each([
    "SELECT pg_notify('basalt_jobs', $1)",
    'SELECT nextval(\'s\')',
    "SELECT set_config('statement_timeout', '5', true)",
    "SELECT pg_try_advisory_lock(hashtext('basalt:cron'))",
    'SELECT "r"."id" FROM "posts" AS "r" WHERE "r"."id" = $1 LIMIT 1 FOR UPDATE',
    'SELECT * FROM "_jobs" FOR NO KEY UPDATE SKIP LOCKED',
    'SELECT * FROM "t" for share',
  ])('keeps on the primary what a standby refuses or must not do: %s', (text) => {
    expect(replicaSafe(text)).toBe(false);
  });
});
