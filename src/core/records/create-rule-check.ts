/**
 * The create rule is evaluated before anything is written, against a CTE that holds the
 * submitted record (spec §1.2), with `verified` forced to false so a rule cannot be satisfied
 * by a self-declared verification.
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import type { ValueKind } from '../rules/filter-dialect.js';
import type { Caller } from './caller.js';
import { ROOT, rulePredicate, type QueryContext } from './record-query.js';
import type { RecordValues } from '../model/record-model.js';

const DATA = '__data';

export async function passesCreateRule(ctx: QueryContext, collection: CollectionModel, values: RecordValues, caller: Caller): Promise<boolean> {
  const rule = collection.rules.create;
  if (caller.can.bypassesRules || rule.kind === 'open') return true;
  if (rule.kind === 'locked') return false;
  const d = ctx.db.filter;
  const columns = collection.fields.map((field) => {
    const type = fieldTypeOf(field.type);
    const column = type.column(field);
    let value = type.toDb(field, values[field.name]);
    if (collection.isAuth && field.name === 'verified') value = false;
    if (field.type === 'password') value = '';
    const kind: ValueKind = column.kind === 'json' ? 'text' : column.kind;
    return sql`${d.param(value as string | number | boolean | null, kind)} AS ${sql.id(field.name)}`;
  });
  const predicate = rulePredicate(ctx, collection, rule, caller, ROOT, DATA);
  const rows = await ctx.db.rows(
    sql`WITH ${sql.id(DATA)} AS (SELECT ${sql.join(columns)}) SELECT 1 AS ${sql.id('ok')} FROM ${sql.id(DATA)} AS ${sql.id(ROOT)} WHERE ${predicate ?? sql`1=1`}`,
  );
  return rows.length > 0;
}
