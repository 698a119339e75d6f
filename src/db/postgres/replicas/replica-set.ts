/**
 * The read replicas of a PostgreSQL database (`--db-replica`, README "Read replicas"): which
 * reads may leave the primary, and to which replica.
 *
 * - A read goes to a replica only inside a request marked for it (`run(…, replicaReads: true)`),
 *   outside a transaction, and only to a replica in rotation: it answered its last poll and its
 *   replay is at most `maxLagMs` behind the primary. Otherwise, and after any failure on the
 *   replica, the primary serves it: a replica never turns into an error for the client.
 * - Read-your-writes: a commit made inside `run` is remembered for the request's client keys
 *   with the primary's WAL insert position after it; those clients' reads go to a replica only
 *   once its replay position (polled every `pollMs`, cached) has passed it. Until the position
 *   is known (one query after the commit, off the response's path, shared by the commits made
 *   meanwhile), they read from the primary.
 * - A schema change (a transaction that took the schema lock) is remembered the same way for
 *   every client, so a new collection is read from the primary until the replicas have it.
 * - With a shared pub/sub (Redis), the positions of commits are published to the other nodes,
 *   and the write answers once its own message has come back through the subscription: Redis
 *   answers PUBLISH before it has written the message to the subscribers (the publisher's reply
 *   goes first), so "published" alone would let a fast client's next read reach another node
 *   ahead of the message. Back at this node, it is in every node's socket.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { PubSub, ReplicaRouting } from '../../../core/ports.js';
import { Replica } from './replica.js';

export interface ReplicaSetOptions {
  /** How often each replica's replay position and the primary's insert position are read. @default 100 */
  pollMs?: number;
  /** A replica further behind the primary than this is out of rotation. @default 5000 */
  maxLagMs?: number;
  /** The primary's current WAL insert position. */
  primaryLsn: () => Promise<bigint>;
  /** Releases what `primaryLsn` uses. */
  close?: () => Promise<void>;
  now?: () => number;
}

/** A request's attribution (one per `run`). */
interface Scope {
  readonly clients: readonly string[];
  /** Cleared by a commit in the request: what follows it reads from the primary. */
  replicaReads: boolean;
  /** Cleared when the handler settles: work it left running (a timer, a job woken) is no longer the client's. */
  open: boolean;
  /**
   * Where the request's first read went: its later reads go there too (or to the primary), so a
   * request never reads an older state after a newer one (a list, then its expansions).
   */
  pinned: Replica | 'primary' | null;
}

/** The last commits of one client key. */
interface Written {
  /** The highest known position of its commits. */
  lsn: bigint;
  /** Commits whose position is still being read: until then, primary only. */
  pending: number;
  /** When it last committed. */
  at: number;
}

/** Commits waiting for the same position query. */
interface Batch {
  written: Written[];
  /** Schema changes among them. */
  schemaChanges: number;
  clients: Set<string>;
  /** Resolved once their position is known (and published to the other nodes). */
  settled: Promise<void>;
  resolve: () => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  const settled = new Promise<void>((r) => (resolve = r));
  return { written: [], schemaChanges: 0, clients: new Set(), settled, resolve };
}

const CHANNEL = 'basalt:replica-commits';
/** How long a write waits for its commit message to come back before answering anyway. */
const ECHO_TIMEOUT_MS = 1000;

export class ReplicaSet implements ReplicaRouting {
  private readonly scopes = new AsyncLocalStorage<Scope>();
  private readonly written = new Map<string, Written>();
  /** The primary's insert position, sampled at each poll, oldest first (the lag is read from them). */
  private readonly samples: { at: number; lsn: bigint }[] = [];
  private schemaLsn = 0n;
  private schemaPending = 0;
  private waiting: Batch | null = null;
  private fetching = false;
  /** A primary position query is running. */
  private polling = false;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastSweep = 0;
  private pubsub: PubSub | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** This node's id in its messages, and the writes waiting for theirs to come back. */
  private readonly node = randomUUID();
  private sent = 0;
  private readonly echoes = new Map<number, () => void>();
  private readonly pollMs: number;
  private readonly maxLagMs: number;
  private readonly now: () => number;

  constructor(
    readonly replicas: readonly Replica[],
    private readonly options: ReplicaSetOptions,
  ) {
    this.pollMs = options.pollMs ?? 100;
    this.maxLagMs = options.maxLagMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Polls once (so that a healthy replica serves from the first request) and then every `pollMs`. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  run<T>(clients: readonly string[], replicaReads: boolean, fn: () => T): T {
    const scope: Scope = { clients, replicaReads, open: true, pinned: null };
    const close = () => {
      scope.open = false;
    };
    let result: T;
    try {
      result = this.scopes.run(scope, fn);
    } catch (err) {
      close();
      throw err;
    }
    if (result && typeof (result as { then?: unknown }).then === 'function') (result as unknown as PromiseLike<unknown>).then(close, close);
    else close();
    return result;
  }

  /**
   * Runs a read on a replica when the current request may, else (or after a failure there) on
   * the primary. A query cancelled at the deadline is not retried: its time is spent.
   */
  async read<T>(onReplica: (replica: Replica) => Promise<T>, onPrimary: () => Promise<T>): Promise<T> {
    const scope = this.scopes.getStore();
    const replica = scope ? this.pick(scope) : null;
    if (scope) scope.pinned = replica ?? 'primary';
    if (!replica) return onPrimary();
    replica.inFlight++;
    try {
      return await onReplica(replica);
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      if (code === '57014') throw err;
      // An undefined table or column (a schema change not replayed yet) or a conflict with
      // recovery (40001) is the replica being behind; anything without a SQL state (a lost
      // connection, a refused one) is the replica being away: out of rotation until it answers a poll.
      if (typeof code !== 'string' || /^(08|57|53|58|XX)/.test(code)) replica.up = false;
      scope!.pinned = 'primary';
      return onPrimary();
    } finally {
      replica.inFlight--;
    }
  }

  /**
   * A commit on the primary: its clients (the current request's keys) and, for a schema change,
   * every client, read from the primary until a replica has replayed it. The request itself
   * reads from the primary from now on.
   *
   * Returns, when the positions are shared with other nodes, a promise of the moment they are
   * published: the write's response waits for it, so that the client's next read, on whichever
   * node, knows of the write. Otherwise null: this node already sends the clients' reads to the
   * primary until the position is known, so nothing waits.
   */
  noteCommit(schemaChanged: boolean): Promise<void> | null {
    const scope = this.scopes.getStore();
    const clients = scope?.open ? scope.clients : [];
    if (scope) scope.replicaReads = false;
    if (clients.length === 0 && !schemaChanged) return null;
    const batch = (this.waiting ??= newBatch());
    const at = this.now();
    for (const key of clients) {
      let entry = this.written.get(key);
      if (!entry) this.written.set(key, (entry = { lsn: 0n, pending: 0, at }));
      entry.pending++;
      entry.at = at;
      batch.written.push(entry);
      batch.clients.add(key);
    }
    if (schemaChanged) {
      batch.schemaChanges++;
      this.schemaPending++;
    }
    this.fetchPositions();
    return this.pubsub ? batch.settled : null;
  }

  /** Shares commit positions with the other nodes (a Redis pub/sub); called once at start-up. */
  async share(pubsub: PubSub): Promise<void> {
    if (!pubsub.shared) return;
    this.pubsub = pubsub;
    this.unsubscribe = await pubsub.subscribe(CHANNEL, (message) => this.received(message));
  }

  /** How many replicas are configured and in rotation now (metrics). */
  stats(): { total: number; inRotation: number } {
    const now = this.now();
    return { total: this.replicas.length, inRotation: this.replicas.filter((r) => this.inRotation(r, now)).length };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const seq of [...this.echoes.keys()]) this.echoed(seq);
    await this.unsubscribe?.().catch(() => {});
    await Promise.all(this.replicas.map((r) => r.close().catch(() => {})));
    await this.options.close?.().catch(() => {});
  }

  /** The least busy replica in rotation that has replayed what the current request must see, or null. */
  private pick(scope: Scope): Replica | null {
    if (!scope.open || !scope.replicaReads || scope.pinned === 'primary' || this.schemaPending > 0) return null;
    const now = this.now();
    let need = this.schemaLsn;
    for (const key of scope.clients) {
      const entry = this.written.get(key);
      if (!entry) continue;
      if (entry.pending > 0) return null;
      if (entry.lsn > need) need = entry.lsn;
    }
    if (scope.pinned) {
      const replica = scope.pinned;
      return replica.replayLsn >= need && replica.hasRoom && this.inRotation(replica, now) ? replica : null;
    }
    let best: Replica | null = null;
    const n = this.replicas.length;
    // Round robin among the equally busy: start from the next replica each time.
    const start = this.next++ % n;
    for (let i = 0; i < n; i++) {
      const replica = this.replicas[(start + i) % n]!;
      if (replica.replayLsn < need || !replica.hasRoom || !this.inRotation(replica, now)) continue;
      if (!best || replica.inFlight < best.inFlight) best = replica;
    }
    return best;
  }

  /**
   * Answered its last poll recently, and has replayed what the primary had written `maxLagMs`
   * ago: the newest primary sample at or below its replay position is that recent. (A replay
   * timestamp would not do: it stops moving when the primary is idle, and when the replica is
   * cut off from the primary.)
   */
  private inRotation(replica: Replica, now: number): boolean {
    if (!replica.up || now - replica.seenAt > this.pollMs * 3 + 1000) return false;
    for (let i = this.samples.length - 1; i >= 0; i--) {
      const sample = this.samples[i]!;
      if (sample.lsn <= replica.replayLsn) return now - sample.at <= this.maxLagMs;
    }
    return false;
  }

  /**
   * One round: the primary's position and each replica's replay, each on its own, so that one
   * server not answering delays neither the others nor itself (a poll still running is skipped).
   */
  private poll(): Promise<unknown> {
    const timeoutMs = Math.max(500, this.pollMs * 5);
    const round: Promise<void>[] = [];
    if (!this.polling) {
      this.polling = true;
      const before = this.now();
      round.push(
        this.options.primaryLsn().then(
          // Taken before the primary answered: a replica at or past it was at most that old.
          (lsn) => {
            this.polling = false;
            this.samples.push({ at: before, lsn });
          },
          () => {
            this.polling = false;
          },
        ),
      );
    }
    for (const replica of this.replicas) {
      if (replica.polling) continue;
      replica.polling = true;
      round.push(replica.poll(this.now, timeoutMs).finally(() => (replica.polling = false)));
    }
    const now = this.now();
    while (this.samples.length > 1 && now - this.samples[1]!.at > this.maxLagMs + 1000) this.samples.shift();
    if (now - this.lastSweep > 1000) this.sweep(now);
    return Promise.allSettled(round);
  }

  /**
   * Forgets clients whose last commit is older than the longest lag allowed: every replica in
   * rotation has replayed it (it replayed a primary sample taken after that commit).
   */
  private sweep(now: number): void {
    this.lastSweep = now;
    const horizon = now - this.maxLagMs - this.pollMs * 2 - 1000;
    for (const [key, entry] of this.written) if (entry.pending === 0 && entry.at < horizon) this.written.delete(key);
  }

  /**
   * One position query serves every commit made before it started; at most one runs at a time.
   * A failed query is retried a poll later (a later position is still past those commits); the
   * clients meanwhile read from the primary.
   */
  private fetchPositions(): void {
    if (this.fetching || !this.waiting) return;
    const batch = this.waiting;
    this.waiting = null;
    this.fetching = true;
    this.options.primaryLsn().then(
      (lsn) => {
        this.fetching = false;
        this.settle(batch, lsn);
        this.fetchPositions();
      },
      () => {
        this.fetching = false;
        const waiting = (this.waiting ??= newBatch());
        waiting.written.push(...batch.written);
        waiting.schemaChanges += batch.schemaChanges;
        for (const key of batch.clients) waiting.clients.add(key);
        // The write's response does not wait for a primary that does not answer: the other nodes
        // then rely on the lag bound, this one on the retry.
        batch.resolve();
        setTimeout(() => this.fetchPositions(), this.pollMs).unref();
      },
    );
  }

  private settle(batch: Batch, lsn: bigint): void {
    for (const entry of batch.written) {
      entry.pending--;
      if (lsn > entry.lsn) entry.lsn = lsn;
    }
    if (batch.schemaChanges > 0) {
      this.schemaPending -= batch.schemaChanges;
      if (lsn > this.schemaLsn) this.schemaLsn = lsn;
    }
    if (!this.pubsub) return batch.resolve();
    const seq = ++this.sent;
    const message = JSON.stringify({ lsn: lsn.toString(), schema: batch.schemaChanges > 0, clients: [...batch.clients], node: this.node, seq });
    const timer = setTimeout(() => this.echoed(seq), ECHO_TIMEOUT_MS);
    timer.unref();
    this.echoes.set(seq, () => {
      clearTimeout(timer);
      batch.resolve();
    });
    // A failed publish is not the write's failure: the other nodes then rely on the lag bound.
    this.pubsub.publish(CHANNEL, message).catch(() => this.echoed(seq));
  }

  /** The message `seq` of this node came back (or will not): its writes answer. */
  private echoed(seq: number): void {
    const resolve = this.echoes.get(seq);
    this.echoes.delete(seq);
    resolve?.();
  }

  /** Another node's commit (messages from this node come back too: merging them again is harmless). */
  private received(message: string): void {
    let parsed: { lsn?: unknown; schema?: unknown; clients?: unknown; node?: unknown; seq?: unknown };
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (parsed.node === this.node && typeof parsed.seq === 'number') this.echoed(parsed.seq);
    if (typeof parsed.lsn !== 'string' || !/^\d{1,20}$/.test(parsed.lsn) || !Array.isArray(parsed.clients)) return;
    const lsn = BigInt(parsed.lsn);
    const at = this.now();
    if (parsed.schema === true && lsn > this.schemaLsn) this.schemaLsn = lsn;
    for (const key of parsed.clients) {
      if (typeof key !== 'string') continue;
      const entry = this.written.get(key);
      if (!entry) this.written.set(key, { lsn, pending: 0, at });
      else {
        if (lsn > entry.lsn) entry.lsn = lsn;
        entry.at = Math.max(entry.at, at);
      }
    }
  }
}
