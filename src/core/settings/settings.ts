/**
 * The runtime settings (`/api/settings`, PocketBase's shape): app meta used in emails, SMTP,
 * rate limits, batch requests, the trusted proxy, the superuser IP allowlist, the S3 file storage and backups. They live in the database so every node reads the same values; defaults
 * come from the start-up Config (`--app-name`, `--app-url`) for anything never saved.
 */
import type { Config } from '../config.js';

export interface MetaSettings {
  appName: string;
  appURL: string;
  senderName: string;
  senderAddress: string;
  hideControls: boolean;
  /** The dashboard's accent colour, `#RRGGBB` (or empty). @default "#1055c9" */
  accentColor: string;
}

export interface SmtpSettings {
  enabled: boolean;
  host: string;
  port: number;
  username: string;
  /** Never serialized: GET omits it; a PATCH without it keeps the stored one. */
  password: string;
  /** `PLAIN` (default) or `LOGIN`. */
  authMethod: string;
  /** true: implicit TLS (port 465); false: STARTTLS when the server offers it. */
  tls: boolean;
  /** Name used in EHLO/HELO. @default "localhost" */
  localName: string;
}

/** Who a rate-limit rule applies to: everyone (`""`), guests only, or signed-in callers only. */
export type RateLimitAudience = '' | '@guest' | '@auth';

export interface RateLimitRule {
  /** A tag (`users:authWithPassword`, `*:auth`), a path (`/api/health`) or a path prefix ending with `/`. */
  label: string;
  audience: RateLimitAudience;
  /** Window in seconds. */
  duration: number;
  maxRequests: number;
}

export interface RateLimitSettings {
  enabled: boolean;
  rules: RateLimitRule[];
  /** Client IPs or CIDR subnets never rate limited (an internal service, a health checker). @default [] */
  excludedIPs: string[];
}

/**
 * Which request headers carry the client's address (PocketBase's `TrustedProxyConfig`). Empty
 * `headers`: the socket's address. Only list headers your proxy sets (and overwrites): a header
 * the client can send itself lets it choose its address.
 */
export interface TrustedProxySettings {
  /** Header names, checked in order; the first one present with an address wins. @default [] */
  headers: string[];
  /**
   * Take the leftmost address of a list such as `X-Forwarded-For` (the original client, as the
   * first proxy saw it) instead of the rightmost (the one the nearest proxy added). Leftmost is
   * spoofable behind proxies that append to a client-sent header. @default false
   */
  useLeftmostIP: boolean;
}

/** `POST /api/batch` (spec §1.5), PocketBase's `BatchConfig`. */
export interface BatchSettings {
  /** @default false */
  enabled: boolean;
  /** Most requests in one batch; 0 refuses every batch (as PocketBase does). @default 50 */
  maxRequests: number;
  /** Seconds the whole batch transaction may take; 0 means the default 3 s. @default 3 */
  timeout: number;
  /** Largest batch body in bytes; 0 means the default 128 MiB. @default 0 */
  maxBodySize: number;
}

/**
 * `POST /api/sql` (Basalt's addition to PocketBase's console, docs in the README): read-only
 * unless a superuser turns writes on.
 */
export interface SqlConsoleSettings {
  /** Let the console run INSERT, UPDATE, DELETE and DDL (never on collection or internal tables). @default false */
  allowWrites: boolean;
}

/** The stored logs (`/api/logs`), PocketBase's `LogsConfig`. */
export interface LogsSettings {
  /** Days entries are kept; 0 stores nothing. @default 5 */
  maxDays: number;
  /** Lowest level stored (-4 debug, 0 info, 4 warn, 8 error). @default 0 */
  minLevel: number;
  /** Store the client's IP addresses with each request. @default true */
  logIP: boolean;
  /** Store the signed-in record's id with each request (its collection is always stored). @default false */
  logAuthId: boolean;
}

/**
 * An S3-compatible bucket (PocketBase's `S3Config`): the `s3` section (where uploaded files
 * live) and, with the backups section, where backups go. Exported for every section that
 * embeds one.
 */
export interface S3Settings {
  /** @default false */
  enabled: boolean;
  bucket: string;
  region: string;
  /** e.g. https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000. */
  endpoint: string;
  accessKey: string;
  /** Never serialized: GET omits it; a PATCH without it keeps the stored one. */
  secret: string;
  /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (MinIO and most self-hosted servers). @default false */
  forcePathStyle: boolean;
}

/** Where backups go when not on local disk (PocketBase's `S3Config` of `BackupsConfig`). */
export type BackupS3Settings = S3Settings;

/** Backups (`/api/backups`), PocketBase's `BackupsConfig`. */
export interface BackupsSettings {
  /** A cron expression for automatic backups (`0 3 * * *`); empty turns them off. @default "" */
  cron: string;
  /** Automatic backups kept (the oldest are deleted past it); needed when `cron` is set. @default 3 */
  cronMaxKeep: number;
  s3: BackupS3Settings;
}

export interface Settings {
  /** When not empty, superuser requests from any other IP or subnet are refused (403). @default [] */
  superuserIPs: string[];
  meta: MetaSettings;
  smtp: SmtpSettings;
  rateLimits: RateLimitSettings;
  batch: BatchSettings;
  sqlConsole: SqlConsoleSettings;
  trustedProxy: TrustedProxySettings;
  logs: LogsSettings;
  /**
   * Uploaded files on S3 instead of `<dataDir>/storage`, switched at runtime (README "Files").
   * The `--s3-*` start-up flags win over this section.
   */
  s3: S3Settings;
  backups: BackupsSettings;
}

/** PocketBase's default rules (spec §1.1); the limiter is off until a superuser enables it. */
export const DEFAULT_RATE_LIMIT_RULES: readonly RateLimitRule[] = [
  { label: '*:auth', audience: '', duration: 3, maxRequests: 2 },
  { label: '*:create', audience: '', duration: 5, maxRequests: 20 },
  { label: '/api/batch', audience: '', duration: 1, maxRequests: 3 },
  { label: '/api/', audience: '', duration: 10, maxRequests: 300 },
];

export function defaultSettings(config: Pick<Config, 'appName' | 'appUrl'>): Settings {
  return {
    superuserIPs: [],
    meta: {
      appName: config.appName,
      appURL: config.appUrl,
      senderName: 'Support',
      senderAddress: 'support@example.com',
      hideControls: false,
      accentColor: '#1055c9',
    },
    smtp: { enabled: false, host: 'smtp.example.com', port: 587, username: '', password: '', authMethod: 'PLAIN', tls: false, localName: '' },
    rateLimits: { enabled: false, rules: DEFAULT_RATE_LIMIT_RULES.map((r) => ({ ...r })), excludedIPs: [] },
    // PocketBase stores maxBodySize 0 ("the default"), shown as such by GET /api/settings.
    batch: { enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 },
    sqlConsole: { allowWrites: false },
    trustedProxy: { headers: [], useLeftmostIP: false },
    logs: { maxDays: 5, minLevel: 0, logIP: true, logAuthId: false },
    s3: defaultS3Settings(),
    backups: { cron: '', cronMaxKeep: 3, s3: defaultS3Settings() },
  };
}

/** An S3 section never saved: off, everything empty (PocketBase's zero value). */
export function defaultS3Settings(): S3Settings {
  return { enabled: false, bucket: '', region: '', endpoint: '', accessKey: '', secret: '', forcePathStyle: false };
}

/** An S3 section as the API shows it: the secret left out (PocketBase omits it too). */
export function redactS3Settings(s3: S3Settings): Omit<S3Settings, 'secret'> {
  const { secret: _secret, ...shown } = s3;
  return shown;
}

/** Settings as the API shows them: secrets left out. */
export function redactSettings(settings: Settings): Record<string, unknown> {
  const { password: _password, ...smtp } = settings.smtp;
  return { ...settings, smtp, s3: redactS3Settings(settings.s3), backups: { ...settings.backups, s3: redactS3Settings(settings.backups.s3) } };
}

/** PocketBase's fallbacks for the batch values that 0 leaves to the default. */
export const DEFAULT_BATCH_TIMEOUT_SECONDS = 3;
export const DEFAULT_BATCH_MAX_BODY_SIZE = 128 << 20;

/** The batch limits in force: 0 (or less) in timeout or maxBodySize means PocketBase's default. */
export function batchLimits(batch: BatchSettings): { maxRequests: number; timeoutMs: number; maxBodySize: number } {
  return {
    maxRequests: batch.maxRequests,
    timeoutMs: (batch.timeout > 0 ? batch.timeout : DEFAULT_BATCH_TIMEOUT_SECONDS) * 1000,
    maxBodySize: batch.maxBodySize > 0 ? batch.maxBodySize : DEFAULT_BATCH_MAX_BODY_SIZE,
  };
}
