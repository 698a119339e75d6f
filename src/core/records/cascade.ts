/**
 * What deleting a record does to the records that point at it: relation fields with
 * `cascadeDelete` delete the referencing records too (recursively), required relations that
 * would become empty refuse the delete, and the rest simply drop the id. Deleting an auth
 * record also removes its rows in the auth system collections. Every record changed this way is
 * written through the write pipeline's hooks (CascadeWrites) and announced after the commit like
 * any other write (`recordUpdated` / `recordDeleted`), so hooks and realtime subscribers hear of it.
 */
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import type { Field } from '../model/collection-types.js';
import { valuesOf } from '../collections/fields/multi-value.js';
import { badRequest, MESSAGES } from '../errors.js';
import type { Database } from '../ports.js';
import { AUTH_RECORD_TABLES, WORKFLOW_TABLES } from '../internal-tables.js';
import { codecOf } from './record-codec.js';
import type { RecordModel } from '../model/record-model.js';

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
/** Referencing records read (and locked) at a time: what one relation holds in memory at once. */
const CHUNK = 500;
/** @default of {@link CascadeEffects}' limit: records one delete may change, itself included. */
export const DEFAULT_MAX_CASCADE_RECORDS = 10_000;

/** One record a cascade changed, for its after-commit event. */
export type CascadeChange = { type: 'update'; record: RecordModel; previous: RecordModel } | { type: 'delete'; record: RecordModel };

/**
 * What one delete changed, in order: announced once the transaction commits. Every change must
 * be kept until then (the events carry the records), so their number is bounded: a delete that
 * would change more than `limit` records is refused (400, rolled back) rather than build an
 * unbounded list.
 */
export class CascadeEffects {
  readonly changes: CascadeChange[] = [];

  /** `now`: the time stamped on the records the cascade updates (their onUpdate autodates). */
  constructor(
    readonly now: string,
    private readonly limit: number = DEFAULT_MAX_CASCADE_RECORDS,
  ) {}

  add(change: CascadeChange): void {
    if (this.changes.length >= this.limit) throw badRequest(MESSAGES.cascadeTooLarge);
    this.changes.push(change);
  }

  get deleted(): RecordModel[] {
    return this.changes.flatMap((c) => (c.type === 'delete' ? [c.record] : []));
  }

}

/** How a cascade writes: the pipeline's steps and hooks around each row it deletes or rewrites. */
export interface CascadeWrites {
  /** Deletes one record's row (the delete's own record at depth 0, a cascaded one deeper). */
  deleteRow(record: RecordModel, depth: number): Promise<void>;
  /** Rewrites a record that referred to a deleted one: its relation field and onUpdate autodates (`changed`). */
  updateRow(record: RecordModel, previous: RecordModel, changed: Field[]): Promise<void>;
}

/** The records whose relation `fieldName` holds `id`, a chunk at a time in id order, locked. */
async function* referencing(db: Database, source: CollectionModel, fieldName: string, multiple: boolean, id: string): AsyncGenerator<RecordModel[]> {
  const codec = codecOf(source);
  const column = sql.ref(`__c.${fieldName}`);
  const condition = multiple
    ? sql`EXISTS (SELECT 1 FROM ${db.filter.jsonEach(column, '__je', true)} WHERE ${sql.ref('__je.value')} = ${db.filter.param(id, 'text')})`
    : sql`${column} = ${db.filter.param(id, 'text')}`;
  let after = '';
  for (;;) {
    // Locked: the relation value is rewritten from what is read here.
    const rows = await db.rows<Record<string, unknown>>(
      sql`SELECT ${codec.columns('__c')} FROM ${sql.id(source.table)} AS ${sql.id('__c')} WHERE ${condition} AND ${sql.ref('__c.id')} > ${db.filter.param(after, 'text')} ORDER BY ${sql.ref('__c.id')} LIMIT ${sql.lit(CHUNK)} ${db.filter.forUpdate()}`,
    );
    if (rows.length === 0) return;
    const records = rows.map((r) => codec.decode(r));
    yield records;
    if (rows.length < CHUNK) return;
    after = String(records[records.length - 1]!.values.id);
  }
}

/** Drops `id` from `ref`'s relation `field` (and stamps its onUpdate dates), as an update would. */
async function clearReference(writes: CascadeWrites, ref: RecordModel, field: Field, remaining: string[], multiple: boolean, effects: CascadeEffects): Promise<void> {
  const source = ref.collection;
  const values = { ...ref.values, [field.name]: multiple ? remaining : '' };
  const changed = source.fields.filter((f) => f === field || (f.type === 'autodate' && f.onUpdate));
  for (const f of changed) if (f !== field) values[f.name] = effects.now;
  const record: RecordModel = { collection: source, values };
  effects.add({ type: 'update', record, previous: ref });
  await writes.updateRow(record, ref, changed);
}

/**
 * Deletes `record` and applies the relation consequences, inside the caller's transaction, and
 * records every change in `effects` (the record first) for the after-commit events.
 */
export async function deleteWithCascade(db: Database, schema: SchemaView, record: RecordModel, effects: CascadeEffects, writes: CascadeWrites, seen = new Set<string>(), depth = 0): Promise<void> {
  const key = `${record.collection.id}/${String(record.values.id)}`;
  if (seen.has(key)) return;
  seen.add(key);
  if (depth > MAX_CASCADE_DEPTH) throw badRequest(MESSAGES.deleteFailed);
  const id = String(record.values.id);
  effects.add({ type: 'delete', record });
  await writes.deleteRow(record, depth);
  if (record.collection.data.workflow) await deleteRecordRows(db, WORKFLOW_TABLES, record.collection.id, id);

  for (const { source, field, multiple } of referencesTo(schema, record.collection)) {
    // Each chunk is rewritten before the next is read: a record handled here no longer refers to `id`.
    for await (const chunk of referencing(db, source, field.name, multiple, id)) {
      for (const ref of chunk) {
        if (seen.has(`${source.id}/${String(ref.values.id)}`)) continue;
        const remaining = valuesOf(ref.values[field.name]).filter((v) => v !== id);
        // A cascade deletes the referencing record only when this was its last related id
        // (a playlist losing one of its songs keeps the others), as PocketBase does.
        if (field.cascadeDelete && remaining.length === 0) {
          await deleteWithCascade(db, schema, ref, effects, writes, seen, depth + 1);
          continue;
        }
        if (field.required && remaining.length === 0) throw badRequest(MESSAGES.deleteFailed);
        await clearReference(writes, ref, field, remaining, multiple, effects);
      }
    }
  }

  if (record.collection.isAuth) await deleteAuthRecords(db, schema, record, effects, writes, depth);
}

/** What auth keeps about one auth record: its system records (announced like any delete) and internal rows. */
async function deleteAuthRecords(db: Database, schema: SchemaView, record: RecordModel, effects: CascadeEffects, writes: CascadeWrites, depth: number): Promise<void> {
  const collectionId = record.collection.id;
  const recordId = String(record.values.id);
  for (const name of AUTH_SYSTEM_COLLECTIONS) {
    const system = schema.find(name);
    if (!system) continue;
    const codec = codecOf(system);
    for (;;) {
      const rows = await db.rows<Record<string, unknown>>(
        sql`SELECT ${codec.columns('__s')} FROM ${sql.id(system.table)} AS ${sql.id('__s')} WHERE ${sql.ref('__s.collectionRef')} = ${db.filter.param(collectionId, 'text')} AND ${sql.ref('__s.recordRef')} = ${db.filter.param(recordId, 'text')} LIMIT ${sql.lit(CHUNK)}`,
      );
      if (rows.length === 0) break;
      for (const r of rows.map((row) => codec.decode(row))) {
        effects.add({ type: 'delete', record: r });
        await writes.deleteRow(r, depth + 1);
      }
    }
  }
  await deleteRecordRows(db, AUTH_RECORD_TABLES, collectionId, recordId);
}

/** The rows internal tables keep about one record (its `collectionRef`, `recordRef`). */
async function deleteRecordRows(db: Database, tables: readonly string[], collectionId: string, recordId: string): Promise<void> {
  for (const table of tables) await db.kysely.deleteFrom(table).where('collectionRef', '=', collectionId).where('recordRef', '=', recordId).execute();
}

/** What workflows keep about the records of a collection (history, approvals, state markers), removed with it. */
export async function deleteWorkflowData(db: Database, collectionId: string): Promise<void> {
  for (const table of WORKFLOW_TABLES) await db.kysely.deleteFrom(table).where('collectionRef', '=', collectionId).execute();
}

/**
 * What auth keeps about the records of an auth collection (links, MFA sessions, OTPs, sign-in
 * origins, authenticator apps), removed with the whole collection: its records go unannounced
 * too (the collection change is the event). One record's go through {@link deleteWithCascade}.
 */
export async function deleteAuthData(db: Database, schema: SchemaView, collectionId: string): Promise<void> {
  const tables = [...AUTH_SYSTEM_COLLECTIONS.flatMap((name) => schema.find(name)?.table ?? []), ...AUTH_RECORD_TABLES];
  for (const table of tables) await db.kysely.deleteFrom(table).where('collectionRef', '=', collectionId).execute();
}
