/**
 * The SQL functions Basalt adds to every SQLite connection (the main thread's and each read
 * worker's). Kept apart from the filter dialect so a read worker loads neither Kysely nor the
 * dialect (Kysely alone takes ~250 ms to load in a fresh worker).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { numberToText, textToNumber } from '../../core/number-text.js';

export function registerSqliteFunctions(db: BetterSqlite3.Database): void {
  // Casts that mean the same on every engine (SQLite's own CAST prints 1.0e+21, parses 'abc' as 0).
  db.function('basalt_number_text', { deterministic: true }, (x: unknown) =>
    x === null ? null : typeof x === 'number' || typeof x === 'bigint' ? numberToText(Number(x)) : String(x),
  );
  db.function('basalt_to_number', { deterministic: true }, (x: unknown) =>
    x === null ? null : typeof x === 'number' || typeof x === 'bigint' ? Number(x) : textToNumber(String(x)),
  );
}
