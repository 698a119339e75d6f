/**
 * The slow-query log (README "Large collections"): a client list whose statement takes
 * `Config.slowQueryMs` or more (or runs into the query deadline) is written to the logs, where
 * superusers read it (`GET /api/logs?filter=data.type='slowQuery'`): the collection, the
 * client's filter and sort, the statement (placeholders, never the values bound to them), its
 * duration, the engine's plan, and an index to create for each column the statement filters or
 * sorts the collection by that no index starts with.
 *
 * Bounded: at most one plan a second is asked for (EXPLAIN runs nothing, but it is a statement
 * and takes a connection), and none for a statement cancelled at the deadline (the moment the
 * database is busiest); the entry says when a plan was not asked for.
 */
import type { RawBuilder } from 'kysely';
import { parseIndex } from '../collections/index-definition.js';
import type { CollectionModel } from '../model/collection-model.js';
import type { Clock, Database, Logger } from '../ports.js';

export interface SlowQueryOptions {
  /** 0: never. */
  thresholdMs: number;
  logger: Logger;
  clock: Clock;
}

/** What the client asked for, as the log shows it. */
export interface ListRequest {
  filter?: string;
  sort?: string;
  /** The `search` parameter as sent, when there is one. */
  search?: string;
}

/** Root-row aliases of the compiled reads (`__r`, and `__f` inside a filter's EXISTS). */
const ROOT_COLUMN = /"__[rf]"\."((?:[^"]|"")+)"/g;
const PLAN_INTERVAL_MS = 1000;

export class SlowQueries {
  private lastPlanAt = -Infinity;

  constructor(private readonly options: SlowQueryOptions) {}

  /** Runs `query` on `db`, and logs it when it was slow. */
  rows<T>(db: Database, collection: CollectionModel, request: ListRequest, query: RawBuilder<unknown>): Promise<T[]> {
    return this.timed(db, collection, request, () => db.rows<T>(query), () => query);
  }

  /**
   * Runs a read compiled already (Database.readCompiled), and logs it when it was slow;
   * `statement` builds the same read again, for the log only.
   */
  compiledRows<T>(db: Database, collection: CollectionModel, request: ListRequest, text: string, params: readonly unknown[], statement: () => RawBuilder<unknown>): Promise<T[]> {
    return this.timed(db, collection, request, () => db.readCompiled<T>(text, params), statement);
  }

  private async timed<T>(db: Database, collection: CollectionModel, request: ListRequest, run: () => Promise<T[]>, statement: () => RawBuilder<unknown>): Promise<T[]> {
    const threshold = this.options.thresholdMs;
    if (threshold <= 0) return run();
    const started = this.options.clock.now();
    try {
      const rows = await run();
      const ms = this.options.clock.now() - started;
      if (ms >= threshold) await this.log(db, collection, request, statement(), ms, false);
      return rows;
    } catch (err) {
      if (db.classifyError(err)?.kind === 'timeout') await this.log(db, collection, request, statement(), this.options.clock.now() - started, true);
      throw err;
    }
  }

  private async log(db: Database, collection: CollectionModel, request: ListRequest, query: RawBuilder<unknown>, ms: number, timedOut: boolean): Promise<void> {
    try {
      const text = query.compile(db.kysely).sql;
      const now = this.options.clock.now();
      let plan = timedOut ? 'not asked for: the statement ran into the deadline (the database is busy enough)' : 'not asked for: one plan a second at most';
      if (!timedOut && db.explain && now - this.lastPlanAt >= PLAN_INTERVAL_MS) {
        this.lastPlanAt = now;
        plan = await db.explain(query);
      }
      this.options.logger.warn(
        {
          type: 'slowQuery',
          collection: collection.name,
          filter: request.filter ?? '',
          sort: request.sort ?? '',
          ...(request.search ? { search: request.search } : {}),
          durationMs: Math.round(ms),
          timedOut,
          sql: text,
          plan,
          suggestedIndexes: suggestedIndexes(collection, text),
        },
        timedOut ? 'slow query: cancelled at the deadline' : 'slow query',
      );
    } catch (err) {
      // The log is advice: its own failure must not fail the request it describes.
      this.options.logger.warn({ err: { message: (err as Error).message } }, 'slow query: could not be described');
    }
  }
}

/**
 * `CREATE INDEX` statements (PocketBase's syntax, for the collection's `indexes`) for the columns
 * of `collection` the statement reads on its own rows that no index starts with: its own
 * indexes, the id, and the relation indexes Basalt keeps (relation-indexes.ts).
 */
export function suggestedIndexes(collection: CollectionModel, statement: string): string[] {
  const fields = new Map(collection.fields.map((f) => [f.name, f]));
  const led = new Set<string>(['id']);
  for (const text of collection.data.indexes) {
    try {
      const first = parseIndex(text).columns[0]?.name;
      if (first) led.add(first.toLowerCase());
    } catch {
      // An index Basalt cannot read leads nothing it can tell.
    }
  }
  for (const f of collection.fields) if (f.type === 'relation' && f.indexed !== false && Number(f.maxSelect ?? 1) <= 1) led.add(f.name.toLowerCase());
  const wanted = new Set<string>();
  for (const match of statement.matchAll(ROOT_COLUMN)) {
    const name = match[1].replaceAll('""', '"');
    const field = fields.get(name);
    // JSON and multi-value columns are not served by a plain index.
    if (!field || led.has(name.toLowerCase()) || field.type === 'json' || field.type === 'geoPoint') continue;
    wanted.add(name);
  }
  return [...wanted].map((name) => `CREATE INDEX idx_${collection.name}_${name} ON ${collection.name} (${name})`);
}
