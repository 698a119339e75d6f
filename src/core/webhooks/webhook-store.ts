/**
 * The SQL of outbound webhooks, over the internal tables `_webhooks`, `_webhookDeliveries` and
 * `_webhookAttempts` (internal-tables.ts), the same on every engine.
 */
import { transact } from '../events/transaction.js';
import { WEBHOOK_ATTEMPTS_TABLE, WEBHOOK_DELIVERIES_TABLE, WEBHOOKS_TABLE } from '../internal-tables.js';
import type { Database, Logger } from '../ports.js';
import { WEBHOOK_COLUMNS, type WebhookRow } from './webhook-endpoint.js';

export type DeliveryState = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'skipped';

export interface DeliveryRow {
  id: string;
  webhook: string;
  type: string;
  collectionRef: string;
  recordRef: string;
  payload: string;
  state: DeliveryState;
  attempts: number;
  lastStatus: number;
  lastError: string;
  nextAttempt: string;
  created: string;
  updated: string;
}

export interface AttemptRow {
  id: string;
  delivery: string;
  webhook: string;
  attempt: number;
  started: string;
  durationMs: number;
  status: number;
  responseHeaders: string | Record<string, string>;
  responseBody: string;
  error: string;
}

export const DELIVERY_COLUMNS = ['id', 'webhook', 'type', 'collectionRef', 'recordRef', 'payload', 'state', 'attempts', 'lastStatus', 'lastError', 'nextAttempt', 'created', 'updated'] as const;

/** What a later attempt changes on a delivery's row. */
const SUMMARY_COLUMNS = ['state', 'attempts', 'lastStatus', 'lastError', 'nextAttempt', 'updated'] as const;
/** Rows per multi-row insert: well under the engines' bound-parameter limits (SQLite 32,766). */
const ROWS_PER_STATEMENT = 200;

export class WebhookStore {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  async all(): Promise<WebhookRow[]> {
    return this.db.kysely.selectFrom(WEBHOOKS_TABLE).select([...WEBHOOK_COLUMNS]).orderBy('created').execute() as Promise<WebhookRow[]>;
  }

  async get(id: string): Promise<WebhookRow | null> {
    const row = await this.db.kysely.selectFrom(WEBHOOKS_TABLE).select([...WEBHOOK_COLUMNS]).where('id', '=', id).executeTakeFirst();
    return (row as WebhookRow | undefined) ?? null;
  }

  async insert(row: WebhookRow): Promise<void> {
    await this.db.kysely.insertInto(WEBHOOKS_TABLE).values(row as never).execute();
  }

  /** Updates the endpoint; false when it no longer exists. */
  async update(id: string, set: Partial<WebhookRow>): Promise<boolean> {
    const result = await this.db.kysely.updateTable(WEBHOOKS_TABLE).set(set as never).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Sets `failingSince` only if it is still empty (the first failure after a success wins). */
  async markFailing(id: string, since: string): Promise<void> {
    await this.db.kysely.updateTable(WEBHOOKS_TABLE).set({ failingSince: since } as never).where('id', '=', id).where('failingSince', '=', '').execute();
  }

  /** Deletes the endpoint with its deliveries and their attempts; false when there was none. */
  async delete(id: string): Promise<boolean> {
    return transact(this.db, async (tx) => {
      await tx.db.kysely.deleteFrom(WEBHOOK_ATTEMPTS_TABLE).where('webhook', '=', id).execute();
      await tx.db.kysely.deleteFrom(WEBHOOK_DELIVERIES_TABLE).where('webhook', '=', id).execute();
      const result = await tx.db.kysely.deleteFrom(WEBHOOKS_TABLE).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    }, undefined, this.logger);
  }

  async delivery(webhook: string, id: string): Promise<DeliveryRow | null> {
    const row = await this.db.kysely.selectFrom(WEBHOOK_DELIVERIES_TABLE).select([...DELIVERY_COLUMNS]).where('id', '=', id).where('webhook', '=', webhook).executeTakeFirst();
    return (row as DeliveryRow | undefined) ?? null;
  }

  /** The attempts of these deliveries, oldest first. */
  async attempts(deliveryIds: readonly string[]): Promise<AttemptRow[]> {
    if (deliveryIds.length === 0) return [];
    return this.db.kysely.selectFrom(WEBHOOK_ATTEMPTS_TABLE).selectAll().where('delivery', 'in', deliveryIds).orderBy('delivery').orderBy('attempt').orderBy('started').execute() as Promise<AttemptRow[]>;
  }

  private pending: { delivery: DeliveryRow; attempt: AttemptRow }[] = [];
  private flushing: Promise<void> | null = null;

  /**
   * One attempt's outcome: its row, and the delivery's summary (created by the first attempt).
   * Attempts ending together are written in one transaction (the next turn of the event loop):
   * at hundreds of deliveries a second, one commit each would be most of their cost. Resolves
   * once this attempt is written.
   */
  recordAttempt(delivery: DeliveryRow, attempt: AttemptRow): Promise<void> {
    this.pending.push({ delivery, attempt });
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
    return this.flushing;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.flushing = null;
    // One row per delivery in an upsert (a replay and a retry of one delivery may end together: the later wins).
    const deliveries = [...new Map(batch.map((b) => [b.delivery.id, b.delivery])).values()];
    await transact(this.db, async (tx) => {
      for (let i = 0; i < batch.length; i += ROWS_PER_STATEMENT) {
        await tx.db.kysely.insertInto(WEBHOOK_ATTEMPTS_TABLE).values(batch.slice(i, i + ROWS_PER_STATEMENT).map((b) => b.attempt) as never).execute();
      }
      for (let i = 0; i < deliveries.length; i += ROWS_PER_STATEMENT) {
        await tx.db.kysely
          .insertInto(WEBHOOK_DELIVERIES_TABLE)
          .values(deliveries.slice(i, i + ROWS_PER_STATEMENT) as never)
          .onConflict((oc) => oc.column('id').doUpdateSet((eb) => Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)])) as never))
          .execute();
      }
    }, undefined, this.logger);
  }

  /** A delivery's state without a new attempt (skipped because the endpoint is disabled, queued again by a replay). */
  async setDeliveryState(delivery: DeliveryRow): Promise<void> {
    const { state, nextAttempt, updated } = delivery;
    await this.db.kysely
      .insertInto(WEBHOOK_DELIVERIES_TABLE)
      .values(delivery as never)
      .onConflict((oc) => oc.column('id').doUpdateSet({ state, nextAttempt, updated } as never))
      .execute();
  }

  /** Deletes deliveries (and their attempts) last changed before `before`. */
  async prune(before: string): Promise<number> {
    return transact(this.db, async (tx) => {
      await tx.db.kysely.deleteFrom(WEBHOOK_ATTEMPTS_TABLE).where('started', '<', before).execute();
      const result = await tx.db.kysely.deleteFrom(WEBHOOK_DELIVERIES_TABLE).where('updated', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    }, undefined, this.logger);
  }
}
