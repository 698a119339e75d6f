/**
 * PubSub over Redis channels, for a cluster of nodes. Publishing uses the shared connection; a
 * connection in subscriber mode can do nothing else, so subscriptions get a dedicated duplicate
 * (ioredis re-subscribes it by itself after a reconnect).
 */
import type { Redis } from 'ioredis';
import type { PubSub } from '../core/ports.js';

type Handler = (message: string) => void;

export class RedisPubSub implements PubSub {
  readonly shared = true;
  private subscriber: Redis | null = null;
  private readonly channels = new Map<string, Set<Handler>>();

  /** `prefix` namespaces the channels, so several deployments can share one Redis. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'basalt:',
  ) {}

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(this.prefix + channel, message);
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const sub = this.redis.duplicate();
    sub.on('error', () => {}); // ioredis reconnects; missed messages are the at-most-once contract
    sub.on('message', (channel: string, message: string) => {
      const handlers = this.channels.get(channel.slice(this.prefix.length));
      if (handlers) for (const h of [...handlers]) h(message);
    });
    this.subscriber = sub;
    return sub;
  }

  async subscribe(channel: string, handler: Handler): Promise<() => Promise<void>> {
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
      await this.connection().subscribe(this.prefix + channel);
    }
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.channels.get(channel) === handlers) {
        this.channels.delete(channel);
        await this.subscriber?.unsubscribe(this.prefix + channel);
      }
    };
  }

  async close(): Promise<void> {
    this.channels.clear();
    const sub = this.subscriber;
    this.subscriber = null;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
