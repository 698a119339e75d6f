/**
 * Stored answers of idempotent requests, in the internal table `_idempotencyKeys`: one row per
 * (caller, method, path, key), which moves through three states:
 *
 *   running ──(the write's own transaction commits)──► committed ──(answer stored)──► done
 *
 * - `running`: claimed by one request (its `owner`) until `leaseUntil`. Another request with the
 *   same key waits for it; past the lease the claim was abandoned (the node stopped) *before*
 *   any write committed, so a retry may take it over and run for real.
 * - `committed`: set inside the write's own transaction (Tx.beforeCommit), so it commits or rolls
 *   back with the write. A row left here past its lease means the write happened but its answer
 *   was lost: a retry gets a 409 saying so, never a second write.
 * - `done`: the answer (status, headers, body) is stored and replayed to every retry.
 *
 * NB: why not store the answer in the write's transaction: the answer is made after the commit
 * (the record as the caller sees it, expands, hooks' after-success work), so only the marker can
 * ride in the transaction; the answer is stored right after, before it is sent.
 *
 * Rows live 24 hours (`ttlMs`); expired ones are replaced when their key comes again and deleted
 * by a built-in cron (`prune`). No engine difference: core on the query builder.
 */
import { randomBytes } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import type { Clock } from '../clock.js';
import { IDEMPOTENCY_TABLE } from '../internal-tables.js';
import type { Database } from '../ports.js';
import { formatDate } from '../time.js';

/** How long an answer is kept. @default 24 hours */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a claim holds without an answer before a retry may take it over. @default 2 minutes */
export const IDEMPOTENCY_LEASE_MS = 2 * 60 * 1000;
/** Largest answer body stored (bytes); a larger one is not stored (see the docs). @default 1 MiB */
export const MAX_STORED_BODY = 1 << 20;

/** Rows one prune statement removes at most. */
const PRUNE_BATCH = 1000;
const PRUNE_MAX_BATCHES = 50;

/** An answer as it is replayed. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What identifies one idempotent request. */
export interface IdempotencyScope {
  /** scopeId(principal, method, path, key) */
  id: string;
  key: string;
  principal: string;
  /** `METHOD /path` */
  route: string;
}

/** A claim this process holds. `committed` turns true once the write's transaction has committed. */
export interface Claim {
  readonly scope: IdempotencyScope;
  readonly owner: string;
  committed: boolean;
}

export type ClaimOutcome =
  | { kind: 'claimed'; claim: Claim }
  | { kind: 'replay'; answer: StoredAnswer }
  /** The key came with another request: 422. */
  | { kind: 'mismatch' }
  /** Another request with the key is running: wait or 409. */
  | { kind: 'running' }
  /** The write committed, its answer is lost: 409. */
  | { kind: 'unknown' };

interface Row {
  fingerprint: string;
  state: string;
  owner: string;
  leaseUntil: string;
  expires: string;
  status: number;
  headers: string;
  body: string;
}

export interface IdempotencyStoreOptions {
  ttlMs?: number;
  leaseMs?: number;
}

export class IdempotencyStore {
  private readonly ttlMs: number;
  private readonly leaseMs: number;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    options: IdempotencyStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? IDEMPOTENCY_TTL_MS;
    this.leaseMs = options.leaseMs ?? IDEMPOTENCY_LEASE_MS;
  }

  private at(offsetMs = 0): string {
    return formatDate(new Date(this.clock.now() + offsetMs));
  }

  /**
   * Claims `scope` for a request whose fingerprint is `fingerprint`, or says what became of the
   * request that claimed it first. The insert is the claim: of two requests inserting the same
   * id at once (on any node), one succeeds (`ON CONFLICT DO NOTHING`, the same on both engines).
   */
  async claim(scope: IdempotencyScope, fingerprint: string): Promise<ClaimOutcome> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.at();
      const owner = randomBytes(12).toString('hex');
      // Looked up first: a retry of a running request must not queue for the write lock (on
      // SQLite, held by the very write it is waiting for) just to learn that the key is taken.
      let row = await this.find(scope.id);
      if (!row) {
        const inserted = await this.db.kysely
          .insertInto(IDEMPOTENCY_TABLE)
          .values({
            id: scope.id,
            idempotencyKey: scope.key,
            principal: scope.principal,
            route: scope.route,
            fingerprint,
            state: 'running',
            owner,
            leaseUntil: this.at(this.leaseMs),
            status: 0,
            headers: '{}',
            body: '',
            expires: this.at(this.ttlMs),
            created: now,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return { kind: 'claimed', claim: { scope, owner, committed: false } };
        row = await this.find(scope.id); // another request claimed it first
      }
      if (!row) continue; // released or pruned in between: claim again
      if (row.expires <= now) {
        // Expired but not pruned yet: it no longer counts. Deleted only if still the same row.
        await this.db.kysely.deleteFrom(IDEMPOTENCY_TABLE).where('id', '=', scope.id).where('expires', '=', row.expires).execute();
        continue;
      }
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (row.state === 'done') return { kind: 'replay', answer: decodeAnswer(row) };
      if (row.leaseUntil > now) return { kind: 'running' };
      if (row.state === 'committed') return { kind: 'unknown' };
      // An abandoned claim: its write never committed (that would have marked it). Take it over.
      const taken = await this.db.kysely
        .updateTable(IDEMPOTENCY_TABLE)
        .set({ owner, leaseUntil: this.at(this.leaseMs) })
        .where('id', '=', scope.id)
        .where('owner', '=', row.owner)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) > 0) return { kind: 'claimed', claim: { scope, owner, committed: false } };
    }
    return { kind: 'running' };
  }

  private async find(id: string): Promise<Row | undefined> {
    return (await this.db.kysely.selectFrom(IDEMPOTENCY_TABLE).selectAll().where('id', '=', id).executeTakeFirst()) as Row | undefined;
  }

  /** Marks the claim's write as committed; `db` is the write's own transaction (call it from Tx.beforeCommit). */
  async markCommitted(db: Database, claim: Claim): Promise<void> {
    await db.kysely.updateTable(IDEMPOTENCY_TABLE).set({ state: 'committed' }).where('id', '=', claim.scope.id).where('owner', '=', claim.owner).execute();
  }

  /** Stores the answer of the claim: retries get it from now on. */
  async complete(claim: Claim, answer: StoredAnswer): Promise<void> {
    await this.db.kysely
      .updateTable(IDEMPOTENCY_TABLE)
      .set({ state: 'done', status: answer.status, headers: JSON.stringify(answer.headers), body: answer.body.toString('base64') })
      .where('id', '=', claim.scope.id)
      .where('owner', '=', claim.owner)
      .execute();
  }

  /**
   * Ends the claim of a write that committed but whose answer cannot be stored: the row stays
   * `committed`, and with its lease over, retries get the 409 "answer not stored" at once.
   */
  async abandon(claim: Claim): Promise<void> {
    await this.db.kysely.updateTable(IDEMPOTENCY_TABLE).set({ leaseUntil: this.at() }).where('id', '=', claim.scope.id).where('owner', '=', claim.owner).execute();
  }

  /** Gives the key back (nothing was written, or the answer is not to be kept): a retry runs for real. */
  async release(claim: Claim): Promise<void> {
    await this.db.kysely.deleteFrom(IDEMPOTENCY_TABLE).where('id', '=', claim.scope.id).where('owner', '=', claim.owner).where('state', '=', 'running').execute();
  }

  /** Deletes expired rows in bounded batches; returns how many went. */
  async prune(): Promise<number> {
    const cutoff = this.at();
    let total = 0;
    for (let i = 0; i < PRUNE_MAX_BATCHES; i++) {
      const result = await this.db.kysely
        .deleteFrom(IDEMPOTENCY_TABLE)
        .where('id', 'in', (eb: ExpressionBuilder<any, any>) => eb.selectFrom(IDEMPOTENCY_TABLE).select('id').where('expires', '<=', cutoff).limit(PRUNE_BATCH))
        .executeTakeFirst();
      const n = Number(result.numDeletedRows);
      total += n;
      if (n < PRUNE_BATCH) break;
    }
    return total;
  }
}

function decodeAnswer(row: Row): StoredAnswer {
  let headers: Record<string, string> = {};
  try {
    headers = JSON.parse(row.headers) as Record<string, string>;
  } catch {
    // a row written by hand; replay without headers
  }
  return { status: Number(row.status), headers, body: Buffer.from(row.body, 'base64') };
}
