/**
 * An outbound webhook endpoint: its stored row, what the delivery path needs of it (parsed), and
 * the JSON the API shows. The signing secrets never leave through `webhookToJson`; header values
 * that look like credentials are masked (a write that sends the mask back keeps the stored value).
 */
import { parseFilter } from '../rules/parser.js';
import type { Expr } from '../rules/ast.js';

export type WebhookAction = 'create' | 'update' | 'delete';
export const WEBHOOK_ACTIONS: readonly WebhookAction[] = ['create', 'update', 'delete'];
/** `collections: ['*']`: every collection. */
export const ALL_COLLECTIONS = '*';
export const MASK = '******';

export interface WebhookRow {
  id: string;
  url: string;
  collections: string;
  actions: string;
  filter: string;
  headers: string;
  enabled: boolean | number;
  secret: string;
  previousSecret: string;
  previousSecretExpires: string;
  failingSince: string;
  disabledReason: string;
  created: string;
  updated: string;
}

export const WEBHOOK_COLUMNS = ['id', 'url', 'collections', 'actions', 'filter', 'headers', 'enabled', 'secret', 'previousSecret', 'previousSecretExpires', 'failingSince', 'disabledReason', 'created', 'updated'] as const;

/** An endpoint as deliveries use it. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  collections: readonly string[];
  actions: ReadonlySet<WebhookAction>;
  filter: string;
  /** The parsed filter (null: none). */
  filterExpr: Expr | null;
  headers: Readonly<Record<string, string>>;
  enabled: boolean;
  /** The secrets that sign now: the current one, and the previous one during a rotation's grace period. */
  secret: string;
  previousSecret: string;
  previousSecretExpires: string;
  failingSince: string;
  disabledReason: string;
}

const json = <T>(text: unknown, fallback: T): T => {
  if (typeof text !== 'string') return (text as T) ?? fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

export function endpointOf(row: WebhookRow): WebhookEndpoint {
  const filter = row.filter ?? '';
  return {
    id: row.id,
    url: row.url,
    collections: json<string[]>(row.collections, []),
    actions: new Set(json<WebhookAction[]>(row.actions, [])),
    filter,
    filterExpr: filter.trim() === '' ? null : parseFilter(filter),
    headers: json<Record<string, string>>(row.headers, {}),
    enabled: row.enabled === true || row.enabled === 1,
    secret: row.secret,
    previousSecret: row.previousSecret ?? '',
    previousSecretExpires: row.previousSecretExpires ?? '',
    failingSince: row.failingSince ?? '',
    disabledReason: row.disabledReason ?? '',
  };
}

/** Header names whose values are credentials: masked when shown. */
export function isSensitiveHeader(name: string): boolean {
  return /^(authorization|proxy-authorization|cookie)$/i.test(name) || /token|secret|key|password|auth|signature|session/i.test(name);
}

export function maskedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, isSensitiveHeader(k) ? MASK : v]));
}

/** The API's view of an endpoint: never its secrets. */
export function webhookToJson(row: WebhookRow): Record<string, unknown> {
  const e = endpointOf(row);
  return {
    id: e.id,
    url: e.url,
    collections: e.collections,
    actions: WEBHOOK_ACTIONS.filter((a) => e.actions.has(a)),
    filter: e.filter,
    headers: maskedHeaders(e.headers),
    enabled: e.enabled,
    failingSince: e.failingSince,
    disabledReason: e.disabledReason,
    secretRotating: e.previousSecret !== '',
    created: row.created,
    updated: row.updated,
  };
}
