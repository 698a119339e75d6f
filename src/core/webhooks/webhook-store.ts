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

  /** One attempt's outcome: its row, and the delivery's summary (created by the first attempt). */
  async recordAttempt(delivery: DeliveryRow, attempt: AttemptRow): Promise<void> {
    await transact(this.db, async (tx) => {
      await tx.db.kysely.insertInto(WEBHOOK_ATTEMPTS_TABLE).values(attempt as never).execute();
      const { id, ...rest } = delivery;
      const summary = { state: rest.state, attempts: rest.attempts, lastStatus: rest.lastStatus, lastError: rest.lastError, nextAttempt: rest.nextAttempt, updated: rest.updated };
      await tx.db.kysely
        .insertInto(WEBHOOK_DELIVERIES_TABLE)
        .values(delivery as never)
        .onConflict((oc) => oc.column('id').doUpdateSet(summary as never))
        .execute();
      void id;
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
