/**
 * SQL compiled once and run many times. Building and compiling a query with the query builder
 * costs more than running a primary-key read on SQLite, so the fixed queries of the hot paths
 * (read by id, insert, relation checks) are compiled once per collection version and engine,
 * then run with fresh parameters through Database.query.
 */
import type { RawBuilder } from 'kysely';
import type { Database } from './ports.js';

export interface CompiledTemplate {
  /** SQL text for the engine, with its placeholders. */
  text: string;
}

const templates = new WeakMap<object, Map<string, CompiledTemplate>>();

/**
 * The compiled text of `build()` for `db`'s engine, cached under (`owner`, `key`). `build` must
 * put the parameters in the order callers pass them to `run`; `owner` is typically a
 * CollectionModel, so a schema change (a new model) compiles afresh.
 */
export function compiledTemplate(db: Database, owner: object, key: string, build: () => RawBuilder<unknown>): CompiledTemplate {
  let byKey = templates.get(owner);
  if (!byKey) templates.set(owner, (byKey = new Map()));
  // An owner (a collection model) belongs to one app, hence to one engine: the key suffices.
  let template = byKey.get(key);
  if (!template) {
    template = { text: build().compile(db.kysely).sql };
    byKey.set(key, template);
  }
  return template;
}

/** A parameter of a {@link SlottedQuery} given a value at each run. */
export class Slot {
  constructor(readonly name: string) {}
}

/**
 * A built query compiled once, whose parameters are all fixed but the slots: lets a read of the
 * same shape (the same predicate, parameters and sort) run again with other values in a few
 * places (a deep page's anchor, its LIMIT and OFFSET) without building and compiling it again.
 */
export interface SlottedQuery {
  text: string;
  /** The compiled parameters, slots included (replaced at each run by `bindSlots`). */
  params: readonly unknown[];
  /** Where each slot's value goes, in the order of the slots given to `compileSlotted`. */
  positions: readonly (readonly number[])[];
}

/** Compiles `query`, built with `slots` standing for some of its values. */
export function compileSlotted(db: Database, query: RawBuilder<unknown>, slots: readonly Slot[]): SlottedQuery {
  const compiled = query.compile(db.kysely);
  const params = compiled.parameters;
  const positions = slots.map((slot) => params.flatMap((p, i) => (p === slot ? [i] : [])));
  const missing = slots.find((slot, i) => positions[i].length === 0);
  if (missing) throw new Error(`compileSlotted: the query has no parameter for the slot "${missing.name}"`);
  return { text: compiled.sql, params, positions };
}

/** The parameters of `query` with `values[i]` for its i-th slot. */
export function bindSlots(query: SlottedQuery, values: readonly unknown[]): unknown[] {
  const params = query.params.slice();
  query.positions.forEach((at, i) => {
    for (const p of at) params[p] = values[i];
  });
  return params;
}
