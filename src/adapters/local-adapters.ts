/**
 * The ports' single-node implementations: SMTP for mail, process memory for rate-limit
 * counters, oauth4webapi (behind the outgoing-request guard) for OAuth2.
 */
import type { AppDeps } from '../core/app.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { Oauth4OAuth2Client } from './oauth4-oauth2-client.js';
import { createSmtpMailer } from './smtp-mailer.js';

export function localAdapters(): Pick<AppDeps, 'mailer' | 'rateLimits' | 'oauth2'> {
  return { mailer: createSmtpMailer, rateLimits: new MemoryRateLimitStore(), oauth2: new Oauth4OAuth2Client() };
}
