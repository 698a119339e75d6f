/**
 * Tables Basalt keeps for itself, outside the collections (so neither the records API nor a
 * superuser's record view ever exposes what they hold): authenticator-app secrets, API keys, the
 * cron claims, idempotency keys, and the job queue's `_jobs` (its engine-specific DDL lives with its JobStore).
 * Each is created on start-up when missing, so existing databases gain them on upgrade.
 */
import { parseIndex } from './collections/index-definition.js';
import type { ColumnDefinition, Database } from './ports.js';

export const TOTP_TABLE = '_totps';
export const API_KEYS_TABLE = '_apiKeys';
/** Cron ticks claimed by a node (core/cron/cron-runs.ts): one row per (cron, tick) across the cluster. */
export const CRON_RUNS_TABLE = '_cronRuns';
/** Stored answers of requests sent with an `Idempotency-Key` (core/idempotency/idempotency-store.ts). */
export const IDEMPOTENCY_TABLE = '_idempotencyKeys';

const text = (name: string, extra: Partial<ColumnDefinition> = {}): ColumnDefinition => ({ name, kind: 'text', nullable: false, default: '', ...extra });

interface InternalTable {
  name: string;
  columns: ColumnDefinition[];
  indexes: string[];
}

const TABLES: InternalTable[] = [
  {
    name: TOTP_TABLE,
    columns: [
      text('id', { primaryKey: true }),
      text('collectionRef'),
      text('recordRef'),
      text('secret'),
      { name: 'confirmed', kind: 'bool', nullable: false, default: false },
      { name: 'recoveryCodes', kind: 'json', nullable: false, default: '[]' },
      { name: 'lastStep', kind: 'number', nullable: false, default: 0 },
      text('created'),
      text('updated'),
    ],
    indexes: [`CREATE UNIQUE INDEX idx_totps_record ON ${TOTP_TABLE} (collectionRef, recordRef)`],
  },
  {
    name: API_KEYS_TABLE,
    columns: [
      text('id', { primaryKey: true }),
      text('name'),
      text('keyHash'),
      text('keyPrefix'),
      { name: 'scopes', kind: 'json', nullable: false, default: '[]' },
      text('expires'),
      text('lastUsed'),
      text('created'),
      text('updated'),
    ],
    indexes: [`CREATE UNIQUE INDEX idx_apiKeys_hash ON ${API_KEYS_TABLE} (keyHash)`],
  },
  {
    name: CRON_RUNS_TABLE,
    columns: [text('id', { primaryKey: true }), text('cronId'), text('tick'), text('node'), text('started'), text('finished'), text('error')],
    // The unique key is the claim: of the nodes inserting the same (cronId, tick), one succeeds.
    // `tick` alone serves the pruning.
    indexes: [`CREATE UNIQUE INDEX idx_cronRuns_tick ON ${CRON_RUNS_TABLE} (cronId, tick)`, `CREATE INDEX idx_cronRuns_prune ON ${CRON_RUNS_TABLE} (tick)`],
  },
  {
    name: IDEMPOTENCY_TABLE,
    // `id` is a hash of (caller, method, path, key): the primary key is the claim.
    columns: [
      text('id', { primaryKey: true }),
      text('idempotencyKey'),
      text('principal'),
      text('route'),
      text('fingerprint'),
      text('state'),
      text('owner'),
      text('leaseUntil'),
      { name: 'status', kind: 'number', nullable: false, default: 0 },
      text('headers'),
      text('body'),
      text('expires'),
      text('created'),
    ],
    indexes: [`CREATE INDEX idx_idempotencyKeys_expires ON ${IDEMPOTENCY_TABLE} (expires)`],
  },
];

/** Creates the internal tables that do not exist yet (inside the start-up transaction). */
export async function ensureInternalTables(db: Database): Promise<void> {
  for (const table of TABLES) {
    if (await db.schema.tableExists(table.name)) continue;
    await db.schema.createTable(table.name, table.columns);
    for (const index of table.indexes) await db.schema.createIndex(parseIndex(index));
  }
  await db.jobs.ensureSchema(db);
}

/** Internal tables with rows owned by an auth record: removed with the record. */
export const AUTH_RECORD_TABLES = [TOTP_TABLE];
