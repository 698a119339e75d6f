/**
 * Sign-in origins and new-device alerts (`_authOrigins`, `authAlert`): when a collection's
 * alert is on, each successful sign-in records a fingerprint of the client (IP and user agent);
 * a sign-in from a fingerprint the record has not used before sends the login-alert email,
 * except on the record's very first sign-in. At most five origins are kept per record.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../ports.js';
import type { MailService } from '../mail/mail-service.js';
import { recordMail } from '../mail/record-mails.js';
import { findRecordsBy } from '../records/record-lookup.js';
import type { QueryContext } from '../records/record-query.js';
import { recordId, type RecordModel } from '../model/record-model.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { SystemRecords } from './system-records.js';

/** Where a request comes from, as auth flows need it. */
export interface ClientInfo {
  ip: string;
  userAgent: string;
}

const MAX_ORIGINS = 5;

export function fingerprintOf(client: ClientInfo): string {
  return createHash('sha256').update(`${client.ip}\n${client.userAgent.slice(0, 300)}`).digest('hex');
}

export interface AuthOriginDeps {
  ctx: QueryContext;
  system: SystemRecords;
  mail: MailService;
  settings: SettingsService;
  logger: Logger;
}

export async function trackAuthOrigin(deps: AuthOriginDeps, record: RecordModel, client: ClientInfo): Promise<void> {
  if (!record.collection.data.authAlert?.enabled) return;
  const fingerprint = fingerprintOf(client);
  const origins = await findRecordsBy(deps.ctx, deps.system.collection('_authOrigins'), { collectionRef: record.collection.id, recordRef: recordId(record) }, 100, 'updated');
  const known = origins.find((o) => o.values.fingerprint === fingerprint);
  if (known) {
    await deps.system.update(known, {});
    return;
  }
  const email = String(record.values.email ?? '');
  if (origins.length > 0 && email !== '') {
    const info = `IP: ${client.ip || 'unknown'}, device: ${client.userAgent || 'unknown'}, time: ${new Date(deps.ctx.clock.now()).toISOString()}`;
    deps.mail.sendInBackground('login alert', recordMail('login-alert', record, deps.settings.get(), { ALERT_INFO: info }));
  }
  // Least recently used last: keep room for the new one.
  for (const old of origins.slice(MAX_ORIGINS - 1)) await deps.system.delete(old);
  await deps.system.create('_authOrigins', { collectionRef: record.collection.id, recordRef: recordId(record), fingerprint });
}
