/**
 * Step 6, persist: the SQL of the write, on the transaction. Unique violations become the field
 * errors PocketBase gives; a delete applies its relation consequences (cascade.ts).
 */
import { sql, type RawBuilder } from 'kysely';
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

/**
 * A statement written alongside the row's own, in the same statement, where the engine allows it
 * (PostgreSQL's data-modifying CTEs): the webhook outbox's rows (OutboxWrite.companion).
 */
export type Companion = (() => RawBuilder<unknown>) | null | undefined;

/** Whether `companion` goes into the row's statement (else the caller writes it on its own). */
function carries(w: WriteContext, companion: Companion): companion is () => RawBuilder<unknown> {
  return companion != null && w.tx.db.engine === 'postgres';
}

/** Inserts the row; true when `companion` was written with it. */
export async function insertRecord(w: WriteContext, companion?: Companion): Promise<boolean> {
  const { collection, tx } = w;
  const row = codecOf(collection).encode(w.record.values);
  w.rowWritten = true;
  if (carries(w, companion)) {
    const columns = sql.join(collection.fields.map((f) => sql.id(f.name)));
    const values = sql.join(collection.fields.map((f) => sql`${row[f.name]}`));
    await translatingUnique(w, () => tx.db.rows(sql`WITH ${sql.id('__companion')} AS (${companion()}) INSERT INTO ${sql.id(collection.table)} (${columns}) VALUES (${values})`));
    return true;
  }
  const insert = compiledTemplate(tx.db, collection, 'insert', () =>
    sql`INSERT INTO ${sql.id(collection.table)} (${sql.join(collection.fields.map((f) => sql.id(f.name)))}) VALUES (${sql.join(collection.fields.map(() => sql`${null}`))})`,
  );
  await translatingUnique(w, () => tx.db.query(insert.text, collection.fields.map((f) => row[f.name])));
  return false;
}

/**
 * Writes the fields whose value changed (those the body or a hook set, autodates, a rotated
 * tokenKey); true when `companion` was written with them (not when nothing changed).
 */
export async function updateRecord(w: WriteContext, companion?: Companion): Promise<boolean> {
  const { collection, tx } = w;
  const values = w.record.values;
  const before = w.previous!.values;
  const changed = collection.fields.filter((f) => values[f.name] !== before[f.name] && (w.touched.has(f.name) || f.type === 'autodate' || f.name === 'tokenKey'));
  if (changed.length === 0) return false;
  w.rowWritten = true;
  const row = codecOf(collection).encode(values, changed);
  if (carries(w, companion)) {
    const sets = sql.join(changed.map((f) => sql`${sql.id(f.name)} = ${row[f.name]}`));
    await translatingUnique(w, () => tx.db.rows(sql`WITH ${sql.id('__companion')} AS (${companion()}) UPDATE ${sql.id(collection.table)} SET ${sets} WHERE ${sql.id('id')} = ${String(before.id)}`));
    return true;
  }
  await translatingUnique(w, () => tx.db.kysely.updateTable(collection.table).set(row).where('id', '=', String(before.id)).execute());
  return false;
}

/** Deletes the row; a row already gone (a concurrent delete won) is a 404, so exactly one of two racing deletes succeeds. */
export async function deleteRow(w: WriteContext): Promise<void> {
  const result = await w.tx.db.kysely.deleteFrom(w.collection.table).where('id', '=', String(w.record.values.id)).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound();
  w.rowWritten = true;
}
