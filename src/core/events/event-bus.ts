/**
 * Typed after-commit events. Consumers (collection cache, realtime, webhooks…) subscribe here;
 * producers publish only from after-commit callbacks, so every event describes committed data.
 */
import type { RecordModel } from '../model/record-model.js';

export interface AppEvents {
  /**
   * The collection definitions changed (any create/update/delete/import). `remote`: announced
   * by another node of the cluster (this node has reloaded its catalogue); not to be re-broadcast.
   */
  collectionsChanged: { ids: string[]; remote?: boolean };
  recordCreated: { record: RecordModel };
  recordUpdated: { record: RecordModel; previous: RecordModel };
  recordDeleted: { record: RecordModel };
  /** The runtime settings changed (`PATCH /api/settings`). */
  settingsChanged: { remote?: boolean };
}

type Handler<T> = (payload: T) => void | Promise<void>;

export class EventBus {
  private readonly handlers = new Map<keyof AppEvents, Handler<any>[]>();

  on<K extends keyof AppEvents>(event: K, handler: Handler<AppEvents[K]>): () => void {
    const list = this.handlers.get(event) ?? [];
    list.push(handler);
    this.handlers.set(event, list);
    return () => {
      const current = this.handlers.get(event) ?? [];
      this.handlers.set(event, current.filter((h) => h !== handler));
    };
  }

  async emit<K extends keyof AppEvents>(event: K, payload: AppEvents[K]): Promise<void> {
    for (const handler of this.handlers.get(event) ?? []) await handler(payload);
  }
}
