/**
 * An internal table (`_collections`, `_jobs`…) seen as a read-only collection with the given
 * columns, so the admin lists of those tables take a client filter and sort through the same
 * client-query gate, compiler and cost bounds as a records list.
 */
import { CollectionModel } from '../model/collection-model.js';
import type { Field } from '../model/collection-types.js';

export function internalTableModel(table: string, fields: Field[]): CollectionModel {
  return new CollectionModel({
    id: table,
    name: table,
    type: 'view',
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
