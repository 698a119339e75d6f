/**
 * Work a request starts but does not wait for: the answer of an account-discovery-sensitive
 * endpoint (request-otp, request-password-reset, request-verification) must take the same time
 * whether the address exists or not, so looking the record up, writing and mailing happen after.
 */
import type { Logger } from '../ports.js';

export function runInBackground(logger: Logger, what: string, task: () => Promise<void>): void {
  setImmediate(() => {
    task().catch((err: unknown) => logger.error({ task: what, err: { message: (err as Error).message } }, `${what} failed`));
  });
}
