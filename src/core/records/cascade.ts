/**
 * What deleting a record does to the records that point at it: relation fields with
 * `cascadeDelete` delete the referencing records too (recursively), required relations that
 * would become empty refuse the delete, and the rest simply drop the id. Deleting an auth
 * record also removes its rows in the auth system collections.
 */
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../collections/collection-model.js';
import type { Field } from '../collections/types.js';
import { valuesOf } from '../collections/fields/multi-value.js';
import { badRequest, MESSAGES } from '../errors.js';
import type { Database } from '../ports.js';
import { AUTH_RECORD_TABLES } from '../internal-tables.js';
import { codecOf } from './record-codec.js';
import type { RecordModel } from './record.js';

interface Reference {
  source: CollectionModel;
  field: Field;
  multiple: boolean;
}

// Models are rebuilt on every schema change, so a cache keyed by the model is per schema version.
const references = new WeakMap<CollectionModel, Reference[]>();

/** Every relation field (of a table collection) that points at `target`. */
function referencesTo(schema: SchemaView, target: CollectionModel): Reference[] {
  let refs = references.get(target);
  if (!refs) {
    refs = schema
      .all()
      .filter((c) => !c.isView)
      .flatMap((source) =>
        source.fields.filter((f) => f.type === 'relation' && f.collectionId === target.id).map((field) => ({ source, field, multiple: source.isMultiple(field) })),
      );
    references.set(target, refs);
  }
  return refs;
}

const AUTH_SYSTEM_COLLECTIONS = ['_externalAuths', '_mfas', '_otps', '_authOrigins'];
const MAX_CASCADE_DEPTH = 100;

async function referencing(db: Database, source: CollectionModel, fieldName: string, multiple: boolean, id: string): Promise<RecordModel[]> {
  const codec = codecOf(source);
  const column = sql.ref(`__c.${fieldName}`);
  const condition = multiple
    ? sql`EXISTS (SELECT 1 FROM ${db.filter.jsonEach(column, '__je', true)} WHERE ${sql.ref('__je.value')} = ${db.filter.param(id, 'text')})`
    : sql`${column} = ${db.filter.param(id, 'text')}`;
  // Locked: the relation value is rewritten below from what is read here.
  const rows = await db.rows<Record<string, unknown>>(sql`SELECT ${codec.columns('__c')} FROM ${sql.id(source.table)} AS ${sql.id('__c')} WHERE ${condition} ${db.filter.forUpdate()}`);
  return rows.map((r) => codec.decode(r));
}

/**
 * Deletes `record` and applies the relation consequences, inside the caller's transaction.
 * Returns every record deleted (the record first), for after-commit events.
 */
export async function deleteWithCascade(db: Database, schema: SchemaView, record: RecordModel, seen = new Set<string>(), depth = 0): Promise<RecordModel[]> {
  const key = `${record.collection.id}/${String(record.values.id)}`;
  if (seen.has(key)) return [];
  seen.add(key);
  if (depth > MAX_CASCADE_DEPTH) throw badRequest(MESSAGES.deleteFailed);
  const id = String(record.values.id);
  const deleted: RecordModel[] = [record];

  await db.kysely.deleteFrom(record.collection.table).where('id', '=', id).execute();

  for (const { source, field, multiple } of referencesTo(schema, record.collection)) {
    for (const ref of await referencing(db, source, field.name, multiple, id)) {
      if (seen.has(`${source.id}/${String(ref.values.id)}`)) continue;
      const remaining = valuesOf(ref.values[field.name]).filter((v) => v !== id);
      // A cascade deletes the referencing record only when this was its last related id
      // (a playlist losing one of its songs keeps the others), as PocketBase does.
      if (field.cascadeDelete && remaining.length === 0) {
        deleted.push(...(await deleteWithCascade(db, schema, ref, seen, depth + 1)));
        continue;
      }
      if (field.required && remaining.length === 0) throw badRequest(MESSAGES.deleteFailed);
      const value = multiple ? JSON.stringify(remaining) : '';
      await db.kysely.updateTable(source.table).set({ [field.name]: value }).where('id', '=', String(ref.values.id)).execute();
    }
  }

  if (record.collection.isAuth) await deleteAuthData(db, schema, record.collection.id, id);
  return deleted;
}

/**
 * What auth keeps about the records of an auth collection (links, MFA sessions, OTPs, sign-in
 * origins, authenticator apps): removed with a record (`recordId`) or with the whole collection.
 */
export async function deleteAuthData(db: Database, schema: SchemaView, collectionId: string, recordId?: string): Promise<void> {
  const tables = [...AUTH_SYSTEM_COLLECTIONS.flatMap((name) => schema.find(name)?.table ?? []), ...AUTH_RECORD_TABLES];
  for (const table of tables) {
    let query = db.kysely.deleteFrom(table).where('collectionRef', '=', collectionId);
    if (recordId !== undefined) query = query.where('recordRef', '=', recordId);
    await query.execute();
  }
}
