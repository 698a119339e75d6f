/**
 * `app.webhooks`: outbound webhook endpoints and their delivery log, as the superuser API
 * (`/api/webhooks`, docs/webhooks.md) uses them. Creates an endpoint with a new signing secret
 * (shown once), rotates it with a grace period in which old and new both sign, lists deliveries
 * with their attempts, replays one. The delivery path itself is webhook-outbox.ts (enqueue, in
 * the write's transaction) and webhook-delivery.ts (each attempt, as a job).
 */
import type { Metrics } from '../metrics/metrics.js';
import { sql } from 'kysely';
import type { WebhooksConfig } from '../config.js';
import { badRequest, fieldError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { makeField } from '../collections/scaffolds.js';
import { internalTableModel } from '../collections/internal-table-model.js';
import { listInternalTable } from '../collections/internal-table-list.js';
import type { SchemaView } from '../model/collection-model.js';
import type { Clock, Database, Logger, PubSub, WebhookTransport } from '../ports.js';
import type { Caller } from '../records/caller.js';
import type { QueryContext } from '../records/record-query.js';
import type { ListResult } from '../records/record-reader.js';
import { WEBHOOK_DELIVERIES_TABLE, WEBHOOKS_TABLE } from '../internal-tables.js';
import { formatDate } from '../time.js';
import { newWebhookSecret } from './signatures.js';
import { endpointOf, WEBHOOK_COLUMNS, webhookToJson, type WebhookRow } from './webhook-endpoint.js';
import { checkWebhookInput, type WebhookValues } from './webhook-input.js';
import { DELIVERY_JOB, WebhookOutbox, type DeliveryJob } from './webhook-outbox.js';
import { WebhookDelivery } from './webhook-delivery.js';
import { OutboxRelay } from './outbox-relay.js';
import type { Tracing } from '../tracing/tracing.js';
import { WebhookRegistry } from './webhook-registry.js';
import { DELIVERY_COLUMNS, WebhookStore, type AttemptRow, type DeliveryRow } from './webhook-store.js';

export interface WebhookDeps {
  db: Database;
  schema: SchemaView;
  clock: Clock;
  logger: Logger;
  jobs: JobQueue;
  pubsub: PubSub;
  transport: WebhookTransport;
  config: WebhooksConfig;
  /** For the admin lists' filter and sort. */
  query: QueryContext;
  /** How often the outbox is swept for rows a node left behind (the job queue's poll interval). */
  sweepMs: number;
  /** Counts delivery attempts by result. @default noMetrics */
  metrics?: Metrics;
  /** Deliveries run under the trace of the write that caused them (README "Tracing"). @default null */
  tracing?: Tracing | null;
}

const ID_SHAPE = /^[a-zA-Z0-9_]{1,64}$/;
/** How long the previous secret keeps signing after a rotation. @default 24 h, at most 7 days */
const DEFAULT_GRACE_S = 86_400;
const MAX_GRACE_S = 7 * 86_400;

const WEBHOOKS_MODEL = internalTableModel(WEBHOOKS_TABLE, [
  makeField('text', 'id'),
  makeField('text', 'url'),
  makeField('text', 'filter'),
  makeField('bool', 'enabled'),
  makeField('text', 'failingSince'),
  makeField('text', 'disabledReason'),
  makeField('date', 'created'),
  makeField('date', 'updated'),
]);

const DELIVERIES_MODEL = internalTableModel(WEBHOOK_DELIVERIES_TABLE, [
  makeField('text', 'id'),
  makeField('text', 'type'),
  makeField('text', 'collectionRef'),
  makeField('text', 'recordRef'),
  makeField('text', 'state'),
  makeField('number', 'attempts'),
  makeField('number', 'lastStatus'),
  makeField('text', 'lastError'),
  makeField('date', 'nextAttempt'),
  makeField('date', 'created'),
  makeField('date', 'updated'),
]);

/** The checked values of a body as the endpoint's row stores them. */
function storedValues(values: WebhookValues): Pick<WebhookRow, 'url' | 'collections' | 'actions' | 'filter' | 'headers' | 'enabled'> {
  return {
    url: values.url,
    collections: JSON.stringify(values.collections),
    actions: JSON.stringify(values.actions),
    filter: values.filter,
    headers: JSON.stringify(values.headers),
    enabled: values.enabled,
  };
}

function attemptToJson(a: AttemptRow): Record<string, unknown> {
  return {
    attempt: Number(a.attempt),
    started: a.started,
    durationMs: Number(a.durationMs),
    status: Number(a.status),
    responseHeaders: typeof a.responseHeaders === 'string' ? JSON.parse(a.responseHeaders || '{}') : a.responseHeaders,
    responseBody: a.responseBody,
    error: a.error,
  };
}

function deliveryToJson(d: DeliveryRow, attempts: readonly AttemptRow[]): Record<string, unknown> {
  let payload: unknown = d.payload;
  try {
    payload = JSON.parse(d.payload);
  } catch {
    // shown as stored
  }
  return {
    id: d.id,
    webhook: d.webhook,
    type: d.type,
    collectionId: d.collectionRef,
    recordId: d.recordRef,
    state: d.state,
    attempts: Number(d.attempts),
    lastStatus: Number(d.lastStatus),
    lastError: d.lastError,
    nextAttempt: d.nextAttempt,
    created: d.created,
    updated: d.updated,
    payload,
    attemptLog: attempts.map(attemptToJson),
  };
}

export class WebhookService {
  readonly registry: WebhookRegistry;
  readonly outbox: WebhookOutbox;
  private readonly relay: OutboxRelay;
  private readonly store: WebhookStore;
  private readonly delivery: WebhookDelivery;

  constructor(private readonly deps: WebhookDeps) {
    this.store = new WebhookStore(deps.db, deps.logger);
    this.registry = new WebhookRegistry(this.store, deps.pubsub);
    this.relay = new OutboxRelay({ db: deps.db, jobs: deps.jobs, clock: deps.clock, logger: deps.logger, sweepMs: deps.sweepMs, beforeMove: () => this.defineDeliveries(), moves: deps.config.concurrency > 0, tracing: deps.tracing });
    this.outbox = new WebhookOutbox({ schema: deps.schema, clock: deps.clock, logger: deps.logger, relay: this.relay, registry: this.registry, tracing: deps.tracing });
    this.delivery = new WebhookDelivery({ store: this.store, registry: this.registry, transport: deps.transport, clock: deps.clock, logger: deps.logger, config: deps.config, metrics: deps.metrics });
  }

  /** Loads the endpoints and starts the relay; the delivery worker starts with the first endpoint. */
  async start(): Promise<void> {
    this.registry.onLoad((count) => {
      if (count > 0) this.defineDeliveries();
    });
    await this.registry.start();
    this.relay.start();
  }

  /**
   * Defines the delivery job on this node (once): only when some endpoint exists, so that a node
   * without webhooks runs no job worker for them (the relay defines it too before it moves rows).
   */
  defineDeliveries(): void {
    if (this.deps.jobs.isDefined(DELIVERY_JOB)) return;
    this.deps.jobs.define<DeliveryJob>(DELIVERY_JOB, (job) => this.delivery.attempt(job), {
      concurrency: this.deps.config.concurrency,
      // The job's own retries are the delivery's: one attempt more than the schedule has waits.
      maxAttempts: this.deps.config.retryScheduleMs.length + 1,
      timeout: this.deps.config.timeoutMs + 5000,
    });
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await this.registry.stop();
  }

  private now(): string {
    return formatDate(new Date(this.deps.clock.now()));
  }

  private async row(id: string): Promise<WebhookRow> {
    const row = ID_SHAPE.test(id) ? await this.store.get(id) : null;
    if (!row) throw notFound();
    return row;
  }

  async list(query: Record<string, string | undefined>, caller: Caller): Promise<ListResult<Record<string, unknown>>> {
    const list = await listInternalTable<WebhookRow>(this.deps.query, WEBHOOKS_MODEL, query, caller, { defaultSort: 'created', columns: WEBHOOK_COLUMNS });
    return { ...list, items: list.items.map(webhookToJson) };
  }

  async view(id: string): Promise<Record<string, unknown>> {
    return webhookToJson(await this.row(id));
  }

  private inputDeps() {
    return { schema: this.deps.schema, dialect: this.deps.db.filter, transport: this.deps.transport };
  }

  /** Creates an endpoint; the answer carries its signing secret, the only time it is shown. */
  async create(body: unknown): Promise<Record<string, unknown>> {
    const values = await checkWebhookInput(body, null, this.inputDeps(), 'Failed to create webhook.');
    const now = this.now();
    const secret = newWebhookSecret();
    const row: WebhookRow = {
      id: newId(),
      ...storedValues(values),
      secret,
      previousSecret: '',
      previousSecretExpires: '',
      failingSince: '',
      disabledReason: '',
      created: now,
      updated: now,
    };
    await this.store.insert(row);
    await this.registry.changed();
    return { ...webhookToJson(row), secret };
  }

  async update(id: string, body: unknown): Promise<Record<string, unknown>> {
    const existing = await this.row(id);
    const values = await checkWebhookInput(body, endpointOf(existing), this.inputDeps(), 'Failed to update webhook.');
    const set: Partial<WebhookRow> = { ...storedValues(values), updated: this.now() };
    // Enabled again by hand: its failure history starts over.
    if (values.enabled && !endpointOf(existing).enabled) Object.assign(set, { failingSince: '', disabledReason: '' });
    if (!(await this.store.update(id, set))) throw notFound();
    await this.registry.changed();
    return this.view(id);
  }

  async delete(id: string): Promise<void> {
    if (!ID_SHAPE.test(id) || !(await this.store.delete(id))) throw notFound();
    await this.registry.changed();
  }

  /**
   * A new signing secret, returned once. The previous one keeps signing (deliveries carry both
   * signatures) for `graceSeconds` (default a day, 0 to drop it now), so receivers can switch.
   */
  async rotateSecret(id: string, body: unknown): Promise<Record<string, unknown>> {
    const existing = await this.row(id);
    const input = (typeof body === 'object' && body !== null ? body : {}) as { graceSeconds?: unknown };
    const grace = input.graceSeconds ?? DEFAULT_GRACE_S;
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_S) {
      throw badRequest('Failed to rotate the secret.', { graceSeconds: fieldError('validation_invalid_value', `Must be a whole number of seconds from 0 to ${MAX_GRACE_S}.`) });
    }
    const secret = newWebhookSecret();
    const nowMs = this.deps.clock.now();
    const set: Partial<WebhookRow> = {
      secret,
      previousSecret: grace > 0 ? existing.secret : '',
      previousSecretExpires: grace > 0 ? formatDate(new Date(nowMs + grace * 1000)) : '',
      updated: formatDate(new Date(nowMs)),
    };
    if (!(await this.store.update(id, set))) throw notFound();
    await this.registry.changed();
    return { ...(await this.view(id)), secret };
  }

  /** The delivery log of endpoint `id`, newest first by default, each delivery with its attempts. */
  async deliveries(id: string, query: Record<string, string | undefined>, caller: Caller): Promise<ListResult<Record<string, unknown>>> {
    await this.row(id);
    const list = await listInternalTable<DeliveryRow>(this.deps.query, DELIVERIES_MODEL, query, caller, {
      defaultSort: '-created',
      columns: DELIVERY_COLUMNS,
      where: sql`${sql.ref('__r.webhook')} = ${id}`,
    });
    const byDelivery = new Map<string, AttemptRow[]>();
    for (const a of await this.store.attempts(list.items.map((d) => d.id))) {
      const those = byDelivery.get(a.delivery);
      if (those) those.push(a);
      else byDelivery.set(a.delivery, [a]);
    }
    return { ...list, items: list.items.map((d) => deliveryToJson(d, byDelivery.get(d.id) ?? [])) };
  }

  async viewDelivery(id: string, deliveryId: string): Promise<Record<string, unknown>> {
    await this.row(id);
    const d = ID_SHAPE.test(deliveryId) ? await this.store.delivery(id, deliveryId) : null;
    if (!d) throw notFound();
    return deliveryToJson(d, await this.store.attempts([d.id]));
  }

  /** Sends a logged delivery again (same message id and body, new attempts), whatever its state. */
  async replay(id: string, deliveryId: string): Promise<Record<string, unknown>> {
    const endpoint = endpointOf(await this.row(id));
    const d = ID_SHAPE.test(deliveryId) ? await this.store.delivery(id, deliveryId) : null;
    if (!d) throw notFound();
    if (!endpoint.enabled) throw badRequest('The endpoint is disabled: enable it first (PATCH {"enabled": true}).');
    const job: DeliveryJob = { w: id, m: d.id, t: d.type, c: d.collectionRef, r: d.recordRef, b: d.payload, a0: Number(d.attempts), at: d.created };
    await this.deps.jobs.enqueue(DELIVERY_JOB, job);
    await this.store.setDeliveryState({ ...d, state: 'pending', nextAttempt: this.now(), updated: this.now() });
    return this.viewDelivery(id, deliveryId);
  }

  /** Deletes deliveries older than the retention (the built-in cron calls it). */
  prune(): Promise<number> {
    return this.store.prune(formatDate(new Date(this.deps.clock.now() - this.deps.config.retentionMs)));
  }
}
