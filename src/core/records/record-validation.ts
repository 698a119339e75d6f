/**
 * Validation of a record's values before a write: every field type's own checks, then the
 * checks that need the database (relations exist). Uniqueness is left to the database's
 * unique indexes, whose violations are translated into field errors (see uniqueErrors).
 */
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import { valuesOf } from '../collections/fields/multi-value.js';
import { fieldError, type ErrorData } from '../errors.js';
import type { Database, DbFailure } from '../ports.js';
import type { RecordValues } from '../model/record-model.js';
import { compiledTemplate } from '../compiled-query.js';

export function validateValues(collection: CollectionModel, values: RecordValues, isNew: boolean, previous: RecordValues | null, errors: ErrorData): void {
  for (const field of collection.fields) {
    if (errors[field.name]) continue;
    const error = fieldTypeOf(field.type).validate(field, values[field.name], {
      isNew,
      previous: previous?.[field.name],
      collection: collection.data,
    });
    if (error) errors[field.name] = error;
  }
}

/**
 * Relation values must point at existing records of the target collection. The targets are
 * locked against deletion until the write commits (PostgreSQL), so a concurrent delete cannot
 * leave the new record pointing at nothing.
 */
export async function checkRelations(db: Database, schema: SchemaView, collection: CollectionModel, values: RecordValues, fields: Iterable<string>, errors: ErrorData): Promise<void> {
  for (const name of fields) {
    const field = collection.field(name);
    if (!field || field.type !== 'relation' || errors[name]) continue;
    const ids = valuesOf(values[name]);
    if (ids.length === 0) continue;
    const target = schema.find(String(field.collectionId));
    let found: { id: string }[] = [];
    if (target && ids.length === 1) {
      // The usual single relation: a query compiled once per target collection.
      const byId = compiledTemplate(db, target, 'idExists', () =>
        sql`SELECT ${sql.id('id')} FROM ${sql.id(target.table)} WHERE ${sql.id('id')} = ${db.filter.param('', 'text')} ${db.filter.forKeyShare()}`,
      );
      found = await db.query(byId.text, ids);
    } else if (target) {
      found = await db.rows(sql`SELECT ${sql.id('id')} FROM ${sql.id(target.table)} WHERE ${sql.id('id')} IN (${sql.join(ids.map((id) => db.filter.param(id, 'text')))}) ${db.filter.forKeyShare()}`);
    }
    if (found.length !== new Set(ids).size) {
      errors[name] = fieldError('validation_missing_rel_records', 'Failed to find all relation records with the provided ids.');
    }
  }
}

/** A unique-index violation as field errors (`validation_not_unique`), or null if it is none. */
export function uniqueErrors(collection: CollectionModel, failure: DbFailure | null): ErrorData | null {
  if (!failure || failure.kind !== 'unique') return null;
  let columns = failure.columns;
  if (failure.index) {
    const index = collection.indexes.find((i) => i.name.toLowerCase() === failure.index!.toLowerCase());
    if (index) columns = index.columns.map((c) => c.name);
  }
  const errors: ErrorData = {};
  for (const column of columns.length > 0 ? columns : ['id']) {
    const field = collection.field(column);
    errors[field?.name ?? column] = fieldError('validation_not_unique', 'Value must be unique.');
  }
  return errors;
}
