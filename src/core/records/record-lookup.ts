/**
 * Server-side lookups by field values (no rules: the caller is Basalt itself), for the system
 * collections auth flows keep (`_otps`, `_mfas`, `_authOrigins`, `_externalAuths`).
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { codecOf } from './record-codec.js';
import { ROOT, type QueryContext } from './record-query.js';
import type { RecordModel } from '../model/record-model.js';

/** Records whose text fields equal `where`, newest first (by `orderBy`, `created` by default). */
export async function findRecordsBy(ctx: QueryContext, collection: CollectionModel, where: Record<string, string>, limit = 1000, orderBy: 'created' | 'updated' = 'created'): Promise<RecordModel[]> {
  const codec = codecOf(collection);
  const d = ctx.db.filter;
  const conditions = Object.entries(where).map(([field, value]) => sql`${sql.ref(`${ROOT}.${field}`)} = ${d.param(value, 'text')}`);
  const order = collection.field(orderBy) ? sql`ORDER BY ${sql.ref(`${ROOT}.${orderBy}`)} DESC, ${sql.ref(`${ROOT}.id`)} DESC` : sql``;
  const rows = await ctx.db.rows<Record<string, unknown>>(
    sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${sql.join(conditions, sql` AND `)} ${order} LIMIT ${sql.lit(limit)}`,
  );
  return rows.map((row) => codec.decode(row));
}
