/**
 * The ports' single-node implementations: SMTP for mail, process memory for rate-limit
 * counters, oauth4webapi (behind the outgoing-request guard) for OAuth2, local disk under the
 * data directory for files and backups (S3 when the settings say so), sharp for thumbnails, in-process pub/sub, the guarded transport for
 * outgoing webhooks.
 */
import { join } from 'node:path';
import type { AppDeps } from '../core/app.js';
import { DEFAULT_WEBHOOKS_CONFIG, type Config } from '../core/config.js';
import { openS3StorageFromSettings } from './create-file-storage.js';
import { LocalFileStorage } from './local-file-storage.js';
import { backupStores } from './create-backup-store.js';
import { MemoryPubSub } from './memory-pubsub.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { Oauth4OAuth2Client } from './oauth4-oauth2-client.js';
import { SharpThumbnailer } from './sharp-thumbnailer.js';
import { createSmtpMailer } from './smtp-mailer.js';
import { createWebhookTransport } from './webhook-transport.js';
import type { Tracing } from '../core/tracing/tracing.js';

/** `tracing`: outgoing requests (webhooks, OAuth2) get CLIENT spans and a `traceparent`. */
export function localAdapters(config: Pick<Config, 'dataDir'> & Partial<Pick<Config, 'webhooks'>>, tracing: Tracing | null = null): Pick<AppDeps, 'mailer' | 'rateLimits' | 'oauth2' | 'files' | 's3Files' | 'thumbnailer' | 'pubsub' | 'webhookTransport' | 'backupStores'> {
  return {
    mailer: createSmtpMailer,
    rateLimits: new MemoryRateLimitStore(),
    oauth2: new Oauth4OAuth2Client(tracing),
    files: new LocalFileStorage(join(config.dataDir, 'storage')),
    s3Files: openS3StorageFromSettings,
    backupStores: backupStores(config.dataDir),
    pubsub: new MemoryPubSub(),
    thumbnailer: new SharpThumbnailer(),
    webhookTransport: createWebhookTransport({ allow: (config.webhooks ?? DEFAULT_WEBHOOKS_CONFIG).allow, timeoutMs: (config.webhooks ?? DEFAULT_WEBHOOKS_CONFIG).timeoutMs, tracing }),
  };
}
