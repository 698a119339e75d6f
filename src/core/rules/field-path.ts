/**
 * Field paths of the filter language (`author.org.name`, `posts_via_author.title`,
 * `@collection.tags:t.name`, `@request.auth.team.name`) as a chain of joins ending in a leaf,
 * rendered either into the main query (shared joins, "any" semantics) or into a standalone
 * correlated subquery listing every value of the path for the current row ("all" semantics).
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import type { Field } from '../model/collection-types.js';
import type { FilterDialect, Sql, ValueKind } from './filter-dialect.js';
import { exprOperand, jsonOperand, type Operand } from './operand.js';
import { FilterResolveError } from './resolve-error.js';

/** Joins one query level may hold. */
export const MAX_JOINS = 30;

export type Step =
  /** `rel.x`: the related record(s) of a relation field. */
  | { type: 'relation'; fieldName: string; target: CollectionModel; multiple: boolean }
  /** `coll_via_field.x`: records of `source` whose relation `fieldName` points at the current one. */
  | { type: 'back'; source: CollectionModel; fieldName: string; fieldMultiple: boolean }
  /** `@collection.name[:alias].x`: every record of an unrelated collection. */
  | { type: 'collection'; target: CollectionModel; alias: string }
  /** `@request.auth.x`: the authenticated record. */
  | { type: 'auth'; target: CollectionModel; id: string }
  /** `@request.body.rel.x`: the records a submitted relation value points at. */
  | { type: 'bodyRelation'; target: CollectionModel; fieldName: string; ids: string[] };

export type Leaf =
  | { type: 'column'; field: Field; kind: ValueKind }
  | { type: 'json'; field: Field; path: (string | number)[] }
  | { type: 'length'; field: Field; isArray: boolean }
  | { type: 'each'; field: Field; isArray: boolean };

export interface FieldPath {
  steps: Step[];
  leaf: Leaf;
  lower: boolean;
  /** Several values per row: a multiple relation, a back-relation, `@collection` or `:each`. */
  multi: boolean;
  /** Auth e-mails are filterable only where the owner made them visible. */
  emailGuard: boolean;
}

/** A step's part of a join key: paths that walk the same steps share their joins. */
export function stepKey(step: Step): string {
  switch (step.type) {
    case 'relation':
      return `r:${step.fieldName}`;
    case 'back':
      return `b:${step.source.id}:${step.fieldName}`;
    case 'collection':
      return `c:${step.target.id}:${step.alias}`;
    case 'auth':
      return `a:${step.target.id}`;
    case 'bodyRelation':
      return `d:${step.fieldName}`;
  }
}

/** Joins of one query level, shared by every path that walks the same steps. */
export class JoinScope {
  readonly joins: Sql[] = [];
  private readonly aliases = new Map<string, string>();
  private counter = 0;

  constructor(
    private readonly dialect: FilterDialect,
    readonly rootAlias: string,
    private readonly prefix: string,
    /** The table `rootAlias` reads, when it is the collection's own (not a stand-in): what a substring index narrows. */
    private readonly rootTable?: string,
  ) {}

  get hasJoins(): boolean {
    return this.joins.length > 0;
  }

  newAlias(): string {
    return `${this.prefix}${++this.counter}`;
  }

  /** Registers a join once per key; returns the alias of the joined source. */
  join(key: string, build: (alias: string) => Sql): string {
    let alias = this.aliases.get(key);
    if (!alias) {
      // Each distinct path costs joins: past this many, the query could exhaust the engine
      // (SQLite caps a SELECT at 64 tables; PostgreSQL's planner explodes long before).
      if (this.joins.length >= MAX_JOINS) throw new FilterResolveError(`too many relation paths in one filter (at most ${MAX_JOINS} joins)`);
      alias = this.newAlias();
      this.aliases.set(key, alias);
      this.joins.push(build(alias));
    }
    return alias;
  }

  private joinStep(parentKey: string, parentAlias: string, step: Step): { key: string; alias: string } {
    const d = this.dialect;
    const key = `${parentKey}/${stepKey(step)}`;
    const ref = (alias: string, col: string) => sql.ref(`${alias}.${col}`);
    switch (step.type) {
      case 'relation': {
        const table = sql.id(step.target.table);
        if (!step.multiple) {
          const alias = this.join(key, (a) => sql`LEFT JOIN ${table} AS ${sql.id(a)} ON ${ref(a, 'id')} = ${ref(parentAlias, step.fieldName)}`);
          return { key, alias };
        }
        const each = this.join(`${key}#each`, (a) => sql`LEFT JOIN ${d.jsonEach(ref(parentAlias, step.fieldName), a, true)} ON TRUE`);
        const alias = this.join(key, (a) => sql`LEFT JOIN ${table} AS ${sql.id(a)} ON ${ref(a, 'id')} = ${ref(each, 'value')}`);
        return { key, alias };
      }
      case 'back': {
        const table = sql.id(step.source.table);
        const alias = this.join(key, (a) => {
          if (!step.fieldMultiple) return sql`LEFT JOIN ${table} AS ${sql.id(a)} ON ${ref(a, step.fieldName)} = ${ref(parentAlias, 'id')}`;
          const je = `${a}_je`;
          return sql`LEFT JOIN ${table} AS ${sql.id(a)} ON EXISTS (SELECT 1 FROM ${d.jsonEach(ref(a, step.fieldName), je, true)} WHERE ${ref(je, 'value')} = ${ref(parentAlias, 'id')})`;
        });
        return { key, alias };
      }
      case 'collection': {
        // Not nested under the parent: an @collection join is relative to nothing.
        const ckey = stepKey(step);
        const alias = this.join(ckey, (a) => sql`LEFT JOIN ${sql.id(step.target.table)} AS ${sql.id(a)} ON TRUE`);
        return { key: ckey, alias };
      }
      case 'auth': {
        const akey = stepKey(step);
        const alias = this.join(akey, (a) => sql`LEFT JOIN ${sql.id(step.target.table)} AS ${sql.id(a)} ON ${ref(a, 'id')} = ${d.param(step.id, 'text')}`);
        return { key: akey, alias };
      }
      case 'bodyRelation': {
        const bkey = stepKey(step);
        const ids = step.ids.map((id) => d.param(id, 'text'));
        const alias = this.join(bkey, (a) =>
          ids.length === 0
            ? sql`LEFT JOIN ${sql.id(step.target.table)} AS ${sql.id(a)} ON FALSE`
            : sql`LEFT JOIN ${sql.id(step.target.table)} AS ${sql.id(a)} ON ${ref(a, 'id')} IN (${sql.join(ids)})`,
        );
        return { key: bkey, alias };
      }
    }
  }

  /** Renders a path in this scope, starting from `baseAlias`. */
  render(path: FieldPath, baseAlias: string): Operand {
    const d = this.dialect;
    let key = '';
    let alias = baseAlias;
    for (const step of path.steps) ({ key, alias } = this.joinStep(key, alias, step));
    let column: Sql = sql.ref(`${alias}.${path.leaf.field.name}`);
    // A hidden e-mail is NULL wherever a non-superuser filter or sort reads it, including the
    // "match all" subqueries and ORDER BY, which the comparison guard below does not reach.
    const visible = path.emailGuard ? sql`${sql.ref(`${alias}.emailVisibility`)} = ${d.param(true, 'bool')}` : null;
    if (visible) column = sql`(CASE WHEN ${visible} THEN ${column} END)`;
    let operand: Operand;
    switch (path.leaf.type) {
      case 'column':
        operand = exprOperand(d, column, path.leaf.kind);
        break;
      case 'json':
        operand = jsonOperand(d, column, path.leaf.path);
        break;
      case 'length':
        operand = exprOperand(d, d.jsonArrayLength(column, path.leaf.isArray), 'number');
        break;
      case 'each': {
        const isArray = path.leaf.isArray;
        const je = this.join(`${key}/e:${path.leaf.field.name}`, (a) => sql`LEFT JOIN ${d.jsonEach(column, a, isArray)} ON TRUE`);
        operand = exprOperand(d, sql.ref(`${je}.value`), 'text');
        break;
      }
    }
    if (path.lower) operand = exprOperand(d, d.lower(operand.as('text')), 'text');
    else if (this.rootTable && path.steps.length === 0 && baseAlias === this.rootAlias && path.leaf.type === 'column' && path.leaf.field.searchable === true && !visible) {
      operand.search = { alias: baseAlias, table: this.rootTable, column: path.leaf.field.name };
    }
    if (visible) operand.guard = visible;
    return operand;
  }
}

/**
 * The correlated subquery listing the path's values for the current row of `baseTable`
 * (aliased `rootAlias` in the outer query): `SELECT <value> AS v FROM base … WHERE base.id = root.id`.
 */
export function multiSource(
  dialect: FilterDialect,
  path: FieldPath,
  baseTable: string,
  rootAlias: string,
  prefix: string,
): Operand['multi'] {
  return {
    build(as: ValueKind, loose?: boolean) {
      const scope = new JoinScope(dialect, rootAlias, prefix);
      const base = scope.newAlias();
      const value = scope.render(path, base).as(as, loose);
      return sql`SELECT ${value} AS ${sql.id('v')} FROM ${sql.id(baseTable)} AS ${sql.id(base)} ${sql.join(scope.joins, sql` `)} WHERE ${sql.ref(`${base}.id`)} = ${sql.ref(`${rootAlias}.id`)}`;
    },
  };
}
