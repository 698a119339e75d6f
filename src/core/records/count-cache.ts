/**
 * Exact `totalItems` without a scan per list request (README "Large collections").
 *
 * A count is stored with the versions of every collection its predicate reads (the rows of
 * `_dataVersions`, bumped by a trigger on each row written, in the writer's transaction: see
 * SchemaManager.ensureChangeCounter). The versions are read in the same statement as the count,
 * so they name exactly the data it counted. A later list reads the current versions in the same
 * statement as its rows, and the stored count is served only when they are equal: a write
 * committed by any path — this node, another node, a hook's raw SQL, the SQL console — changes a
 * version, and the count is taken again. Nothing is served from a guess or a timer.
 *
 * The key is the compiled predicate (list rule + filter, with the caller's parameters), so two
 * callers share an entry exactly when they would run the same count.
 */
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import { DATA_VERSIONS_TABLE } from '../internal-tables.js';
import type { CountCacheStats } from '../metrics/metrics.js';
import type { Database } from '../ports.js';
import type { Sql } from '../rules/filter-dialect.js';
import { ROOT } from './record-query.js';
import type { SlowQueries } from './slow-queries.js';

/** The catalogue the cache reads, with a number that changes whenever it is rebuilt. */
export interface VersionedSchema extends SchemaView {
  readonly generation: number;
}

export interface CountCacheOptions {
  /** Stored counts, least recently used dropped first. @default 4096 */
  maxEntries?: number;
  /** Where counts that took long are logged. @default none */
  slow?: SlowQueries;
}

/** One count a list needs: what it counts, and what its answer depends on. */
export interface CountPlan {
  readonly key: string;
  readonly db: Database;
  readonly collection: CollectionModel;
  readonly where: Sql;
  /** Ids of the collections the predicate reads, the listed one first. */
  readonly reads: readonly string[];
  /** The catalogue's generation the plan was made in (caches of compiled SQL key on it). */
  readonly generation: number;
}

/** A count whose predicate record writes evaluate, so it can be carried across them (count-deltas.ts). */
export interface TrackedCount {
  readonly key: string;
  readonly where: Sql;
}

/** What one committed transaction moved the tracked counts of a collection by. */
export interface Carried {
  to: number;
  deltas: ReadonlyMap<string, number>;
}

/** A count with the versions it was taken at (null: a counter was missing). */
export interface Counted {
  count: number;
  versions: number[] | null;
}

interface Entry {
  count: number;
  versions: number[];
  /** Consecutive lookups that found the entry out of date. */
  misses: number;
  /** Lookups left that skip the entry (it went out of date too often: see hasFreshCandidate). */
  skip: number;
}

const VERSION_COLUMN = '__dv';
/** Misses in a row after which a key is counted alongside its rows for a while, as without a cache. */
const MISSES_BEFORE_SKIP = 3;
const SKIPPED_LOOKUPS = 16;
/**
 * Counts tracked per collection, most recently used kept: each costs every record write of the
 * collection a CASE in two primary-key reads.
 */
const MAX_TRACKED = 8;
/** Carried transactions remembered per collection: enough for a count computed while they committed. */
const MAX_CARRIED = 512;

export class CountCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly slow: SlowQueries | undefined;
  private generation = -1;
  private tables = new Map<string, CollectionModel>();
  private readonly tracking = new Map<string, Map<string, TrackedCount>>();
  private readonly carried = new Map<string, Map<number, Carried>>();
  private readonly inflight = new Map<string, Promise<Counted>>();
  /** The version columns of each set of collections read (built once: every list adds them). */
  private readonly versionColumnsByReads = new Map<string, Sql>();

  constructor(
    private readonly schema: VersionedSchema,
    options: CountCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 4096;
    this.slow = options.slow;
  }

  /** Lists answered from a stored count, and counts taken (tests, metrics). */
  readonly stats: CountCacheStats = { hits: 0, counted: 0, carried: 0 };

  /** Stored counts right now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The count of `collection`'s rows matching `where` on `db`, as a plan; null when it cannot be
   * cached: inside a transaction (its uncommitted writes would be counted under versions that may
   * never commit), or when the predicate reads a view (no version covers what a view reads).
   */
  plan(db: Database, collection: CollectionModel, where: Sql): CountPlan | null {
    if (db.inTransaction || collection.isView) return null;
    this.syncGeneration();
    const compiled = where.compile(db.kysely);
    const reads = [collection.id];
    for (const match of compiled.sql.matchAll(/"((?:[^"]|"")+)"/g)) {
      const model = this.tables.get(match[1].replaceAll('""', '"'));
      if (!model || reads.includes(model.id)) continue;
      if (model.isView) return null;
      reads.push(model.id);
    }
    const key = `${collection.id}\u0000${compiled.sql}\u0000${JSON.stringify(compiled.parameters)}`;
    return { key, db, collection, where, reads, generation: this.generation };
  }

  /** Whether a stored count may answer `plan` (then the rows are read with versionColumns()). */
  hasCandidate(plan: CountPlan): boolean {
    const entry = this.entries.get(plan.key);
    if (!entry) return false;
    if (entry.skip > 0) {
      entry.skip--;
      return false;
    }
    return true;
  }

  /** The current versions of what `plan` reads, as columns to add to a SELECT over its rows. */
  versionColumns(plan: CountPlan): Sql {
    const key = plan.reads.join('\u0000');
    let columns = this.versionColumnsByReads.get(key);
    if (!columns) {
      columns = this.buildVersionColumns(plan.db, plan.reads);
      if (this.versionColumnsByReads.size >= this.maxEntries) this.versionColumnsByReads.clear();
      this.versionColumnsByReads.set(key, columns);
    }
    return columns;
  }

  private buildVersionColumns(db: Database, reads: readonly string[]): Sql {
    // One engine per cache (one app): the columns are cached by what they read.
    return sql.join(reads.map((id, i) => sql`${db.filter.dataVersion(id)} AS ${sql.id(VERSION_COLUMN + i)}`));
  }

  /**
   * The versions read with the rows (versionColumns); null when there are no rows. The columns
   * stay in the rows (the codec reads only the fields): deleting them would turn every row into
   * a slow dictionary object for the rest of the request.
   */
  versionsOf(plan: CountPlan, rows: Record<string, unknown>[]): number[] | null {
    if (rows.length === 0) return null;
    return plan.reads.map((_, i) => Number(rows[0][VERSION_COLUMN + i]));
  }

  /**
   * The count for `plan` at `versions` (read with the rows; null: read them now): the stored one
   * when they match, else counted again.
   */
  async resolve(plan: CountPlan, versions: number[] | null): Promise<number> {
    const entry = this.entries.get(plan.key);
    let current = versions;
    if (entry) {
      current ??= await this.currentVersions(plan);
      if (sameVersions(entry.versions, current) || this.carryForward(plan, entry, current)) {
        entry.misses = 0;
        this.stats.hits++;
        this.entries.delete(plan.key);
        this.entries.set(plan.key, entry);
        this.track(plan);
        return entry.count;
      }
      // Out of date again and again (a collection written as fast as it is read): stop making
      // the list wait for the rows before counting; count alongside them for a while.
      if (++entry.misses >= MISSES_BEFORE_SKIP) {
        entry.misses = 0;
        entry.skip = SKIPPED_LOOKUPS;
      }
    }
    return this.countAt(plan, current);
  }

  /**
   * The count for `plan` agreeing with `versions` (read with the rows the count goes with; null:
   * read them now). Requests asking at once share one count (`shared`): ten lists arriving
   * together on a large collection run one scan, not ten racing to the deadline. A shared count
   * that saw other data than the caller's rows is carried to the rows' versions (forward or back)
   * when the writes in between were carried; otherwise the caller counts for itself.
   */
  async countAt(plan: CountPlan, versions: number[] | null, shared?: Counted): Promise<number> {
    const counted = shared ?? (await this.shared(plan));
    const at = versions ?? (await this.currentVersions(plan));
    if (counted.versions) {
      if (sameVersions(counted.versions, at)) return counted.count;
      // A write committed between the two snapshots (either way round): carried when it can be.
      const moved = this.move(plan, counted.count, counted.versions, at);
      if (moved !== null) {
        this.stats.carried++;
        return moved;
      }
    }
    return (await this.countNow(plan)).count;
  }

  /** The count of `plan` being taken, or a new one: what concurrent requests for it share. */
  shared(plan: CountPlan): Promise<Counted> {
    let running = this.inflight.get(plan.key);
    if (!running) {
      running = this.countNow(plan).finally(() => this.inflight.delete(plan.key));
      this.inflight.set(plan.key, running);
    }
    return running;
  }

  /** Counts `plan` now, with the versions in the same statement, and stores the answer. */
  private async countNow(plan: CountPlan): Promise<Counted> {
    const generation = this.schema.generation;
    this.stats.counted++;
    // Tracked before counting: a write committing while the count runs carries its change, so
    // the count can be brought forward to a version past the one it saw.
    this.track(plan);
    const query = sql`SELECT ${this.versionColumns(plan)}, COUNT(*) AS ${sql.id('n')} FROM ${sql.id(plan.collection.table)} AS ${sql.id(ROOT)} WHERE ${plan.where}`;
    const rows = this.slow ? await this.slow.rows<Record<string, unknown>>(plan.db, plan.collection, {}, query) : await plan.db.rows<Record<string, unknown>>(query);
    const count = Number(rows[0]?.n ?? 0);
    const read = plan.reads.map((_, i) => rows[0]?.[VERSION_COLUMN + i]);
    // A version that is not there yet (a table made before its counter) cannot vouch for anything.
    const versions = read.every((v) => v !== null && v !== undefined) ? read.map(Number) : null;
    if (versions && generation === this.schema.generation) this.store(plan.key, count, versions);
    return { count, versions };
  }

  /** Forgets every stored count (a restore replaced the data under the same versions). */
  clear(): void {
    this.entries.clear();
    this.tracking.clear();
    this.carried.clear();
  }

  /** The counts record writes of `collectionId` should evaluate (count-deltas.ts). */
  tracked(collectionId: string): readonly TrackedCount[] {
    const byKey = this.tracking.get(collectionId);
    return byKey ? [...byKey.values()] : [];
  }

  /**
   * A committed transaction took `collectionId` from version `from` to `to`, moving the tracked
   * counts by `deltas` (every row it wrote of the collection was evaluated).
   */
  carry(collectionId: string, from: number, to: number, deltas: ReadonlyMap<string, number>): Carried {
    let log = this.carried.get(collectionId);
    if (!log) {
      log = new Map();
      this.carried.set(collectionId, log);
    }
    const step = { to, deltas };
    log.delete(from);
    log.set(from, step);
    if (log.size > MAX_CARRIED) log.delete(log.keys().next().value!);
    return step;
  }

  /** A transaction handed `step` over and then did not commit: it never happened. */
  uncarry(collectionId: string, from: number, step: Carried): void {
    const log = this.carried.get(collectionId);
    // Only its own: another transaction from the same version may have committed since.
    if (log?.get(from) === step) log.delete(from);
  }

  private track(plan: CountPlan): void {
    let byKey = this.tracking.get(plan.collection.id);
    if (!byKey) {
      byKey = new Map();
      this.tracking.set(plan.collection.id, byKey);
    }
    byKey.delete(plan.key);
    byKey.set(plan.key, { key: plan.key, where: plan.where });
    if (byKey.size > MAX_TRACKED) byKey.delete(byKey.keys().next().value!);
  }

  /**
   * Brings `entry` to `current` through the carried transactions of its collection, when the
   * other collections it reads are unchanged and every transaction in between carried this
   * count. Updates the entry and says whether it could.
   */
  private carryForward(plan: CountPlan, entry: Entry, current: number[]): boolean {
    const count = this.move(plan, entry.count, entry.versions, current);
    if (count === null) return false;
    entry.count = count;
    entry.versions = current;
    this.stats.carried++;
    return true;
  }

  /**
   * `count`, taken at versions `from`, as it is at versions `to`, through the carried
   * transactions of the listed collection (forward, or backward when `to` is older); null when
   * another collection the predicate reads changed, or a transaction in between did not carry it.
   */
  private move(plan: CountPlan, count: number, from: number[], to: number[]): number | null {
    for (let i = 1; i < to.length; i++) if (from[i] !== to[i]) return null;
    const log = this.carried.get(plan.collection.id);
    if (!log) return null;
    const [low, high, sign] = from[0] <= to[0] ? [from[0], to[0], 1] : [to[0], from[0], -1];
    let version = low;
    let moved = count;
    while (version < high) {
      const step = log.get(version);
      const delta = step?.deltas.get(plan.key);
      if (!step || delta === undefined) return null;
      moved += sign * delta;
      version = step.to;
    }
    return version === high ? moved : null;
  }

  private store(key: string, count: number, versions: number[]): void {
    const previous = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, { count, versions, misses: previous?.misses ?? 0, skip: previous?.skip ?? 0 });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The current versions of what `plan` reads, on their own (when no row came to carry them). */
  async currentVersions(plan: CountPlan): Promise<number[]> {
    const rows = await plan.db.rows<Record<string, unknown>>(sql`SELECT ${this.versionColumns(plan)}`);
    return plan.reads.map((_, i) => Number(rows[0]?.[VERSION_COLUMN + i]));
  }

  /** A rebuilt catalogue may name tables differently: stored counts and the table map start over. */
  private syncGeneration(): void {
    if (this.generation === this.schema.generation) return;
    this.generation = this.schema.generation;
    this.entries.clear();
    this.tables = new Map(this.schema.all().map((m) => [m.table, m]));
  }
}

/**
 * After a restore: the restored versions are older than ones other nodes may have stored counts
 * at, for different data. Moving every version far past them makes those counts unreachable.
 */
export async function advanceDataVersions(db: Database): Promise<void> {
  await sql`UPDATE ${sql.id(DATA_VERSIONS_TABLE)} SET ${sql.id('v')} = ${sql.ref('v')} + ${2 ** 40}`.execute(db.kysely);
}

/** Whether two version lists name the same data. */
export function sameVersions(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i] && !Number.isNaN(v));
}
