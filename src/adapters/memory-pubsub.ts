/** PubSub inside one process: the single-node default. Handlers run on a later tick, as with Redis. */
import type { PubSub } from '../core/ports.js';

type Handler = (message: string) => void;

export class MemoryPubSub implements PubSub {
  readonly shared = false;
  private readonly channels = new Map<string, Set<Handler>>();

  async publish(channel: string, message: string): Promise<void> {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    for (const handler of [...handlers]) {
      queueMicrotask(() => handler(message));
    }
  }

  async subscribe(channel: string, handler: Handler): Promise<() => Promise<void>> {
    const handlers = this.channels.get(channel) ?? new Set<Handler>();
    handlers.add(handler);
    this.channels.set(channel, handlers);
    return async () => {
      handlers.delete(handler);
    };
  }

  async close(): Promise<void> {
    this.channels.clear();
  }
}
