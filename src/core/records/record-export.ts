/**
 * The JSON a client sees for a record (PocketBase's PublicExport): collectionId and
 * collectionName first, then the fields in schema order, then `expand`. Hidden fields only for
 * superusers; `password` and `tokenKey` never; an auth record's `email` only when visible.
 */
import type { RecordModel } from '../model/record-model.js';

/** Expanded relations of a record: a record or a list of records per expand key. */
export type ExpandMap = Map<RecordModel, Record<string, RecordModel | RecordModel[]>>;

export interface ExportOptions {
  seesHidden: boolean;
  /** The requester's auth record id and collection id (owner sees their own email). */
  authId?: string;
  authCollectionId?: string;
  /** Ids of auth records whose email the requester may see (manageRule satisfied). */
  managedIds?: ReadonlySet<string>;
  expand?: ExpandMap;
}

const NEVER_EXPORTED = new Set(['password', 'tokenKey']);

export function exportRecord(record: RecordModel, opts: ExportOptions): Record<string, unknown> {
  const { collection, values } = record;
  const out: Record<string, unknown> = { collectionId: collection.id, collectionName: collection.name };
  for (const field of collection.fields) {
    if (field.hidden && !opts.seesHidden) continue;
    // Password hashes never leave the server, whatever the collection or the caller.
    if (field.type === 'password' || (collection.isAuth && NEVER_EXPORTED.has(field.name))) continue;
    out[field.name] = values[field.name];
  }
  if (collection.isAuth && 'email' in out && !opts.seesHidden && values.emailVisibility !== true) {
    const id = String(values.id);
    const isOwner = opts.authId === id && opts.authCollectionId === collection.id;
    if (!isOwner && !opts.managedIds?.has(id)) delete out.email;
  }
  const expanded = opts.expand?.get(record);
  if (expanded && Object.keys(expanded).length > 0) {
    const e: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(expanded)) {
      e[key] = Array.isArray(value) ? value.map((r) => exportRecord(r, opts)) : exportRecord(value, opts);
    }
    out.expand = e;
  }
  return out;
}
