/**
 * The runtime settings (`/api/settings`, PocketBase's shape): app meta used in emails, SMTP,
 * and rate limits. They live in the database so every node reads the same values; defaults
 * come from the start-up Config (`--app-name`, `--app-url`) for anything never saved.
 */
import type { Config } from '../config.js';

export interface MetaSettings {
  appName: string;
  appURL: string;
  senderName: string;
  senderAddress: string;
  hideControls: boolean;
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
}

export interface Settings {
  meta: MetaSettings;
  smtp: SmtpSettings;
  rateLimits: RateLimitSettings;
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
    meta: {
      appName: config.appName,
      appURL: config.appUrl,
      senderName: 'Support',
      senderAddress: 'support@example.com',
      hideControls: false,
    },
    smtp: { enabled: false, host: 'smtp.example.com', port: 587, username: '', password: '', authMethod: 'PLAIN', tls: false, localName: '' },
    rateLimits: { enabled: false, rules: DEFAULT_RATE_LIMIT_RULES.map((r) => ({ ...r })) },
  };
}

/** Settings as the API shows them: secrets left out. */
export function redactSettings(settings: Settings): Record<string, unknown> {
  const { password: _password, ...smtp } = settings.smtp;
  return { ...settings, smtp };
}
