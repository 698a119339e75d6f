/**
 * The maintenance jobs every Basalt registers, with PocketBase's ids and schedules:
 * - `__pbOTPCleanup__` (hourly): one-time passwords older than their collection's OTP duration;
 * - `__pbMFACleanup__` (hourly): MFA sessions older than their collection's MFA duration;
 * - `__pbDBOptimize__` (daily at midnight UTC): the engine's planner statistics;
 * - `__basaltWebhookEventsCleanup__` (hourly, Basalt's own): the events inbound webhook receivers
 *   processed, once their receiver's retention has passed (core/webhooks/webhook-event-store.ts);
 * - `__basaltWebhookDeliveriesCleanup__` (hourly, Basalt's own): outbound webhook deliveries and
 *   their attempts past `config.webhooks.retentionMs` (registered by app.ts, which owns the service);
 * - `__basaltIdempotencyCleanup__` (hourly at :15, Basalt's own): expired stored answers of
 *   `Idempotency-Key` requests (core/idempotency/).
 * - `__pbLogsCleanup__` (every 6 hours, PocketBase's schedule): stored logs older than
 *   `settings.logs.maxDays` (registered by app.ts, which owns the log service).
 * PocketBase's `__pbAutoBackup__` is registered only while `settings.backups.cron` is set
 * (core/backups/auto-backup.ts). PocketBase has no auth-origin
 * cleanup either: `_authOrigins` is bounded per record by the sign-in flow (auth-origins.ts).
 *
 * NB: the cleanups delete `_otps` and `_mfas` rows with plain SQL, not through the record write
 * path: they are Basalt's own single-use system records (the sign-in flows remove them the same
 * way, see SystemRecords.claim), so no hook or realtime event is expected for them.
 */
import type { ExpressionBuilder } from 'kysely';
import { mfaDuration } from '../auth/mfa.js';
import { otpDuration } from '../auth/otp-flow.js';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import type { Clock } from '../clock.js';
import type { Database, Logger } from '../ports.js';
import { formatDate } from '../time.js';
import { pruneWebhookEvents } from '../webhooks/webhook-event-store.js';
import type { CronScheduler } from './cron-scheduler.js';
import { IdempotencyStore } from '../idempotency/idempotency-store.js';

export const BUILTIN_CRONS = {
  otpCleanup: '__pbOTPCleanup__',
  mfaCleanup: '__pbMFACleanup__',
  dbOptimize: '__pbDBOptimize__',
  webhookEventsCleanup: '__basaltWebhookEventsCleanup__',
  webhookDeliveriesCleanup: '__basaltWebhookDeliveriesCleanup__',
  idempotencyCleanup: '__basaltIdempotencyCleanup__',
  logsCleanup: '__pbLogsCleanup__',
} as const;

/** Rows one delete statement removes at most, so a large backlog never holds a long write lock. */
const DELETE_BATCH = 500;

export interface BuiltinCronDeps {
  db: Database;
  schema: SchemaView;
  clock: Clock;
  logger: Logger;
}

/** Deletes the rows of `table` of auth collection `collectionId` created before `cutoff`, in bounded batches. */
async function deleteCreatedBefore(db: Database, table: string, collectionId: string, cutoff: string): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.kysely
      .deleteFrom(table)
      .where('id', 'in', (eb: ExpressionBuilder<any, any>) => eb.selectFrom(table).select('id').where('collectionRef', '=', collectionId).where('created', '<', cutoff).limit(DELETE_BATCH))
      .executeTakeFirst();
    const n = Number(result.numDeletedRows);
    total += n;
    if (n < DELETE_BATCH) return total;
  }
}

/**
 * Deletes the records of the system collection `name` that outlived `durationOf(collection)`
 * seconds, for every auth collection (whatever its OTP/MFA setting: no stale rows stay behind).
 */
export async function deleteExpired(deps: BuiltinCronDeps, name: '_otps' | '_mfas', durationOf: (c: CollectionModel) => number): Promise<number> {
  const table = deps.schema.find(name)?.table;
  if (!table) return 0;
  let total = 0;
  for (const collection of deps.schema.all()) {
    if (!collection.isAuth) continue;
    const cutoff = formatDate(new Date(deps.clock.now() - durationOf(collection) * 1000));
    total += await deleteCreatedBefore(deps.db, table, collection.id, cutoff);
  }
  return total;
}

export function registerBuiltinCrons(crons: CronScheduler, deps: BuiltinCronDeps): void {
  crons.add(BUILTIN_CRONS.otpCleanup, '0 * * * *', async () => {
    const n = await deleteExpired(deps, '_otps', otpDuration);
    if (n > 0) deps.logger.debug({ deleted: n }, 'expired one-time passwords deleted');
  });
  crons.add(BUILTIN_CRONS.mfaCleanup, '0 * * * *', async () => {
    const n = await deleteExpired(deps, '_mfas', mfaDuration);
    if (n > 0) deps.logger.debug({ deleted: n }, 'expired MFA sessions deleted');
  });
  crons.add(BUILTIN_CRONS.dbOptimize, '0 0 * * *', async () => {
    await deps.db.optimize?.();
  });
  crons.add(BUILTIN_CRONS.idempotencyCleanup, '15 * * * *', async () => {
    const n = await new IdempotencyStore(deps.db, deps.clock).prune();
    if (n > 0) deps.logger.debug({ deleted: n }, 'expired idempotency keys deleted');
  });
  crons.add(BUILTIN_CRONS.webhookEventsCleanup, '30 * * * *', async () => {
    const n = await pruneWebhookEvents(deps.db, formatDate(new Date(deps.clock.now())));
    if (n > 0) deps.logger.debug({ deleted: n }, 'expired webhook events deleted');
  });
}
