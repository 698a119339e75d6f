/** What an API key may do: record actions on collections (see api-keys.ts). */

export const RECORD_ACTIONS = ['list', 'view', 'create', 'update', 'delete'] as const;
export type RecordAction = (typeof RECORD_ACTIONS)[number];

/** A scope: a collection id (or `*` for every collection) and the actions allowed on it. */
export interface ApiKeyScope {
  collection: string;
  actions: RecordAction[];
}

/** What a request authenticated by an API key may do. */
export interface ApiKeyPrincipal {
  id: string;
  name: string;
  scopes: readonly ApiKeyScope[];
}

/**
 * Whether `key` may do `action` on `collection`. System collections (superusers, and the rows
 * auth keeps: links, OTPs, MFA sessions, origins) are never in a key's reach, `*` included: a
 * key must not be a way to mint a superuser or read sign-in secrets.
 */
export function keyAllows(key: ApiKeyPrincipal, collection: { id: string; system: boolean }, action: RecordAction): boolean {
  if (collection.system) return false;
  return key.scopes.some((s) => (s.collection === '*' || s.collection === collection.id) && s.actions.includes(action));
}

/** Whether `key` may read `collection` at all (list or view): what a filter or sort may walk into. */
export function keyCanRead(key: ApiKeyPrincipal, collection: { id: string; system: boolean }): boolean {
  return keyAllows(key, collection, 'list') || keyAllows(key, collection, 'view');
}
