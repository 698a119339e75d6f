/**
 * The enabled endpoints, in memory on every node, indexed by collection: the write path asks it
 * on every record write, so a write with no endpoint pays nothing but a map lookup. Reloaded when
 * an endpoint changes — here at once, on other nodes through pub/sub — and once a minute as a
 * safety net for a lost message.
 */
import type { PubSub } from '../ports.js';
import { ALL_COLLECTIONS, endpointOf, type WebhookAction, type WebhookEndpoint } from './webhook-endpoint.js';
import type { WebhookStore } from './webhook-store.js';

const CHANNEL = 'basalt:webhooks';
const NONE: readonly WebhookEndpoint[] = Object.freeze([]);

export class WebhookRegistry {
  private all = new Map<string, WebhookEndpoint>();
  private byCollection = new Map<string, WebhookEndpoint[]>();
  private everyCollection: WebhookEndpoint[] = [];
  private enabledCount = 0;
  private unsubscribe: (() => Promise<void>) | null = null;
  private loading: Promise<void> | null = null;
  private again = false;
  private listener: (count: number) => void = () => {};

  constructor(
    private readonly store: WebhookStore,
    private readonly pubsub: PubSub,
  ) {}

  /** `listener(count)` after every load, with how many endpoints exist (enabled or not). */
  onLoad(listener: (count: number) => void): void {
    this.listener = listener;
  }

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe = await this.pubsub.subscribe(CHANNEL, () => void this.reload().catch(() => {}));
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Reloads here and tells the other nodes to. */
  async changed(): Promise<void> {
    await this.reload();
    await this.pubsub.publish(CHANNEL, 'reload').catch(() => {});
  }

  /** Reads every endpoint again (concurrent calls coalesce; one started during a load runs after it). */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          this.index((await this.store.all()).map(endpointOf));
        } while (this.again);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  private index(endpoints: WebhookEndpoint[]): void {
    const all = new Map<string, WebhookEndpoint>();
    const byCollection = new Map<string, WebhookEndpoint[]>();
    const every: WebhookEndpoint[] = [];
    let enabled = 0;
    for (const e of endpoints) {
      all.set(e.id, e);
      if (!e.enabled) continue;
      enabled++;
      for (const c of e.collections) {
        if (c === ALL_COLLECTIONS) every.push(e);
        else byCollection.set(c, [...(byCollection.get(c) ?? []), e]);
      }
    }
    this.all = all;
    this.byCollection = byCollection;
    this.everyCollection = every;
    this.enabledCount = enabled;
    this.listener(all.size);
  }

  /** The endpoint `id` as last loaded (enabled or not). */
  get(id: string): WebhookEndpoint | undefined {
    return this.all.get(id);
  }

  /**
   * The enabled endpoints a write of `action` on the collection should reach. `["*"]` endpoints
   * take every collection but the system ones (`_superusers`, `_otps`…), which must be named.
   */
  matching(collectionId: string, system: boolean, action: WebhookAction): readonly WebhookEndpoint[] {
    if (this.enabledCount === 0) return NONE;
    const named = this.byCollection.get(collectionId) ?? NONE;
    const every = system ? NONE : this.everyCollection;
    if (named.length === 0 && every.length === 0) return NONE;
    return [...named, ...every].filter((e) => e.actions.has(action));
  }
}
