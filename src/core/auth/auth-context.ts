/** What the auth flows share: the database, the system records, settings, mail and limits. */
import type { MailService } from '../mail/mail-service.js';
import type { Logger } from '../ports.js';
import type { RateLimiter } from '../rate-limits/rate-limiter.js';
import type { QueryContext } from '../records/record-query.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { SystemRecords } from './system-records.js';
import type { TotpService } from './totp-service.js';

export interface AuthContext {
  ctx: QueryContext;
  system: SystemRecords;
  settings: SettingsService;
  mail: MailService;
  limiter: RateLimiter;
  totp: TotpService;
  logger: Logger;
}
