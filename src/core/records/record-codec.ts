/**
 * Converts rows to canonical record values and back, once per collection version: the column
 * list and the per-field converters are computed when the collection changes, not per request.
 */
import { sql, type RawBuilder } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import type { Field } from '../model/collection-types.js';
import type { RecordModel, RecordValues } from '../model/record-model.js';

export interface RecordCodec {
  /** `"alias"."a", "alias"."b", …` for every field, in schema order. */
  columns(alias: string): RawBuilder<unknown>;
  decode(row: Record<string, unknown>): RecordModel;
  /** Canonical values → a row for INSERT/UPDATE (only the given fields). */
  encode(values: RecordValues, fields?: readonly Field[]): Record<string, unknown>;
}

const codecs = new WeakMap<CollectionModel, RecordCodec>();

export function codecOf(collection: CollectionModel): RecordCodec {
  let codec = codecs.get(collection);
  if (codec) return codec;
  const fields = collection.fields;
  const decoders = fields.map((f) => {
    const type = fieldTypeOf(f.type);
    return (raw: unknown) => type.fromDb(f, raw);
  });
  const columnCache = new Map<string, RawBuilder<unknown>>();
  codec = {
    columns(alias) {
      let cols = columnCache.get(alias);
      if (!cols) {
        cols = sql.join(fields.map((f) => sql.ref(`${alias}.${f.name}`)));
        columnCache.set(alias, cols);
      }
      return cols;
    },
    decode(row) {
      const values: RecordValues = {};
      for (let i = 0; i < fields.length; i++) values[fields[i].name] = decoders[i](row[fields[i].name]);
      return { collection, values };
    },
    encode(values, only = fields) {
      const row: Record<string, unknown> = {};
      for (const f of only) {
        if (f.name in values) row[f.name] = fieldTypeOf(f.type).toDb(f, values[f.name]);
      }
      return row;
    },
  };
  codecs.set(collection, codec);
  return codec;
}
