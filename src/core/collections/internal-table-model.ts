/**
 * An internal table (`_collections`, `_jobs`…) seen as a read-only collection with the given
 * columns, so the admin lists of those tables take a client filter and sort through the same
 * client-query gate, compiler and cost bounds as a records list.
 */
import { CollectionModel } from '../model/collection-model.js';
import type { Field } from '../model/collection-types.js';

/**
 * `rowid`: the table has an insertion-order key (SQLite's rowid, PostgreSQL's identity column,
 * as collection tables have), so `@rowid` sorts by it; otherwise the model is a view and `@rowid`
 * means `id`. @default false
 */
export function internalTableModel(table: string, fields: Field[], options: { rowid?: boolean } = {}): CollectionModel {
  return new CollectionModel({
    id: table,
    name: table,
    type: options.rowid ? 'base' : 'view',
    system: true,
    fields,
    indexes: [],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    created: '',
    updated: '',
  });
}
