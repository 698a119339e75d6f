/**
 * Stored totals carried across writes (README "Large collections"): without this, every write
 * to a collection makes each of its stored counts count again, and a collection written a few
 * times a second is counted on nearly every list.
 *
 * For the counts the cache tracks on a collection (count-cache.ts, at most a few per
 * collection), a record write through the pipeline evaluates each count's predicate on the row
 * just before it changes and just after (one statement each, by primary key), and adds up what
 * it moved: +1, 0 or -1 per count. Just before the commit the transaction asks the database for
 * the version span its rows cover (Database.versionSpan): when that span is exactly the rows
 * evaluated — nothing else in the transaction (a hook's raw SQL, a cascade) wrote the table —
 * the deltas are handed to the cache (just before the commit, taken back on a rollback), as
 * "from version A to version B, add these". A stored count at A then becomes the count at B without a scan. Anything that does not
 * line up is simply not handed over, and the count is taken again: never a guess.
 */
import { sql } from 'kysely';
import type { Tx } from '../events/transaction.js';
import type { CollectionModel } from '../model/collection-model.js';
import type { CountCache, TrackedCount } from './count-cache.js';
import { ROOT } from './record-query.js';

/** What one transaction wrote to one collection, as far as the tracked counts are concerned. */
interface TxCounts {
  /** Rows written through the pipeline (each one statement, one row). */
  rows: number;
  /** The counts every one of those writes evaluated, and what they moved in all. */
  deltas: Map<string, number>;
}

export class CountDeltas {
  private readonly perTx = new WeakMap<Tx, Map<string, TxCounts>>();

  constructor(private readonly cache: CountCache) {}

  /**
   * Runs `write` (which writes the row `id` of `collection` and says whether it ran a statement),
   * with the tracked counts evaluated around it. `lock`: take the row lock with the first read
   * (a delete, whose row nothing has locked yet: the read then sees the version it deletes).
   */
  async around(tx: Tx, collection: CollectionModel, id: string, action: 'create' | 'update' | 'delete', write: () => Promise<boolean>): Promise<void> {
    const tracked = tx.db.versionSpan ? this.cache.tracked(collection.id) : [];
    if (tracked.length === 0) {
      // Untracked writes still bump the version: whatever a transaction wrote of this table
      // without evaluating counts makes its span disagree, and nothing is handed over.
      await write();
      return;
    }
    const before = action === 'create' ? null : await this.evaluate(tx, collection, id, tracked, action === 'delete');
    const wrote = await write();
    const after = action === 'delete' ? null : await this.evaluate(tx, collection, id, tracked, false);
    const state = this.stateOf(tx, collection, tracked);
    if (wrote) state.rows++;
    const seen = new Set<string>();
    tracked.forEach((t, i) => {
      if (!state.deltas.has(t.key)) return;
      seen.add(t.key);
      state.deltas.set(t.key, state.deltas.get(t.key)! + (after?.[i] ?? 0) - (before?.[i] ?? 0));
    });
    // A count this write did not evaluate cannot be carried across the transaction.
    for (const key of [...state.deltas.keys()]) if (!seen.has(key)) state.deltas.delete(key);
  }

  private stateOf(tx: Tx, collection: CollectionModel, tracked: readonly TrackedCount[]): TxCounts {
    let byCollection = this.perTx.get(tx);
    if (!byCollection) {
      byCollection = new Map();
      this.perTx.set(tx, byCollection);
    }
    let state = byCollection.get(collection.id);
    if (!state) {
      state = { rows: 0, deltas: new Map(tracked.map((t) => [t.key, 0])) };
      byCollection.set(collection.id, state);
      const counts = state;
      tx.beforeCommit(async () => {
        const span = await tx.db.versionSpan!(collection.id);
        if (!span || span.to - span.from !== counts.rows || counts.deltas.size === 0) return;
        // Handed over before the commit: a list that sees the new version (the moment the commit
        // lands) must find how to reach it. Taken back if the transaction does not commit.
        const step = this.cache.carry(collection.id, span.from, span.to, counts.deltas);
        tx.onRollback(() => this.cache.uncarry(collection.id, span.from, step));
      });
    }
    return state;
  }

  /** 1 or 0 per tracked count: whether row `id` is counted by it now (all 0 when there is no row). */
  private async evaluate(tx: Tx, collection: CollectionModel, id: string, tracked: readonly TrackedCount[], lock: boolean): Promise<number[]> {
    const columns = sql.join(tracked.map((t, i) => sql`CASE WHEN ${t.where} THEN 1 ELSE 0 END AS ${sql.id(`c${i}`)}`));
    const rows = await tx.db.rows<Record<string, unknown>>(
      sql`SELECT ${columns} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${sql.ref(`${ROOT}.id`)} = ${id} ${lock ? tx.db.filter.forUpdate() : sql``}`,
    );
    return tracked.map((_, i) => Number(rows[0]?.[`c${i}`] ?? 0));
  }
}
