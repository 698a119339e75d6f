/**
 * Reads flags and BASALT_* environment variables once into a frozen Config. Flags win over the
 * environment. A malformed value fails here, at start-up, with a message that says what to fix.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { normaliseAllowEntry } from '../adapters/webhook-transport.js';
import { DEFAULT_QUERY_TIMEOUT_MS, DEFAULT_SLOW_QUERY_MS, DEFAULT_REPLICA_MAX_LAG_MS, DEFAULT_WEBHOOKS_CONFIG, defaultConfig, type Config, type MetricsConfig, type StorageConfig } from '../core/config.js';
import { API_KEY_PREFIX } from '../core/auth/api-keys.js';
import { isSafeStorageKey } from '../core/files/storage-key.js';

export class UsageError extends Error {}

/**
 * The dashboard `npm run build` (and `npm ci`) writes: `<package>/dist/dashboard`, from this
 * file compiled (dist/cli/) or run from its source (src/cli/) alike.
 */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dist/dashboard', import.meta.url));

export const SERVE_OPTIONS = {
  http: { type: 'string', env: 'BASALT_HTTP', help: 'address to listen on, host:port (default 127.0.0.1:8090)' },
  dir: { type: 'string', env: 'BASALT_DIR', help: 'data directory (default ./basalt_data)' },
  db: { type: 'string', env: 'BASALT_DB', help: 'database: empty for SQLite in --dir, or postgres://user@host:5432/db' },
  'db-replica': { type: 'string', env: 'BASALT_DB_REPLICAS', multiple: true, help: 'postgres://… of a streaming replica of --db that may serve reads; repeatable, or comma-separated in the env' },
  'db-replica-max-lag': { type: 'string', env: 'BASALT_DB_REPLICA_MAX_LAG', help: 'ms a replica may lag behind the primary and still serve reads (default 5000)' },
  redis: { type: 'string', env: 'BASALT_REDIS', help: 'redis://host:6379: shared rate-limit counters for several nodes' },
  'log-level': { type: 'string', env: 'BASALT_LOG_LEVEL', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
  'app-url': { type: 'string', env: 'BASALT_APP_URL', help: 'public URL of the app, for links in emails' },
  'app-name': { type: 'string', env: 'BASALT_APP_NAME', help: 'app name shown in emails (default Basalt)' },
  'query-timeout': { type: 'string', env: 'BASALT_QUERY_TIMEOUT', help: 'deadline of a client query in ms, then 503 (default 5000)' },
  'slow-query': { type: 'string', env: 'BASALT_SLOW_QUERY', help: 'log client lists whose query takes this many ms or more, with plan and index hints; 0 = never (default 1000)' },
  hooks: { type: 'string', env: 'BASALT_HOOKS', help: 'directory of hook files, *.ts/*.js (default <dir>/../basalt_hooks when it exists)' },
  dev: { type: 'boolean', env: 'BASALT_DEV', help: 'development mode: reload hook files when they change' },
  'webhook-allow': { type: 'string', env: 'BASALT_WEBHOOK_ALLOW', multiple: true, help: 'HOST[:PORT] a webhook may target although private (intranet, loopback); repeatable, or comma-separated in the env' },
  'webhook-concurrency': { type: 'string', env: 'BASALT_WEBHOOK_CONCURRENCY', help: 'webhook deliveries sent at once by this node (default 32; 0: this node leaves sending to the others)' },
  'metrics-token': { type: 'string', env: 'BASALT_METRICS_TOKEN', help: 'serve Prometheus metrics at GET /api/metrics to requests with Authorization: Bearer <token> (16+ characters; prefer the env var: flags show in ps)' },
  'metrics-http': { type: 'string', env: 'BASALT_METRICS_HTTP', help: 'also serve the metrics, without a token, at /metrics on this private host:port (e.g. 127.0.0.1:9100)' },
  'trust-proxy': { type: 'boolean', env: 'BASALT_TRUST_PROXY', help: 'trust X-Forwarded-* headers (behind a reverse proxy)' },
  'no-dashboard': { type: 'boolean', env: 'BASALT_NO_DASHBOARD', help: 'do not serve the admin dashboard at /_/ (404 there)' },
  's3-bucket': { type: 'string', env: 'BASALT_S3_BUCKET', help: 'store files in this S3 bucket instead of <dir>/storage' },
  's3-endpoint': { type: 'string', env: 'BASALT_S3_ENDPOINT', help: 'S3-compatible endpoint URL, e.g. http://127.0.0.1:9000 (default: AWS)' },
  's3-region': { type: 'string', env: 'BASALT_S3_REGION', help: 'S3 region (default us-east-1)' },
  's3-access-key': { type: 'string', env: 'BASALT_S3_ACCESS_KEY', help: 'S3 access key id' },
  's3-secret': { type: 'string', env: 'BASALT_S3_SECRET', help: 'S3 secret access key (prefer the environment variable: flags show in ps)' },
  's3-force-path-style': { type: 'boolean', env: 'BASALT_S3_FORCE_PATH_STYLE', help: 'path-style S3 URLs (MinIO and most self-hosted servers)' },
  's3-prefix': { type: 'string', env: 'BASALT_S3_PREFIX', help: 'key prefix inside the S3 bucket (default none)' },
} as const;

/** The options `serve` reads for file storage. */
export const STORAGE_OPTIONS = ['s3-bucket', 's3-endpoint', 's3-region', 's3-access-key', 's3-secret', 's3-force-path-style', 's3-prefix'] as const;

type OptionName = keyof typeof SERVE_OPTIONS;

export function parseHttpAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`invalid --http address "${value}": use host:port, e.g. 127.0.0.1:8090 or 0.0.0.0:80`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function parseRedisUrl(value: string): string {
  if (value === '') return '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`invalid --redis "${value}": use a URL such as redis://127.0.0.1:6379`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`invalid --redis "${value}": the URL must start with redis:// or rediss://`);
  return value;
}

/** Local disk unless --s3-bucket is set; then the credentials are required (fail at start-up). */
function parseStorage(values: Partial<Record<OptionName, string | boolean>>): StorageConfig {
  const str = (name: OptionName) => (typeof values[name] === 'string' ? String(values[name]).trim() : '');
  const bucket = str('s3-bucket');
  if (bucket === '') {
    const stray = STORAGE_OPTIONS.find((name) => name !== 's3-force-path-style' && str(name) !== '');
    if (stray) throw new UsageError(`--${stray} is set but --s3-bucket is not: set --s3-bucket (BASALT_S3_BUCKET) to store files in S3`);
    return { type: 'local' };
  }
  const endpoint = str('s3-endpoint');
  if (endpoint !== '') {
    let url: URL | null = null;
    try {
      url = new URL(endpoint);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new UsageError(`invalid --s3-endpoint "${endpoint}": use a URL such as https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000`);
    }
  }
  const accessKey = str('s3-access-key');
  const secret = str('s3-secret');
  if (accessKey === '' || secret === '') {
    throw new UsageError('--s3-bucket needs credentials: set --s3-access-key and --s3-secret (BASALT_S3_ACCESS_KEY, BASALT_S3_SECRET)');
  }
  const prefix = str('s3-prefix').replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && !isSafeStorageKey(prefix)) throw new UsageError(`invalid --s3-prefix "${prefix}": use plain path segments such as basalt/prod`);
  return { type: 's3', endpoint, bucket, region: str('s3-region') || 'us-east-1', accessKey, secret, forcePathStyle: values['s3-force-path-style'] === true, prefix };
}

/**
 * `--db-replica` URLs (repeated, or comma-separated): PostgreSQL only, and only with a PostgreSQL
 * `--db` (a replica of SQLite does not exist). Passwords never appear in the messages.
 */
export function parseDatabaseReplicas(value: string | boolean | undefined, databaseUrl: string): string[] {
  if (typeof value !== 'string') return [];
  const urls = value.split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) return [];
  const hide = (url: string) => url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, '//$1:***@');
  if (!/^postgres(ql)?:\/\//i.test(databaseUrl.trim())) {
    throw new UsageError('--db-replica needs a PostgreSQL --db (postgres://…): replicas are PostgreSQL streaming replicas of it');
  }
  for (const url of urls) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      // reported below
    }
    if (!parsed || !/^postgres(ql)?:$/i.test(parsed.protocol)) throw new UsageError(`invalid --db-replica "${hide(url)}": use a URL such as postgres://user@replica-host:5432/db`);
  }
  if (new Set(urls).size !== urls.length) throw new UsageError('--db-replica: the same replica is given twice');
  return urls;
}

/** `--db-replica-max-lag`: 100 ms (about a poll) to 10 minutes. */
function parseReplicaMaxLag(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_REPLICA_MAX_LAG_MS;
  const text = String(value).trim();
  const ms = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 100 || ms > 600_000) throw new UsageError(`invalid --db-replica-max-lag "${text}": use a whole number of milliseconds from 100 to 600000, e.g. 5000`);
  return ms;
}

/** A positive whole number of milliseconds; 0 or less would cancel every query. */
function parseQueryTimeout(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_QUERY_TIMEOUT_MS;
  const text = String(value).trim();
  const ms = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw new UsageError(`invalid --query-timeout "${text}": use a whole number of milliseconds, e.g. 5000`);
  }
  return ms;
}

function parseSlowQuery(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_SLOW_QUERY_MS;
  const text = String(value).trim();
  const ms = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms)) throw new UsageError(`invalid --slow-query "${text}": use a whole number of milliseconds (0: never), e.g. 1000`);
  return ms;
}

/** An explicit --hooks must exist (a typo must not silently run without the app's hooks). */
function parseHooksDir(value: string | boolean | undefined): string {
  if (value === undefined || value === '') return '';
  const dir = String(value);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--hooks "${dir}" is not a directory`);
  return dir;
}

/** `--webhook-allow` entries (repeated, or comma-separated), each HOST or HOST:PORT (443 when no port). */
function parseWebhookAllow(value: string | boolean | undefined): string[] {
  if (typeof value !== 'string') return [];
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  return entries.map((entry) => {
    try {
      return normaliseAllowEntry(entry);
    } catch (err) {
      throw new UsageError(`invalid --webhook-allow "${entry}": ${(err as Error).message.replace(/^invalid webhook allow entry "[^"]*": /, '')}`);
    }
  });
}

function parseWebhookConcurrency(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_WEBHOOKS_CONFIG.concurrency;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n > 1000) throw new UsageError(`invalid --webhook-concurrency "${text}": use a whole number from 0 to 1000`);
  return n;
}

/** A token too short to resist guessing, or one that reads as an API key or has spaces, fails at start-up. */
function parseMetrics(values: Partial<Record<OptionName, string | boolean>>): MetricsConfig {
  const token = typeof values['metrics-token'] === 'string' ? values['metrics-token'].trim() : '';
  if (token !== '' && (token.length < 16 || token.length > 512 || !/^[\x21-\x7e]+$/.test(token) || token.startsWith(API_KEY_PREFIX))) {
    throw new UsageError(`invalid --metrics-token: use 16 to 512 printable characters without spaces, not starting with ${API_KEY_PREFIX} (e.g. the output of: openssl rand -hex 32)`);
  }
  const address = typeof values['metrics-http'] === 'string' ? values['metrics-http'].trim() : '';
  let http: MetricsConfig['http'] = null;
  if (address !== '') {
    try {
      http = parseHttpAddress(address);
    } catch {
      throw new UsageError(`invalid --metrics-http address "${address}": use host:port, e.g. 127.0.0.1:9100`);
    }
  }
  return { token, http };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Parses `args` (after the command words) for the options in `names`. */
export function readOptions(args: string[], env: NodeJS.ProcessEnv, names: OptionName[]): { values: Partial<Record<OptionName, string | boolean>>; positionals: string[] } {
  const spec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const name of names) spec[name] = { type: SERVE_OPTIONS[name].type, ...('multiple' in SERVE_OPTIONS[name] ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args, options: spec, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values: Partial<Record<OptionName, string | boolean>> = {};
  for (const name of names) {
    const flag = parsed.values[name];
    const envValue = env[SERVE_OPTIONS[name].env];
    // A repeatable flag arrives as a list: kept comma-joined, as its environment variable is written.
    if (flag !== undefined) values[name] = Array.isArray(flag) ? flag.join(',') : (flag as string | boolean);
    else if (envValue !== undefined && envValue !== '') {
      values[name] = SERVE_OPTIONS[name].type === 'boolean' ? ['1', 'true', 'yes', 'on'].includes(envValue.toLowerCase()) : envValue;
    }
  }
  return { values, positionals: parsed.positionals };
}

export function buildConfig(values: Partial<Record<OptionName, string | boolean>>): Config {
  const http = parseHttpAddress(String(values.http ?? '127.0.0.1:8090'));
  const logLevel = String(values['log-level'] ?? 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`invalid --log-level "${logLevel}": use one of ${LOG_LEVELS.join(', ')}`);
  }
  const appUrl = values['app-url'] ? String(values['app-url']) : `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}`;
  try {
    new URL(appUrl);
  } catch {
    throw new UsageError(`invalid --app-url "${appUrl}": use an absolute URL such as https://example.com`);
  }
  return defaultConfig({
    http,
    dataDir: String(values.dir ?? './basalt_data'),
    databaseUrl: String(values.db ?? ''),
    databaseReplicas: parseDatabaseReplicas(values['db-replica'], String(values.db ?? '')),
    replicaMaxLagMs: parseReplicaMaxLag(values['db-replica-max-lag']),
    redisUrl: parseRedisUrl(String(values.redis ?? '')),
    logLevel: logLevel as Config['logLevel'],
    appUrl,
    appName: String(values['app-name'] ?? 'Basalt'),
    trustProxy: values['trust-proxy'] === true,
    storage: parseStorage(values),
    queryTimeoutMs: parseQueryTimeout(values['query-timeout']),
    slowQueryMs: parseSlowQuery(values['slow-query']),
    hooksDir: parseHooksDir(values.hooks),
    dev: values.dev === true,
    metrics: parseMetrics(values),
    webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, allow: parseWebhookAllow(values['webhook-allow']), concurrency: parseWebhookConcurrency(values['webhook-concurrency']) },
    dashboardDir: values['no-dashboard'] === true ? '' : DEFAULT_DASHBOARD_DIR,
  });
}
