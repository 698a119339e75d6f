/**
 * Basalt's outgoing webhooks as the dashboard edits them (`/api/webhooks`, docs/webhooks.md): an
 * endpoint ↔ the form's draft (headers as `Name: value` lines), and the delivery log's shapes.
 */

export const WEBHOOK_ACTIONS = ['create', 'update', 'delete'] as const;
export type WebhookAction = (typeof WEBHOOK_ACTIONS)[number];

export interface Webhook {
  id: string;
  url: string;
  /** Collection ids, or `*`. */
  collections: string[];
  actions: WebhookAction[];
  filter: string;
  /** Credential-like values come masked as `******` (sending the mask back keeps them). */
  headers: Record<string, string>;
  enabled: boolean;
  failingSince: string;
  disabledReason: string;
  secretRotating: boolean;
  created: string;
  updated: string;
  /** Only in the answers to create and rotate-secret. */
  secret?: string;
}

export interface DeliveryAttempt {
  attempt: number;
  started: string;
  durationMs: number;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: string;
  error: string;
}

export interface Delivery {
  id: string;
  webhook: string;
  type: string;
  collectionId: string;
  recordId: string;
  state: 'pending' | 'retrying' | 'succeeded' | 'failed' | 'skipped';
  attempts: number;
  lastStatus: number;
  lastError: string;
  nextAttempt: string;
  payload: unknown;
  attemptLog: DeliveryAttempt[];
  created: string;
  updated: string;
}

export interface WebhookDraft {
  url: string;
  /** Collection ids (or names), or `*` alone for every collection. */
  collections: string[];
  actions: Record<WebhookAction, boolean>;
  filter: string;
  headers: string;
  enabled: boolean;
}

export function emptyDraft(): WebhookDraft {
  return { url: 'https://', collections: [], actions: { create: true, update: true, delete: true }, filter: '', headers: '', enabled: true };
}

export function draftOf(hook: Webhook): WebhookDraft {
  return {
    url: hook.url,
    collections: [...hook.collections],
    actions: { create: hook.actions.includes('create'), update: hook.actions.includes('update'), delete: hook.actions.includes('delete') },
    filter: hook.filter,
    headers: headersToText(hook.headers),
    enabled: hook.enabled,
  };
}

/** The body of a create or update. Malformed header lines are sent as they are for the server to refuse. */
export function webhookBody(draft: WebhookDraft): Record<string, unknown> {
  return {
    url: draft.url.trim(),
    collections: draft.collections,
    actions: WEBHOOK_ACTIONS.filter((a) => draft.actions[a]),
    filter: draft.filter,
    headers: textToHeaders(draft.headers),
    enabled: draft.enabled,
  };
}

/** `{a: '1'}` → `a: 1`, a line each. */
export function headersToText(headers: Record<string, string> | null | undefined): string {
  return Object.entries(headers ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}

/**
 * `Name: value` lines → an object. A line without a colon keeps its text as a name with an empty
 * value, so the server names the problem instead of the line silently disappearing.
 */
export function textToHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon === -1) out[line] = '';
    else out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** `orders, posts` for the list, from the ids the API stores. */
export function collectionsSummary(ids: readonly string[], names: ReadonlyMap<string, string>): string {
  if (ids.includes('*')) return 'every collection';
  return ids.map((id) => names.get(id) ?? id).join(', ');
}
