/** API keys' scopes as the form edits them (a checkbox per action) and as `/api/keys` takes them. */

export const RECORD_ACTIONS = ['list', 'view', 'create', 'update', 'delete'] as const;
export type RecordAction = (typeof RECORD_ACTIONS)[number];

export interface ApiKey {
  id: string;
  name: string;
  keyPrefix: string;
  scopes: { collection: string; collectionName: string; actions: RecordAction[] }[];
  expires: string;
  lastUsed: string;
  created: string;
  updated: string;
}

export interface ScopeDraft {
  /** A collection's name, or `*`. */
  collection: string;
  actions: Record<RecordAction, boolean>;
}

/** A new scope row: every collection, read-only. */
export function emptyScope(): ScopeDraft {
  return { collection: '*', actions: { list: true, view: true, create: false, update: false, delete: false } };
}

/** The drafts as the API takes them (actions in their canonical order; the server says what is missing). */
export function scopesPayload(drafts: readonly ScopeDraft[]): { collection: string; actions: RecordAction[] }[] {
  return drafts.map((d) => ({ collection: d.collection, actions: RECORD_ACTIONS.filter((a) => d.actions[a]) }));
}

/** `posts: list, view; *: create` for the list. */
export function scopeSummary(scopes: ApiKey['scopes']): string {
  return scopes.map((s) => `${s.collection === '*' ? '*' : s.collectionName || s.collection}: ${s.actions.join(', ')}`).join('; ');
}

/** A key's scopes as the form edits them (collections by name, as the form's picker lists them). */
export function scopeDrafts(scopes: ApiKey['scopes']): ScopeDraft[] {
  return scopes.map((s) => ({
    collection: s.collection === '*' ? '*' : s.collectionName || s.collection,
    actions: Object.fromEntries(RECORD_ACTIONS.map((a) => [a, s.actions.includes(a)])) as Record<RecordAction, boolean>,
  }));
}

/** A stored date (`YYYY-MM-DD HH:MM:SS.sssZ`) as a `datetime-local` input's value, in the browser's time zone; '' for none. */
export function localInputOf(date: string): string {
  if (date === '') return '';
  const d = new Date(date.replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
