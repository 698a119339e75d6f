/**
 * The events receivers processed (`_webhookEvents`): one row per (receiver, event id), written in
 * the transaction of the handler that processes the event, so it exists exactly when the
 * handler's writes committed. The unique index decides between concurrent deliveries of one
 * event: the second insert waits for the first transaction (PostgreSQL) or for the write lock
 * (SQLite) and then inserts nothing.
 */
import type { ExpressionBuilder } from 'kysely';
import type { Database } from '../ports.js';
import { WEBHOOK_EVENTS_TABLE } from '../internal-tables.js';
import { newId } from '../ids.js';

export interface WebhookEventRow {
  receiver: string;
  eventId: string;
  type: string;
  /** SHA-256 (hex) of the raw body, for operators comparing deliveries. */
  payloadHash: string;
  received: string;
  /** When the row may be pruned (API-format time text). */
  expires: string;
}

/** Rows one delete statement removes at most, so a large backlog never holds a long write lock. */
const DELETE_BATCH = 500;

/** Whether the event is already recorded (a read outside any transaction: a redelivery's fast path). */
export async function isEventRecorded(db: Database, receiver: string, eventId: string): Promise<boolean> {
  const row = await db.kysely.selectFrom(WEBHOOK_EVENTS_TABLE).select('id').where('receiver', '=', receiver).where('eventId', '=', eventId).executeTakeFirst();
  return row !== undefined;
}

/** Inserts the event's row; false when the event is already recorded (by a committed or concurrent delivery). */
export async function recordEvent(db: Database, row: WebhookEventRow): Promise<boolean> {
  const result = await db.kysely
    .insertInto(WEBHOOK_EVENTS_TABLE)
    .values({ id: newId(), ...row })
    .onConflict((oc) => oc.columns(['receiver', 'eventId']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Deletes the rows whose retention ended before `now` (API-format time text), in bounded batches. */
export async function pruneWebhookEvents(db: Database, now: string): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.kysely
      .deleteFrom(WEBHOOK_EVENTS_TABLE)
      .where('id', 'in', (eb: ExpressionBuilder<any, any>) => eb.selectFrom(WEBHOOK_EVENTS_TABLE).select('id').where('expires', '<', now).limit(DELETE_BATCH))
      .executeTakeFirst();
    const n = Number(result.numDeletedRows);
    total += n;
    if (n < DELETE_BATCH) return total;
  }
}
