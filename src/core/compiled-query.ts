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
