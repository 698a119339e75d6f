/**
 * A cron expression, parsed once (by croner) and asked for tick times. Croner only computes
 * dates here: it never owns a timer, the scheduler sleeps on the injected Clock, so tests with a
 * manual clock are deterministic.
 *
 * Accepted: standard 5-field expressions (`minute hour day month weekday`, whole minutes),
 * 6-field ones with seconds first, croner's extensions (`L`, `W`, `#`, `?`, month and day names)
 * and the macros `@yearly @annually @monthly @weekly @daily @midnight @hourly`. Day of month and
 * day of week combine with OR, as in Vixie cron and PocketBase.
 */
import { Cron } from 'croner';

/** Longer expressions are refused: no real schedule needs them. */
export const CRON_EXPRESSION_MAX_LENGTH = 256;

/** An expression or time zone the scheduler cannot use; the message says which and why. */
export class CronDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronDefinitionError';
  }
}

/** Whether `timezone` is an IANA zone this runtime knows (`Europe/Paris`, `UTC`). */
function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

export class CronSchedule {
  private constructor(
    /** The expression as given (what `GET /api/crons` shows). */
    readonly expression: string,
    /** The IANA time zone the expression is read in. */
    readonly timezone: string,
    private readonly cron: Cron,
  ) {}

  /**
   * Parses `expression` in `timezone` (UTC by default). Throws CronDefinitionError for a malformed
   * expression, an unknown zone, or an expression that never matches (`0 0 31 2 *`).
   */
  static parse(expression: string, timezone = 'UTC', now = 0): CronSchedule {
    if (typeof expression !== 'string' || expression.trim() === '') throw new CronDefinitionError('the expression is empty');
    if (expression.length > CRON_EXPRESSION_MAX_LENGTH) throw new CronDefinitionError(`the expression is longer than ${CRON_EXPRESSION_MAX_LENGTH} characters`);
    if (typeof timezone !== 'string' || timezone === '' || !isTimeZone(timezone)) throw new CronDefinitionError(`unknown time zone ${JSON.stringify(String(timezone))} (use an IANA name such as "Europe/Paris")`);
    let cron: Cron;
    try {
      // No function: croner schedules nothing, it only computes dates. UTC as a fixed offset is
      // about 8 times cheaper to compute than through the `UTC` zone (measured: 25 µs vs 210 µs).
      const zone = timezone === 'UTC' || timezone === 'Etc/UTC' ? { utcOffset: 0 } : { timezone };
      cron = new Cron(expression, { paused: true, mode: '5-or-6-parts', ...zone });
    } catch (err) {
      throw new CronDefinitionError(`invalid expression ${JSON.stringify(expression)}: ${String((err as Error).message).replace(/^CronPattern: /, '')}`);
    }
    const schedule = new CronSchedule(expression, timezone, cron);
    if (schedule.next(now) === null) throw new CronDefinitionError(`the expression ${JSON.stringify(expression)} never fires`);
    return schedule;
  }

  /** The first tick strictly after `afterMs` (epoch ms), or null when there is none. */
  next(afterMs: number): number | null {
    return this.cron.nextRun(new Date(afterMs))?.getTime() ?? null;
  }

  /** The latest tick at or before `atMs`, or null when there is none. */
  previous(atMs: number): number | null {
    // croner's previousRuns is strictly before its reference; ticks fall on whole seconds.
    return this.cron.previousRuns(1, new Date(atMs + 1))[0]?.getTime() ?? null;
  }
}
