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

export function keyAllows(key: ApiKeyPrincipal, collectionId: string, action: RecordAction): boolean {
  return key.scopes.some((s) => (s.collection === '*' || s.collection === collectionId) && s.actions.includes(action));
}
