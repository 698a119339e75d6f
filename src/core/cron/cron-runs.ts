/**
 * The claims that make a cron tick run once per cluster: every node sharing the database tries
 * to insert `(cronId, tick)` into `_cronRuns`, the unique key lets exactly one insert through
 * (`INSERT … ON CONFLICT DO NOTHING`, the same statement on SQLite and PostgreSQL), and only that
 * node runs the handler. The row then records who ran it, when, and how it ended.
 *
 * The tick is the scheduled time computed from the expression (not a node's "now"), so nodes
 * whose clocks differ by a few seconds still name the same tick, and a late node loses the claim.
 *
 * NB: no engine difference here, so this lives in core on the query builder (like the TOTP and
 * API-key tables), not behind a per-engine store in db/.
 */
import type { ExpressionBuilder } from 'kysely';
import { newId } from '../ids.js';
import { CRON_RUNS_TABLE } from '../internal-tables.js';
import type { Database } from '../ports.js';
import { formatDate, parseDate } from '../time.js';

/** Rows one prune statement removes at most: a large backlog goes in several short statements. */
const PRUNE_BATCH = 1000;
/** Batches one prune runs at most; the rest waits for the next prune. */
const PRUNE_MAX_BATCHES = 50;
/** Longest error message kept on a run row. */
const MAX_ERROR_LENGTH = 1000;

export const tickText = (tick: number): string => formatDate(new Date(tick));

export class CronRuns {
  constructor(
    private readonly db: Database,
    /** Which node claims (kept on the row, for operators). */
    private readonly node: string,
  ) {}

  /** Tries to claim `tick` of `cronId`; true when this node won it and must run the handler. */
  async claim(cronId: string, tick: number, now: number): Promise<boolean> {
    const result = await this.db.kysely
      .insertInto(CRON_RUNS_TABLE)
      .values({ id: newId(), cronId, tick: tickText(tick), node: this.node, started: formatDate(new Date(now)), finished: '', error: '' })
      .onConflict((oc) => oc.columns(['cronId', 'tick']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Records the end of a claimed run ('' error: it succeeded). */
  async finish(cronId: string, tick: number, now: number, error: string): Promise<void> {
    await this.db.kysely
      .updateTable(CRON_RUNS_TABLE)
      .set({ finished: formatDate(new Date(now)), error: error.slice(0, MAX_ERROR_LENGTH) })
      .where('cronId', '=', cronId)
      .where('tick', '=', tickText(tick))
      .execute();
  }

  /** The latest tick of `cronId` any node claimed, or null when it never ran (as far as the table remembers). */
  async lastTick(cronId: string): Promise<number | null> {
    const row = await this.db.kysely.selectFrom(CRON_RUNS_TABLE).select((eb) => eb.fn.max('tick').as('last')).where('cronId', '=', cronId).executeTakeFirst();
    const last = row?.last;
    return typeof last === 'string' && last !== '' ? (parseDate(last)?.getTime() ?? null) : null;
  }

  /**
   * Deletes the rows of ticks before `before`, except each cron's latest (catch-up compares the
   * schedule with it, however old it is). Bounded batches; returns how many rows went.
   */
  async prune(before: number): Promise<number> {
    const cutoff = tickText(before);
    let total = 0;
    for (let i = 0; i < PRUNE_MAX_BATCHES; i++) {
      const result = await this.db.kysely
        .deleteFrom(CRON_RUNS_TABLE)
        .where('id', 'in', (eb: ExpressionBuilder<any, any>) =>
          eb
            .selectFrom(`${CRON_RUNS_TABLE} as r`)
            .select('r.id')
            .where('r.tick', '<', cutoff)
            .where('r.tick', '<', (inner: ExpressionBuilder<any, any>) => inner.selectFrom(`${CRON_RUNS_TABLE} as m`).select((m: ExpressionBuilder<any, any>) => m.fn.max('m.tick').as('latest')).whereRef('m.cronId', '=', 'r.cronId'))
            .limit(PRUNE_BATCH),
        )
        .executeTakeFirst();
      const n = Number(result.numDeletedRows);
      total += n;
      if (n < PRUNE_BATCH) break;
    }
    return total;
  }
}
