/**
 * Step 6, persist: the SQL of the write, on the transaction. Unique violations become the field
 * errors PocketBase gives; a delete applies its relation consequences (cascade.ts).
 */
import { sql } from 'kysely';
import { compiledTemplate } from '../../compiled-query.js';
import { badRequest, notFound } from '../../errors.js';
import { codecOf } from '../record-codec.js';
import { uniqueErrors } from '../record-validation.js';
import type { WriteContext } from './write-context.js';

async function translatingUnique(w: WriteContext, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    const unique = uniqueErrors(w.collection, w.tx.db.classifyError(err));
    if (unique) throw badRequest(w.failMessage, unique);
    throw err;
  }
}

export async function insertRecord(w: WriteContext): Promise<void> {
  const { collection, tx } = w;
  const row = codecOf(collection).encode(w.record.values);
  const insert = compiledTemplate(tx.db, collection, 'insert', () =>
    sql`INSERT INTO ${sql.id(collection.table)} (${sql.join(collection.fields.map((f) => sql.id(f.name)))}) VALUES (${sql.join(collection.fields.map(() => sql`${null}`))})`,
  );
  await translatingUnique(w, () => tx.db.query(insert.text, collection.fields.map((f) => row[f.name])));
}

/** Writes the fields whose value changed (those the body or a hook set, autodates, a rotated tokenKey). */
export async function updateRecord(w: WriteContext): Promise<void> {
  const { collection, tx } = w;
  const values = w.record.values;
  const before = w.previous!.values;
  const changed = collection.fields.filter((f) => values[f.name] !== before[f.name] && (w.touched.has(f.name) || f.type === 'autodate' || f.name === 'tokenKey'));
  if (changed.length === 0) return;
  const row = codecOf(collection).encode(values, changed);
  await translatingUnique(w, () => tx.db.kysely.updateTable(collection.table).set(row).where('id', '=', String(before.id)).execute());
}

/** Deletes the row; a row already gone (a concurrent delete won) is a 404, so exactly one of two racing deletes succeeds. */
export async function deleteRow(w: WriteContext): Promise<void> {
  const result = await w.tx.db.kysely.deleteFrom(w.collection.table).where('id', '=', String(w.record.values.id)).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound();
}
