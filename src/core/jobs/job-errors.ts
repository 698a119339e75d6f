/**
 * Errors a job handler may throw to steer what happens next, instead of the definition's backoff:
 * `RetryJobLater` retries after a delay the handler knows better (a `Retry-After` header, a rate
 * limit's reset time), `FailJobNow` ends the job as failed without spending its remaining
 * attempts (a request the other side refused for good).
 */

/** Retry after `delayMs` (still counted as a failed attempt; the last attempt still fails the job). */
export class RetryJobLater extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryJobLater';
  }
}

/** Fail the job now: retrying cannot help. */
export class FailJobNow extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailJobNow';
  }
}
