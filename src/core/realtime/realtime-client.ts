/**
 * One SSE connection (spec §1.6). The HTTP layer owns the socket and hands core a channel; the
 * client holds what the POST bound to it: the auth record and the subscriptions. Every message
 * carries `id:<clientId>` (the SDK reads its client id from `lastEventId`).
 */
import { randomBytes } from 'node:crypto';
import { authOf, GUEST, type Principal } from '../auth/principal.js';
import type { RecordModel } from '../model/record-model.js';
import type { CheckedSubscription } from './subscription.js';

export interface RealtimeChannel {
  /** Queues an SSE frame; false when the connection is too far behind and must be dropped. */
  write(frame: string): boolean;
  /** Ends the connection (the SDK reconnects and subscribes again). */
  close(): void;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** 40 random characters (PocketBase's client id length), unbiased. */
export function newClientId(): string {
  let out = '';
  while (out.length < 40) {
    for (const byte of randomBytes(48)) {
      if (byte < 248 && out.length < 40) out += ID_ALPHABET[byte % 62];
    }
  }
  return out;
}

/** SSE data lines cannot hold a newline; JSON never contains a raw one, event names might. */
const eventName = (name: string) => name.replace(/[\r\n]/g, '');

export class RealtimeClient {
  readonly id = newClientId();
  /** Who bound the client (the POST's credentials): a guest until then. */
  principal: Principal = GUEST;

  /** The record the client is signed in as (`@request.auth`), if any. */
  get auth(): RecordModel | null {
    return authOf(this.principal);
  }

  /** The auth was bound at least once: later POSTs must present the same one. */
  authBound = false;
  subscriptions: CheckedSubscription[] = [];
  closed = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private lifetimeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly channel: RealtimeChannel,
    readonly ip: string,
    private readonly onClose: (client: RealtimeClient) => void,
  ) {}

  /** Closes the connection after `idleMs` without a message and after `lifetimeMs` in total. */
  startTimers(idleMs: number, lifetimeMs: number): void {
    this.idleTimer = setTimeout(() => this.close(), idleMs);
    this.lifetimeTimer = setTimeout(() => this.close(), lifetimeMs);
    this.idleTimer.unref();
    this.lifetimeTimer.unref();
  }

  /** Sends one message; a connection that cannot keep up is closed instead of buffering more. */
  send(event: string, data: string): void {
    if (this.closed) return;
    if (!this.channel.write(`id:${this.id}\nevent:${eventName(event)}\ndata:${data}\n\n`)) {
      this.close();
      return;
    }
    this.idleTimer?.refresh();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.lifetimeTimer) clearTimeout(this.lifetimeTimer);
    this.channel.close();
    this.onClose(this);
  }
}
