/**
 * The realtime clients of this node (spec §1.6): connect, bind auth and subscriptions (each POST
 * replaces them), and find who subscribed to a topic. Fan-out of record events lives in
 * event-fanout.ts; messages between nodes in cluster-bridge.ts.
 */
import { ApiError, badRequest, fieldError, forbidden, type ErrorData } from '../errors.js';
import { authOf, type Principal } from '../auth/principal.js';
import { callerAs } from '../records/caller.js';
import { checkClientQuery } from '../records/client-query.js';
import { filterPredicate, sortPlan, type QueryContext } from '../records/record-query.js';
import type { RecordModel } from '../model/record-model.js';
import { noMetrics, type Metrics } from '../metrics/metrics.js';
import { RealtimeClient, type RealtimeChannel } from './realtime-client.js';
import { isFieldError, MAX_DISTINCT_OPTIONS, MAX_SUBSCRIPTIONS, parseSubscription, subscriptionRequest, type CheckedSubscription, type Subscription } from './subscription.js';

export interface RealtimeLimits {
  /** Close a connection after this long without a message. @default 5 minutes */
  idleTimeoutMs: number;
  /** Close every connection after this long, whatever it does. @default 30 minutes */
  maxLifetimeMs: number;
}


/** Counts every frame written (one wrapper per connection, only when metrics are on). */
function countedChannel(channel: RealtimeChannel, metrics: Metrics): RealtimeChannel {
  return {
    write(frame) {
      metrics.realtimeEventSent();
      return channel.write(frame);
    },
    close: () => channel.close(),
  };
}

export interface TopicEntry {
  client: RealtimeClient;
  subscription: CheckedSubscription;
}

export const MESSAGE_INVALID_CLIENT = 'Missing or invalid client id.';
export const MESSAGE_AUTH_MISMATCH = "The current and the previous request authorization don't match.";

export const authKeyOf = (auth: RecordModel | null): string => (auth ? `${auth.collection.id}/${String(auth.values.id)}` : '');

export class RealtimeHub {
  private readonly clients = new Map<string, RealtimeClient>();
  private readonly byTopic = new Map<string, Set<TopicEntry>>();
  private readonly byAuth = new Map<string, Set<RealtimeClient>>();
  private readonly entries = new WeakMap<RealtimeClient, TopicEntry[]>();

  /**
   * @param ctx the schema and database the subscription filters compile against (at subscribe
   *   time too, so a hidden field or a typo is a 400 rather than a subscription that stays silent)
   */
  constructor(
    private readonly limits: RealtimeLimits,
    private readonly ctx?: () => QueryContext,
    /** Counts the messages written to clients. @default noMetrics */
    private readonly metrics: Metrics = noMetrics,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Registers a new connection and sends its `PB_CONNECT`. */
  connect(channel: RealtimeChannel, ip: string): RealtimeClient {
    const client = new RealtimeClient(this.metrics.enabled ? countedChannel(channel, this.metrics) : channel, ip, (c) => this.forget(c));
    this.clients.set(client.id, client);
    client.startTimers(this.limits.idleTimeoutMs, this.limits.maxLifetimeMs);
    client.send('PB_CONNECT', JSON.stringify({ clientId: client.id }));
    return client;
  }

  find(clientId: string): RealtimeClient | undefined {
    return this.clients.get(clientId);
  }

  /** `POST /api/realtime`: validates, checks the client is the caller's, and replaces its subscriptions. */
  subscribe(body: Record<string, unknown>, who: Principal, ip: string): void {
    const errors: ErrorData = {};
    let refused = null as ApiError | null;
    const clientId = body.clientId;
    if (typeof clientId !== 'string' || clientId === '') errors.clientId = fieldError('validation_required', 'Missing required value.');
    const raw = body.subscriptions ?? [];
    const subscriptions: CheckedSubscription[] = [];
    if (!Array.isArray(raw)) {
      errors.subscriptions = fieldError('validation_invalid_value', 'Must be a list of topics.');
    } else if (raw.length > MAX_SUBSCRIPTIONS) {
      errors.subscriptions = fieldError('validation_length_too_long', `At most ${MAX_SUBSCRIPTIONS} topics.`, { max: MAX_SUBSCRIPTIONS });
    } else {
      raw.forEach((item, i) => {
        const parsed = parseSubscription(item);
        if (isFieldError(parsed)) errors[`subscriptions.${i}`] = parsed;
        else {
          // The options are a client query like any other: the same gate, for the same principal.
          try {
            subscriptions.push(this.checked(parsed, who));
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            if (err.status === 403) refused ??= err;
            errors[`subscriptions.${i}`] = fieldError(err.status === 403 ? 'validation_forbidden_options' : 'validation_invalid_options', err.message);
          }
        }
      });
    }
    if (new Set(subscriptions.map((s) => s.optionsKey).filter(Boolean)).size > MAX_DISTINCT_OPTIONS) {
      errors.subscriptions = fieldError('validation_too_many_options', `At most ${MAX_DISTINCT_OPTIONS} different subscription options (filter, expand, fields, headers) per client.`, { max: MAX_DISTINCT_OPTIONS });
    }
    if (refused) throw new ApiError(403, refused.message, errors);
    if (Object.keys(errors).length > 0) throw badRequest('Something went wrong while processing your request.', errors);
    const client = this.clients.get(clientId as string);
    if (!client) throw new ApiError(404, MESSAGE_INVALID_CLIENT);
    if (client.authBound && authKeyOf(client.auth) !== '' && authKeyOf(client.auth) !== authKeyOf(authOf(who))) throw forbidden(MESSAGE_AUTH_MISMATCH);
    // A client id is only good from the address that opened the connection.
    if (client.ip !== ip) throw badRequest(MESSAGE_INVALID_CLIENT);
    this.bind(client, who);
    this.index(client, dedupe(subscriptions));
  }

  /**
   * The subscription's options through the client-query gate for `who`; when the topic names a
   * collection, its filter and sort are compiled against it as a list's would be (the event-time
   * check compiles them again, for the collection as it is then).
   */
  private checked(subscription: Subscription, who: Principal): CheckedSubscription {
    const caller = callerAs(who, subscriptionRequest(subscription, authOf(who)));
    const checked = checkClientQuery(subscription.query, caller);
    const ctx = this.ctx?.();
    const collection = ctx?.schema.find(subscription.topic.split('/')[0]);
    if (ctx && collection) {
      filterPredicate(ctx, collection, checked, caller);
      sortPlan(ctx, collection, checked, caller);
    }
    return { ...subscription, checked };
  }

  /** Entries subscribed to exactly `topic` (raw subscription strings may differ by options). */
  subscribers(topic: string): Iterable<TopicEntry> {
    return this.byTopic.get(topic) ?? [];
  }

  /** Clients authenticated as `auth` (to refresh or drop them when that record changes). */
  clientsOf(auth: RecordModel): RealtimeClient[] {
    return [...(this.byAuth.get(authKeyOf(auth)) ?? [])];
  }

  /** Replaces the auth record of clients bound to it (an update that keeps its tokens valid). */
  refreshAuth(record: RecordModel): void {
    for (const client of this.clientsOf(record)) {
      const p = client.principal;
      if (p.kind === 'record' || p.kind === 'superuser') client.principal = { kind: p.kind, auth: record };
    }
  }

  closeAll(): void {
    for (const client of [...this.clients.values()]) client.close();
  }

  private bind(client: RealtimeClient, who: Principal): void {
    const oldKey = authKeyOf(client.auth);
    const newKey = authKeyOf(authOf(who));
    if (oldKey !== newKey) {
      if (oldKey) this.byAuth.get(oldKey)?.delete(client);
      if (newKey) {
        const set = this.byAuth.get(newKey) ?? new Set();
        set.add(client);
        this.byAuth.set(newKey, set);
      }
    }
    client.principal = who;
    client.authBound = true;
  }

  private index(client: RealtimeClient, subscriptions: CheckedSubscription[]): void {
    this.unindex(client);
    client.subscriptions = subscriptions;
    const entries = subscriptions.map((subscription) => ({ client, subscription }));
    for (const entry of entries) {
      const set = this.byTopic.get(entry.subscription.topic) ?? new Set();
      set.add(entry);
      this.byTopic.set(entry.subscription.topic, set);
    }
    this.entries.set(client, entries);
  }

  private unindex(client: RealtimeClient): void {
    for (const entry of this.entries.get(client) ?? []) {
      const set = this.byTopic.get(entry.subscription.topic);
      set?.delete(entry);
      if (set && set.size === 0) this.byTopic.delete(entry.subscription.topic);
    }
    this.entries.delete(client);
  }

  private forget(client: RealtimeClient): void {
    this.unindex(client);
    const key = authKeyOf(client.auth);
    if (key) {
      const set = this.byAuth.get(key);
      set?.delete(client);
      if (set && set.size === 0) this.byAuth.delete(key);
    }
    this.clients.delete(client.id);
  }
}

/** The same subscription string twice is one listener on the SDK's side: one message. */
function dedupe(subscriptions: CheckedSubscription[]): CheckedSubscription[] {
  const seen = new Set<string>();
  return subscriptions.filter((s) => (seen.has(s.raw) ? false : (seen.add(s.raw), true)));
}
