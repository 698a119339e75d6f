/**
 * How much one client query may cost (a `filter` of a list, a view, a realtime subscription…):
 * the values of every bound in one place. A client filter is always bounded, a superuser's too,
 * only higher: a typo in the dashboard must not hold SQLite's only writer for minutes either.
 * Collection rules are exempt (their authors are superusers; see rulePredicate).
 *
 * Measured on 50 posts by one author (each to-many step there multiplies rows by 50), SQLite:
 * - `author.posts_via_author.title != author.posts_via_author.body`: ≈10^6 estimated rows, 50 ms;
 * - `author.posts_via_author.author.posts_via_author.title != author.posts_via_author.body`:
 *   ≈10^10, 3.5 s;
 * - the same with both sides two back-relations deep: ≈10^12, 180 s (the event loop blocked).
 */
import type { CostBudget } from '../rules/filter-cost.js';
import type { Caller } from './caller.js';

/**
 * Guests, auth records and API keys. 4 to-many steps (ROWS_PER_STEP = 100 each) is what the
 * relation filters of ordinary apps use: `tags.name = "x"`, `comments_via_post.text ~ "a"` or
 * `author.posts_via_author.title = "x"` (10^4 rows), a comparison of two one-step paths
 * (10^6), a two-step path compared with a literal (10^8). The bound allows a few of the last.
 */
export const CLIENT_BUDGET: Readonly<CostBudget> = Object.freeze({
  maxFanOut: 4,
  maxRows: 5e8,
  // Real strftime formats are a few directives ('%Y-%m-%d %H:%M:%S' is 17 characters). On
  // PostgreSQL (strftime is ported in plpgsql) a format costs more than linearly per row: over 50
  // rows, 3,000 characters took 2.4 s, 1,000 took 0.3 s, 100 take no measurable time.
  maxFunctionArg: 100,
});

/**
 * Superusers: two steps more (6 is the deepest one path may go, MAX_NESTED_RELATIONS), and
 * a factor of 100 more rows, which lets a few comparisons of a two-step and a one-step path through
 * (10^10 each, seconds) but refuses two two-step paths compared with each other (10^12, minutes).
 */
export const SUPERUSER_BUDGET: Readonly<CostBudget> = Object.freeze({
  maxFanOut: 6,
  maxRows: 5e10,
  // Twice a guest's: at 1,000 characters a format cost 6 ms per row on PostgreSQL.
  maxFunctionArg: 200,
});

/** The budget of the caller's client queries (every entry point passes it to filterPredicate). */
export function clientBudget(caller: Caller): CostBudget {
  return caller.can.largeQueryBudget ? SUPERUSER_BUDGET : CLIENT_BUDGET;
}
