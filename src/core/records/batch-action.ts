/**
 * Which record action a batch sub-request is (spec §1.5). Only the four record writes are
 * allowed, as in PocketBase's `ValidBatchActions`: create, update, delete, and upsert (`PUT`
 * on the records path, keyed by `body.id`). Anything else is refused before anything runs.
 */

export type BatchActionKind = 'create' | 'update' | 'delete' | 'upsert';

export interface BatchAction {
  kind: BatchActionKind;
  /** Collection id or name, as written in the URL (decoded). */
  collection: string;
  /** Record id (update, delete). */
  id?: string;
  /** The URL's query values (`expand`, `fields`, anything rules read); the first of a repeated key. */
  query: Record<string, string>;
}

const RECORDS = /^\/api\/collections\/([^/?]+)\/records(?:\?(.*))?$/;
const RECORD = /^\/api\/collections\/([^/?]+)\/records\/([^/?]+)(?:\?(.*))?$/;

const BY_METHOD: Record<string, { pattern: RegExp; kind: BatchActionKind }> = {
  POST: { pattern: RECORDS, kind: 'create' },
  PUT: { pattern: RECORDS, kind: 'upsert' },
  PATCH: { pattern: RECORD, kind: 'update' },
  DELETE: { pattern: RECORD, kind: 'delete' },
};

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function queryOf(raw: string | undefined): Record<string, string> {
  const query: Record<string, string> = {};
  if (!raw) return query;
  for (const [k, v] of new URLSearchParams(raw)) if (!(k in query)) query[k] = v;
  return query;
}

/** The action of `method url`, or null when it is not one a batch may run. */
export function resolveBatchAction(method: string, url: string): BatchAction | null {
  const route = BY_METHOD[method.toUpperCase()];
  const match = route?.pattern.exec(url);
  if (!route || !match) return null;
  const collection = decode(match[1]);
  if (collection === null) return null;
  if (route.pattern === RECORDS) return { kind: route.kind, collection, query: queryOf(match[2]) };
  const id = decode(match[2]);
  if (id === null) return null;
  return { kind: route.kind, collection, id, query: queryOf(match[3]) };
}
