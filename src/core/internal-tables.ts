/**
 * Tables Basalt keeps for itself, outside the collections (so neither the records API nor a
 * superuser's record view ever exposes what they hold): authenticator-app secrets, API keys, the
 * cron claims, idempotency keys, the events webhook receivers processed, and the job queue's `_jobs` (its engine-specific DDL lives with its JobStore).
 * Each is created on start-up when missing, and an existing one gains the columns added since it
 * was made, so existing databases follow on upgrade.
 */
import { sql } from 'kysely';
import { parseIndex } from './collections/index-definition.js';
import type { ColumnDefinition, Database } from './ports.js';

export const TOTP_TABLE = '_totps';
export const API_KEYS_TABLE = '_apiKeys';
/** Workflows (core/workflows): the transitions each record went through, newest last. */
export const WORKFLOW_HISTORY_TABLE = '_workflowHistory';
/** Workflows: the approvals given to a transition of a record in its current state. */
export const WORKFLOW_APPROVALS_TABLE = '_workflowApprovals';
/** Workflows: when each record entered its current state (the marker its `after` timers check). */
export const WORKFLOW_STATES_TABLE = '_workflowStates';
/** Cron ticks claimed by a node (core/cron/cron-runs.ts): one row per (cron, tick) across the cluster. */
export const CRON_RUNS_TABLE = '_cronRuns';
/** Outbound webhook endpoints, their deliveries (one per message) and each delivery's attempts (core/webhooks/). */
export const WEBHOOKS_TABLE = '_webhooks';
export const WEBHOOK_DELIVERIES_TABLE = '_webhookDeliveries';
export const WEBHOOK_ATTEMPTS_TABLE = '_webhookAttempts';
/** Deliveries written by record writes, waiting for the relay to move them into the job queue (core/webhooks/outbox-relay.ts). */
export const WEBHOOK_OUTBOX_TABLE = '_webhookOutbox';
/** Events inbound webhook receivers processed (core/webhooks/webhook-event-store.ts): one row per (receiver, event id). */
export const WEBHOOK_EVENTS_TABLE = '_webhookEvents';
/** Stored answers of requests sent with an `Idempotency-Key` (core/idempotency/idempotency-store.ts). */
export const IDEMPOTENCY_TABLE = '_idempotencyKeys';

/**
 * One row per collection table: a version bumped by a trigger on every row written to it, in
 * the writing transaction (SchemaManager.ensureChangeCounter). The count cache
 * (core/records/count-cache.ts) trusts a stored count only at the versions it was taken at.
 */
export const DATA_VERSIONS_TABLE = '_dataVersions';

const text = (name: string, extra: Partial<ColumnDefinition> = {}): ColumnDefinition => ({ name, kind: 'text', nullable: false, default: '', ...extra });

interface InternalTable {
  name: string;
  columns: ColumnDefinition[];
  indexes: string[];
  /** Keyed by the engine's rowid on SQLite, no primary-key index (see SchemaManager.createTable). */
  rowidKeyed?: boolean;
}

const TABLES: InternalTable[] = [
  {
    name: DATA_VERSIONS_TABLE,
    columns: [text('id', { primaryKey: true }), { name: 'v', kind: 'number', nullable: false, default: 0 }],
    indexes: [],
  },
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
    name: WORKFLOW_HISTORY_TABLE,
    columns: [
      text('id', { primaryKey: true }),
      text('collectionRef'),
      text('recordRef'),
      text('transition'),
      text('fromState'),
      text('toState'),
      text('byCollection'),
      text('byRecord'),
      text('comment'),
      { name: 'seq', kind: 'number', nullable: false, default: 0 },
      text('created'),
    ],
    indexes: [`CREATE INDEX idx_workflowHistory_record ON ${WORKFLOW_HISTORY_TABLE} (collectionRef, recordRef, seq)`],
  },
  {
    name: WORKFLOW_APPROVALS_TABLE,
    columns: [text('id', { primaryKey: true }), text('collectionRef'), text('recordRef'), text('transition'), text('entry'), text('byCollection'), text('byRecord'), text('created')],
    // One approval per approver, transition and stay in the state: the same approver twice counts once.
    indexes: [`CREATE UNIQUE INDEX idx_workflowApprovals_approver ON ${WORKFLOW_APPROVALS_TABLE} (collectionRef, recordRef, transition, entry, byCollection, byRecord)`],
  },
  {
    name: WORKFLOW_STATES_TABLE,
    columns: [text('id', { primaryKey: true }), text('collectionRef'), text('recordRef'), text('state'), text('entry'), text('entered')],
    indexes: [`CREATE UNIQUE INDEX idx_workflowStates_record ON ${WORKFLOW_STATES_TABLE} (collectionRef, recordRef)`],
  },
  {
    name: WEBHOOKS_TABLE,
    columns: [
      text('id', { primaryKey: true }),
      text('url'),
      { name: 'collections', kind: 'json', nullable: false, default: '[]' },
      { name: 'actions', kind: 'json', nullable: false, default: '[]' },
      text('filter'),
      { name: 'headers', kind: 'json', nullable: false, default: '{}' },
      { name: 'enabled', kind: 'bool', nullable: false, default: true },
      // NB: secrets, never returned after the create (or rotate) answer.
      text('secret'),
      text('previousSecret'),
      text('previousSecretExpires'),
      text('failingSince'),
      text('disabledReason'),
      text('created'),
      text('updated'),
    ],
    indexes: [],
  },
  {
    name: WEBHOOK_DELIVERIES_TABLE,
    columns: [
      text('id', { primaryKey: true }),
      text('webhook'),
      text('type'),
      text('collectionRef'),
      text('recordRef'),
      text('payload'),
      text('state'),
      { name: 'attempts', kind: 'number', nullable: false, default: 0 },
      { name: 'lastStatus', kind: 'number', nullable: false, default: 0 },
      text('lastError'),
      text('nextAttempt'),
      text('created'),
      text('updated'),
    ],
    indexes: [`CREATE INDEX idx_webhookDeliveries_webhook ON ${WEBHOOK_DELIVERIES_TABLE} (webhook, created)`, `CREATE INDEX idx_webhookDeliveries_prune ON ${WEBHOOK_DELIVERIES_TABLE} (updated)`],
  },
  {
    name: WEBHOOK_ATTEMPTS_TABLE,
    columns: [
      text('id', { primaryKey: true }),
      text('delivery'),
      text('webhook'),
      { name: 'attempt', kind: 'number', nullable: false, default: 0 },
      text('started'),
      { name: 'durationMs', kind: 'number', nullable: false, default: 0 },
      { name: 'status', kind: 'number', nullable: false, default: 0 },
      { name: 'responseHeaders', kind: 'json', nullable: false, default: '{}' },
      text('responseBody'),
      text('error'),
    ],
    indexes: [`CREATE INDEX idx_webhookAttempts_delivery ON ${WEBHOOK_ATTEMPTS_TABLE} (delivery, attempt)`, `CREATE INDEX idx_webhookAttempts_prune ON ${WEBHOOK_ATTEMPTS_TABLE} (started)`],
  },
  {
    // Append-only on purpose: every write a webhook listens to adds a row here, so on SQLite the
    // rows (~0.5 KiB, the message inside) are keyed by rowid: one page per insert. (A WITHOUT
    // ROWID table keeps whole rows in its interior pages: with rows this wide, 2.8 pages a row.)
    name: WEBHOOK_OUTBOX_TABLE,
    // `trace`: the write's span context (a StoredTrace) when tracing is on, handed to the delivery job; NULL when off.
    columns: [text('id', { primaryKey: true }), text('job'), { name: 'trace', kind: 'text', nullable: true, default: null }],
    indexes: [],
    rowidKeyed: true,
  },
  {
    name: WEBHOOK_EVENTS_TABLE,
    columns: [text('id', { primaryKey: true }), text('receiver'), text('eventId'), text('type'), text('payloadHash'), text('received'), text('expires')],
    // The unique key is the idempotency: of two deliveries of one event, one inserts its row.
    indexes: [`CREATE UNIQUE INDEX idx_webhookEvents_event ON ${WEBHOOK_EVENTS_TABLE} (receiver, eventId)`, `CREATE INDEX idx_webhookEvents_expires ON ${WEBHOOK_EVENTS_TABLE} (expires)`],
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

/**
 * A rowid-keyed table made by an earlier version as WITHOUT ROWID (it has no rowid) is rebuilt
 * with its rows, in the start-up transaction.
 */
async function rekeyByRowid(db: Database, table: InternalTable): Promise<void> {
  if (db.engine !== 'sqlite') return;
  try {
    await db.rows(sql`SELECT ${db.filter.rowid('t')} FROM ${sql.id(table.name)} AS ${sql.id('t')} LIMIT 0`);
    return;
  } catch {
    // No rowid: rebuild below.
  }
  const old = `${table.name}_old`;
  const columns = sql.join(table.columns.map((c) => sql.id(c.name)));
  await db.schema.renameTable(table.name, old);
  await db.schema.createTable(table.name, table.columns, { rowidKeyed: true });
  await db.rows(sql`INSERT INTO ${sql.id(table.name)} (${columns}) SELECT ${columns} FROM ${sql.id(old)} ORDER BY ${sql.id(table.columns.find((c) => c.primaryKey)!.name)}`);
  await db.schema.dropTable(old);
}

/** Adds the columns of `table` an earlier version did not have (new columns are nullable or have a default). */
async function addMissingColumns(db: Database, table: InternalTable): Promise<void> {
  const present = new Set(await db.schema.columnNames(table.name));
  for (const column of table.columns) if (!present.has(column.name)) await db.schema.addColumn(table.name, column);
}

/** Creates the internal tables that do not exist yet, and adds missing columns to those that do (inside the start-up transaction). */
export async function ensureInternalTables(db: Database): Promise<void> {
  for (const table of TABLES) {
    if (await db.schema.tableExists(table.name)) {
      // Columns first: a rebuild copies every column of the current layout.
      await addMissingColumns(db, table);
      if (table.rowidKeyed) await rekeyByRowid(db, table);
      continue;
    }
    await db.schema.createTable(table.name, table.columns, { rowidKeyed: table.rowidKeyed });
    for (const index of table.indexes) await db.schema.createIndex(parseIndex(index));
  }
  await db.jobs.ensureSchema(db);
}

/** Internal tables with rows owned by a record of a collection with a workflow: removed with the record and the collection. */
export const WORKFLOW_TABLES = [WORKFLOW_HISTORY_TABLE, WORKFLOW_APPROVALS_TABLE, WORKFLOW_STATES_TABLE];

/** Internal tables with rows owned by an auth record: removed with the record. */
export const AUTH_RECORD_TABLES = [TOTP_TABLE];
