/**
 * Wires realtime to the rest of the app and to the other nodes. Local after-commit events are
 * delivered to this node's subscribers and published for the others; events published by other
 * nodes are delivered here. The same channel carries the OAuth2 hand-off (`@oauth2`: the browser
 * may come back to any node) and catalogue invalidation (collections and settings are cached in
 * memory on every node).
 */
import { randomBytes } from 'node:crypto';
import type { CollectionRegistry } from '../collections/collection-registry.js';
import type { EventBus } from '../events/event-bus.js';
import type { OAuth2RedirectMessage } from '../auth/oauth2/oauth2-redirects.js';
import type { Database, Logger, PubSub } from '../ports.js';
import type { RecordModel, RecordValues } from '../model/record-model.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { EventFanOut, RecordAction } from './event-fanout.js';
import type { RealtimeHub } from './realtime-hub.js';

const CHANNEL = 'events';
const OAUTH2_ACK_TIMEOUT_MS = 1500;
/**
 * Events waiting for fan-out. Writes faster than fan-out (many subscribers with their own rule
 * checks) must not grow memory without end: past this, events are dropped and the drop logged.
 */
const MAX_QUEUED_EVENTS = 10_000;

type ClusterMessage =
  | { n: string; t: 'record'; a: RecordAction; c: string; v: RecordValues; revoked?: boolean }
  | { n: string; t: 'oauth2'; r: string; id: string; m: OAuth2RedirectMessage }
  | { n: string; t: 'oauth2-ack'; r: string }
  | { n: string; t: 'collections'; ids: string[] }
  | { n: string; t: 'settings' };

/**
 * What crosses Redis: never a password hash or a tokenKey (with it, anyone reading the channel
 * could sign tokens). No realtime message shows them, and token revocation travels as `revoked`.
 */
function withoutSecrets(record: RecordModel): RecordValues {
  const values = { ...record.values };
  for (const field of record.collection.fields) if (field.type === 'password' || (record.collection.isAuth && field.name === 'tokenKey')) delete values[field.name];
  return values;
}

export interface BridgeDeps {
  pubsub: PubSub;
  events: EventBus;
  hub: RealtimeHub;
  fanout: EventFanOut;
  registry: CollectionRegistry;
  settings: SettingsService;
  db: Database;
  logger: Logger;
}

export class ClusterBridge {
  readonly nodeId = randomBytes(8).toString('hex');
  /** Fan-out chains, one per collection: an expensive collection never delays another's events. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Catalogue reloads announced by other nodes: events queued after one wait for it. */
  private catalog: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly pendingAcks = new Map<string, () => void>();
  private stops: (() => void | Promise<void>)[] = [];

  constructor(private readonly deps: BridgeDeps) {}

  async start(): Promise<void> {
    const { events, pubsub } = this.deps;
    this.stops.push(await pubsub.subscribe(CHANNEL, (text) => this.receive(text)));
    this.stops.push(
      events.on('recordCreated', ({ record }) => this.local('create', record)),
      events.on('recordUpdated', ({ record, previous }) => this.local('update', record, record.values.tokenKey !== previous.values.tokenKey)),
      events.on('recordDeleted', ({ record }) => this.local('delete', record)),
      events.on('collectionsChanged', ({ ids, remote }) => {
        if (!remote) this.publish({ n: this.nodeId, t: 'collections', ids });
      }),
      events.on('settingsChanged', ({ remote }) => {
        if (!remote) this.publish({ n: this.nodeId, t: 'settings' });
      }),
    );
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0)) await stop();
    await Promise.all([...this.queues.values(), this.catalog]);
  }

  /** The `@oauth2` hand-off: to a client on this node, or through the cluster to the node that has it. */
  async deliverOAuth2(clientId: string, message: OAuth2RedirectMessage): Promise<boolean> {
    if (this.sendOAuth2(clientId, message)) return true;
    if (!this.deps.pubsub.shared) return false;
    const r = randomBytes(8).toString('hex');
    const acked = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(r);
        resolve(false);
      }, OAUTH2_ACK_TIMEOUT_MS);
      this.pendingAcks.set(r, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    this.publish({ n: this.nodeId, t: 'oauth2', r, id: clientId, m: message });
    return acked;
  }

  private sendOAuth2(clientId: string, message: OAuth2RedirectMessage): boolean {
    const client = this.deps.hub.find(clientId);
    const subscription = client?.subscriptions.find((s) => s.topic === '@oauth2');
    if (!client || !subscription) return false;
    client.send(subscription.raw, JSON.stringify(message));
    return true;
  }

  private local(action: RecordAction, record: RecordModel, revoked = false): void {
    this.enqueue(action, record.collection.id, record, revoked);
    // Every write passes here: the copy without secrets is made only when other nodes listen.
    if (this.deps.pubsub.shared) this.publish({ n: this.nodeId, t: 'record', a: action, c: record.collection.id, v: withoutSecrets(record), ...(revoked ? { revoked } : {}) });
  }

  /**
   * Events are delivered off the writer's path, in commit order within each collection (one
   * chain per collection: a collection whose fan-out is expensive delays only its own events).
   */
  private enqueue(action: RecordAction, collectionId: string, record: RecordModel | (() => Promise<RecordModel | null>), revoked: boolean): void {
    // No connection on this node: nobody to deliver to, no client whose auth to maintain.
    if (this.deps.hub.size === 0) return;
    if (this.queued >= MAX_QUEUED_EVENTS) {
      this.deps.logger.warn({ action }, 'realtime backlog full: event dropped');
      return;
    }
    this.queued++;
    const catalog = this.catalog;
    const next: Promise<void> = (this.queues.get(collectionId) ?? Promise.resolve())
      .then(() => catalog)
      .then(async () => {
        const model = typeof record === 'function' ? await record() : record;
        if (!model) return;
        this.maintainAuth(action, model, revoked);
        await this.deps.fanout.deliver(action, model);
      })
      .catch((err) => this.deps.logger.error({ err }, 'realtime fan-out failed'))
      .finally(() => {
        this.queued--;
        if (this.queues.get(collectionId) === next) this.queues.delete(collectionId);
      });
    this.queues.set(collectionId, next);
  }

  /** Clients signed in as a record that was deleted or had its tokens revoked are disconnected. */
  private maintainAuth(action: RecordAction, record: RecordModel, revoked: boolean): void {
    if (!record.collection.isAuth) return;
    if (action === 'delete' || revoked) for (const client of this.deps.hub.clientsOf(record)) client.close();
    else if (action === 'update') this.deps.hub.refreshAuth(record);
  }

  private publish(message: ClusterMessage): void {
    if (!this.deps.pubsub.shared) return;
    this.deps.pubsub.publish(CHANNEL, JSON.stringify(message)).catch((err) => this.deps.logger.warn({ err }, 'cluster publish failed'));
  }

  private receive(text: string): void {
    let message: ClusterMessage;
    try {
      message = JSON.parse(text) as ClusterMessage;
    } catch {
      return;
    }
    if (message.n === this.nodeId) return;
    switch (message.t) {
      case 'record':
        this.enqueue(message.a, message.c, () => this.remoteRecord(message.c, message.v), message.revoked === true);
        return;
      case 'oauth2':
        if (this.sendOAuth2(message.id, message.m)) this.publish({ n: this.nodeId, t: 'oauth2-ack', r: message.r });
        return;
      case 'oauth2-ack':
        this.pendingAcks.get(message.r)?.();
        this.pendingAcks.delete(message.r);
        return;
      case 'collections':
        this.catalog = this.catalog
          .then(async () => {
            await this.deps.registry.reload(this.deps.db);
            await this.deps.events.emit('collectionsChanged', { ids: message.ids, remote: true });
          })
          .catch((err) => this.deps.logger.error({ err }, 'reloading the collections failed'));
        return;
      case 'settings':
        this.deps.settings
          .reload()
          .then(() => this.deps.events.emit('settingsChanged', { remote: true }))
          .catch((err) => this.deps.logger.error({ err }, 'reloading the settings failed'));
        return;
    }
  }

  /** The record of another node's event; a collection this node has not loaded yet is reloaded once. */
  private async remoteRecord(collectionId: string, values: RecordValues): Promise<RecordModel | null> {
    let collection = this.deps.registry.find(collectionId);
    if (!collection) {
      await this.deps.registry.reload(this.deps.db);
      collection = this.deps.registry.find(collectionId);
    }
    return collection ? { collection, values } : null;
  }
}
