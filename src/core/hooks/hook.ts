/**
 * One hook: an ordered chain of handlers around a default action, as PocketBase's hooks work.
 * Each handler receives the event and calls `await e.next()` to run the rest of the chain (the
 * following handlers, then the default action); code before `next()` runs before the action,
 * code after it runs after; a handler that returns without calling `next()` stops the chain
 * (the action does not happen); one that throws aborts it with that error.
 */

export interface HookEvent {
  /** Runs the rest of the chain. Once per handler. */
  next(): Promise<void>;
}

export type HookHandler<E> = (e: E) => void | Promise<void>;

interface Entry<E> {
  id: number;
  handler: HookHandler<E>;
  /** Collection names or ids the handler is limited to; null: every one. */
  tags: ReadonlySet<string> | null;
}

let nextId = 0;

export class Hook<E extends HookEvent> {
  private entries: Entry<E>[] = [];

  /** Adds a handler (optionally only for events tagged with one of `tags`); returns its id for `unbind`. */
  bind(handler: HookHandler<E>, tags: readonly string[] = []): number {
    if (typeof handler !== 'function') throw new TypeError('a hook handler must be a function');
    const id = ++nextId;
    this.entries = [...this.entries, { id, handler, tags: tags.length > 0 ? new Set(tags) : null }];
    return id;
  }

  unbind(id: number): void {
    this.entries = this.entries.filter((e) => e.id !== id);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Is any handler registered for an event with these tags? */
  handles(tags: readonly string[]): boolean {
    return this.entries.some((e) => e.tags === null || tags.some((t) => e.tags!.has(t)));
  }

  /**
   * Runs the handlers that apply to `tags`, in the order they were bound, around `action`. With
   * none, it is the action alone.
   */
  async trigger(event: E, action: (e: E) => Promise<void>, tags: readonly string[] = []): Promise<void> {
    const chain = this.entries.filter((e) => e.tags === null || tags.some((t) => e.tags!.has(t)));
    if (chain.length === 0) return action(event);
    const run = async (index: number): Promise<void> => {
      const entry = chain[index];
      if (!entry) return action(event);
      const outerNext = event.next;
      let called = false;
      event.next = async () => {
        if (called) throw new Error('e.next() was called twice by one hook handler');
        called = true;
        await run(index + 1);
      };
      try {
        await entry.handler(event);
      } finally {
        event.next = outerNext;
      }
    };
    await run(0);
  }
}
