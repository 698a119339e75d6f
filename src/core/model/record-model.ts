import type { CollectionModel } from './collection-model.js';

/** Canonical field values by field name (see FieldType for the canonical shapes). */
export type RecordValues = Record<string, unknown>;

/** A stored (or about to be stored) record of a collection. */
export interface RecordModel {
  collection: CollectionModel;
  values: RecordValues;
}

export function recordId(record: RecordModel): string {
  return String(record.values.id ?? '');
}
