/** The ports' single-node implementations: SMTP for mail, process memory for rate-limit counters. */
import type { AppDeps } from '../core/app.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { createSmtpMailer } from './smtp-mailer.js';

export function localAdapters(): Pick<AppDeps, 'mailer' | 'rateLimits'> {
  return { mailer: createSmtpMailer, rateLimits: new MemoryRateLimitStore() };
}
