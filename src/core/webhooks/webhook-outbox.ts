/**
 * The transactional outbox of outbound webhooks: called by the write pipeline inside the write's
 * transaction, it enqueues one delivery job per matching endpoint on the same transaction, so a
 * committed write is always delivered (even if the node dies right after the commit) and a
 * rolled-back one never is. A create or update is matched after its row is written, a delete
 * before its row goes; an endpoint's filter is checked against the row in the transaction.
 */
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import type { RecordModel } from '../model/record-model.js';
import type { Tx } from '../events/transaction.js';
import type { OutboxWrite, WriteTransition } from '../records/write/write-context.js';
import type { Clock, Logger } from '../ports.js';
import type { StoredTrace, Tracing } from '../tracing/tracing.js';
import { compileFilter, FilterResolveError } from '../rules/compiler.js';
import { exportRecord } from '../records/record-export.js';
import type { OutboxRelay, OutboxRow } from './outbox-relay.js';
import { newMessageId } from './message-id.js';
import type { WebhookAction, WebhookEndpoint } from './webhook-endpoint.js';
import type { WebhookRegistry } from './webhook-registry.js';

export { DELIVERY_JOB } from './outbox-relay.js';

/** The payload of a delivery job: which endpoint, which message. */
export interface DeliveryJob {
  /** Endpoint id. */
  w: string;
  /** Message id (`webhook-id`). */
  m: string;
  /** Event type, e.g. `record.created`. */
  t: string;
  /** Collection and record ids, for the delivery log. */
  c: string;
  r: string;
  /**
   * The JSON body: the text as sent, or (written by the outbox, which splices the body's JSON in
   * unescaped) the parsed body, whose JSON.stringify gives back the same text.
   */
  b: string | Record<string, unknown>;
  /** Attempts made before this job (a replay continues the count). */
  a0?: number;
  /** When the event happened. */
  at: string;
}

const EVENT_TYPES: Record<WebhookAction, string> = { create: 'record.created', update: 'record.updated', delete: 'record.deleted' };

interface Message {
  type: string;
  nowMs: number;
  /** When it happened, in the API's date format. */
  at: string;
  collectionId: string;
  recordId: string;
  body: () => string;
  /** The write's span context, taken once per message; null when tracing is off. */
  trace: StoredTrace | null;
}


export interface OutboxDeps {
  schema: SchemaView;
  clock: Clock;
  logger: Logger;
  relay: OutboxRelay;
  registry: WebhookRegistry;
  /** When on, each row stores the write's span context for its delivery job. @default null */
  tracing?: Tracing | null;
}

/**
 * The record as a superuser sees it without its hidden fields: every visible field (the email of
 * an auth record included), never a password hash or token key.
 */
function recordData(record: RecordModel): Record<string, unknown> {
  return exportRecord(record, { seesHidden: false, managedIds: new Set([String(record.values.id)]) });
}

export class WebhookOutbox {
  constructor(private readonly deps: OutboxDeps) {}

  /** Enqueues the deliveries of one record write on `tx`. */
  async recordWritten(tx: Tx, action: WebhookAction, record: RecordModel, previous: RecordModel | null, transition?: WriteTransition): Promise<void> {
    const collection = record.collection;
    const endpoints = this.deps.registry.matching(collection.id, collection.data.system === true, action);
    if (endpoints.length === 0) return;
    const message = this.message(EVENT_TYPES[action], record, action === 'update' ? previous : null, transition);
    for (const endpoint of endpoints) {
      if (endpoint.filterExpr && !(await this.passesFilter(tx, endpoint, collection, String(record.values.id)))) continue;
      await this.enqueue(tx, endpoint.id, message);
    }
  }

  /**
   * A create's or update's deliveries, prepared before its row is written: the rows of the
   * endpoints without a filter become the companion INSERT (or are added in `finish` when the
   * statement did not carry it); endpoints with a filter are checked against the written row in
   * `finish`.
   */
  prepare(action: 'create' | 'update', record: RecordModel, previous: RecordModel | null, transition?: WriteTransition): OutboxWrite | null {
    const collection = record.collection;
    const endpoints = this.deps.registry.matching(collection.id, collection.data.system === true, action);
    if (endpoints.length === 0) return null;
    const message = this.message(EVENT_TYPES[action], record, action === 'update' ? previous : null, transition);
    const rows = endpoints.filter((e) => !e.filterExpr).map((e) => this.row(e.id, message));
    const filtered = endpoints.filter((e) => e.filterExpr);
    const relay = this.deps.relay;
    return {
      companion: rows.length > 0 ? () => relay.insertRows(rows) : null,
      finish: async (tx, carried) => {
        if (carried) relay.added(tx);
        else for (const row of rows) await relay.add(tx, row);
        for (const endpoint of filtered) {
          if (await this.passesFilter(tx, endpoint, collection, String(record.values.id))) await this.enqueue(tx, endpoint.id, message);
        }
      },
    };
  }

  /**
   * A workflow transition's `webhook` effect: a `record.transitioned` message to endpoint
   * `endpointId` whatever it subscribes to, in the transition's transaction. An endpoint deleted
   * since the workflow was saved is skipped with a warning (the transition goes on); a disabled
   * one gets the delivery logged as skipped, to replay once it is enabled again.
   */
  async sendTransition(tx: Tx, endpointId: string, record: RecordModel, previous: RecordModel | null, transition: WriteTransition): Promise<void> {
    const endpoint = this.deps.registry.get(endpointId);
    if (!endpoint) {
      this.deps.logger.warn({ webhook: endpointId, collection: record.collection.name, transition: transition.name }, 'webhooks: a workflow webhook effect names an endpoint that does not exist; skipped');
      return;
    }
    await this.enqueue(tx, endpoint.id, this.message('record.transitioned', record, previous, transition));
  }

  private message(type: string, record: RecordModel, previous: RecordModel | null, transition?: WriteTransition): Message {
    const nowMs = this.deps.clock.now();
    const collection = record.collection;
    const iso = new Date(nowMs).toISOString();
    let body: string | null = null;
    return {
      type,
      nowMs,
      at: iso.replace('T', ' '),
      collectionId: collection.id,
      recordId: String(record.values.id),
      trace: this.deps.tracing?.storedTrace() ?? null,
      // Built once, for the first endpoint that wants it: the same bytes go to every endpoint.
      body: () =>
        (body ??= JSON.stringify({
          type,
          timestamp: iso,
          data: {
            collectionId: collection.id,
            collectionName: collection.name,
            record: recordData(record),
            ...(previous ? { previous: recordData(previous) } : {}),
            ...(transition ? { transition } : {}),
          },
        })),
    };
  }

  private async enqueue(tx: Tx, endpointId: string, m: Message): Promise<void> {
    await this.deps.relay.add(tx, this.row(endpointId, m));
  }

  /** The outbox row of message `m` to one endpoint: a new message id, the delivery job's payload. */
  private row(endpointId: string, m: Message): OutboxRow {
    const messageId = newMessageId(m.nowMs);
    const meta: Omit<DeliveryJob, 'b'> = { w: endpointId, m: messageId, t: m.type, c: m.collectionId, r: m.recordId, at: m.at };
    // The body's JSON goes in as a JSON value, not a string: no second escaping pass, a narrower row.
    const metaJson = JSON.stringify(meta);
    return { id: messageId, job: `${metaJson.slice(0, -1)},"b":${m.body()}}`, trace: m.trace };
  }

  /** Whether the row `id` (as the transaction sees it) matches the endpoint's filter. */
  private async passesFilter(tx: Tx, endpoint: WebhookEndpoint, collection: CollectionModel, id: string): Promise<boolean> {
    let predicate;
    try {
      predicate = compileFilter(endpoint.filterExpr!, { schema: this.deps.schema, collection, dialect: tx.db.filter, request: null, allowHiddenFields: true, now: new Date(this.deps.clock.now()) }, '__r');
    } catch (err) {
      // The collection changed under the filter since the endpoint was saved: it matches nothing.
      if (!(err instanceof FilterResolveError)) throw err;
      this.deps.logger.warn({ webhook: endpoint.id, collection: collection.name, err: err.message }, 'webhooks: the endpoint filter no longer resolves; skipping');
      return false;
    }
    const rows = await tx.db.rows(sql`SELECT 1 AS ${sql.id('ok')} FROM ${sql.id(collection.table)} AS ${sql.id('__r')} WHERE ${sql.ref('__r.id')} = ${tx.db.filter.param(id, 'text')} AND ${predicate} LIMIT 1`);
    return rows.length > 0;
  }
}
