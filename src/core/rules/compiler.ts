/**
 * Compiles a parsed filter or rule into one SQL predicate with bound parameters only: user text
 * never becomes SQL text. Identifiers resolve against the collection schema (see path-walker),
 * `@request.*` against the request, `@collection.*` against other collections; comparisons
 * follow PocketBase's semantics (see compare.ts) on every engine through the FilterDialect.
 */
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import type { Expr, Operand as AstOperand } from './ast.js';
import { buildComparison } from './compare.js';
import { JoinScope, multiSource, type FieldPath } from './field-path.js';
import type { FilterDialect, Sql } from './filter-dialect.js';
import { macroValue } from './macros.js';
import { exprOperand, literalOperand, type LiteralValue, type Operand } from './operand.js';
import { splitModifier, walkPath } from './path-walker.js';
import type { RequestInfo } from './request-info.js';
import { FilterCost, FilterCostError, type CostBudget } from './filter-cost.js';
import { FilterResolveError } from './resolve-error.js';
import { resolveRequestIdentifier } from './request-fields.js';

export interface CompileContext {
  schema: SchemaView;
  collection: CollectionModel;
  dialect: FilterDialect;
  /** null when only validating a rule: every `@request.*` value is then NULL. */
  request: RequestInfo | null;
  /** Superusers and rules may filter by hidden fields; client filters of others may not. */
  allowHiddenFields: boolean;
  /** Table or CTE the base rows come from. @default the collection's table */
  baseTable?: string;
  now: Date;
  /**
   * What a client filter may cost (see filter-cost.ts), checked while it compiles; rules, whose
   * authors are superusers, compile without one.
   */
  budget?: CostBudget;
  /** Client filters of API keys: which collections a relation path may join into. */
  canEnter?: (collection: CollectionModel) => boolean;
  /**
   * Whether `@collection.*` and `@request.*` may be used: always in rules; in a client filter
   * only for principals that may query any collection (the client-query gate refuses the
   * others first; this keeps the compiler from ever resolving them for such a filter).
   * @default true
   */
  allowSuperuserIdentifiers?: boolean;
}

const LITERAL_WORDS: Record<string, LiteralValue> = { null: null, true: true, false: false };
const WRAP_ALIAS = '__f';

/** One compilation: the join scope and alias counters of a single predicate. */
export class Compilation {
  readonly scope: JoinScope;
  private mmCounter = 0;
  readonly now: Date;
  readonly baseTable: string;
  /** Cost accounting, when the compilation has a budget. */
  readonly cost: FilterCost | null;

  constructor(
    readonly ctx: CompileContext,
    readonly rootAlias: string,
  ) {
    this.baseTable = ctx.baseTable ?? ctx.collection.table;
    // A substring index covers the collection's own rows only, not a stand-in base table.
    this.scope = new JoinScope(ctx.dialect, rootAlias, '__j', ctx.baseTable === undefined ? ctx.collection.table : undefined);
    this.now = ctx.now;
    this.cost = ctx.budget ? new FilterCost(ctx.budget) : null;
  }

  get dialect(): FilterDialect {
    return this.ctx.dialect;
  }

  nextAlias = (): string => `__m${++this.mmCounter}`;

  expr(node: Expr): Sql {
    switch (node.kind) {
      case 'and':
        return sql`(${this.expr(node.left)} AND ${this.expr(node.right)})`;
      case 'or':
        return sql`(${this.expr(node.left)} OR ${this.expr(node.right)})`;
      case 'comparison': {
        const left = this.operand(node.left);
        const right = this.operand(node.right);
        this.cost?.comparison(node.op, node.any, left, right);
        return buildComparison(this.dialect, node.op, node.any, left, right, this.nextAlias);
      }
    }
  }

  operand(node: AstOperand): Operand {
    switch (node.kind) {
      case 'text':
        return literalOperand(this.dialect, node.value);
      case 'number':
        return literalOperand(this.dialect, node.value);
      case 'identifier':
        return this.identifier(node.name);
      case 'function':
        return this.func(node.name, node.args);
    }
  }

  /** Operand of a resolved field path (null path: the NULL literal). */
  path(path: FieldPath | null): Operand {
    if (!path) return literalOperand(this.dialect, null);
    const operand = this.scope.render(path, this.rootAlias);
    if (path.multi) operand.multi = multiSource(this.dialect, path, this.baseTable, this.rootAlias, `__mm${++this.mmCounter}_`);
    this.cost?.path(path, operand);
    return operand;
  }

  identifier(name: string): Operand {
    const macro = macroValue(name, this.now);
    if (macro !== undefined) return literalOperand(this.dialect, macro);
    if ((name.startsWith('@request.') || name.startsWith('@collection.')) && this.ctx.allowSuperuserIdentifiers === false) {
      throw new FilterResolveError(`"${name}" is for superusers only`);
    }
    if (name.startsWith('@request.')) return resolveRequestIdentifier(this, name);
    if (name.startsWith('@collection.')) return this.collectionIdentifier(name);
    const word = name.toLowerCase();
    if (Object.hasOwn(LITERAL_WORDS, word) && !this.ctx.collection.field(name)) return literalOperand(this.dialect, LITERAL_WORDS[word]);
    if (name.startsWith('@')) throw new FilterResolveError(`unknown identifier "${name}"`);
    const path = walkPath(this.ctx.collection, name.split('.'), [], {
      schema: this.ctx.schema,
      allowHidden: this.ctx.allowHiddenFields,
      nullifyMissing: false,
      canEnter: this.ctx.canEnter,
    });
    return this.path(path);
  }

  private collectionIdentifier(name: string): Operand {
    const parts = name.split('.');
    if (parts.length < 3) throw new FilterResolveError(`invalid @collection field path "${name}"`);
    const [collectionName, alias = ''] = parts[1].split(':');
    const target = this.ctx.schema.find(collectionName);
    if (!target) throw new FilterResolveError(`unknown collection "${collectionName}" in "${name}"`);
    const path = walkPath(target, parts.slice(2), [{ type: 'collection', target, alias: alias || target.name }], {
      schema: this.ctx.schema,
      // Rules (written by superusers) read any field; a client filter only what its caller sees.
      allowHidden: this.ctx.allowHiddenFields,
      nullifyMissing: false,
    });
    if (path) path.multi = true;
    return this.path(path);
  }

  /**
   * Functions read their arguments' values on the joined row: a multi-valued argument gives
   * "any" semantics through the join, never "all" (PocketBase does not multi-match functions).
   */
  private func(name: string, args: AstOperand[]): Operand {
    const operands = args.map((a) => this.operand(a));
    for (const o of operands) this.cost?.functionArg(name, o);
    const d = this.dialect;
    switch (name) {
      case 'geoDistance':
        if (operands.length !== 4) throw new FilterResolveError('geoDistance() expects 4 arguments: lonA, latA, lonB, latB');
        return exprOperand(d, d.geoDistance(...(operands.map((o) => o.as('number')) as [Sql, Sql, Sql, Sql])), 'number');
      case 'strftime': {
        if (operands.length < 1 || operands.length > 10) throw new FilterResolveError('strftime() expects a format, a time value and up to 8 modifiers');
        const [format, time, ...modifiers] = operands;
        const timeArg = time ? { sql: time.kind === 'number' ? time.as('number') : time.as('text'), isNumber: time.kind === 'number' } : null;
        return exprOperand(d, d.strftime(format.as('text'), timeArg, modifiers.map((m) => m.as('text'))), 'text');
      }
      default:
        throw new FilterResolveError(`unknown function "${name}"`);
    }
  }
}

/**
 * Compiles `expr` into a predicate on the row aliased `rootAlias`. When the filter needs joins
 * (relations, back-relations, @collection…), they go into an EXISTS subquery keyed by id, so the
 * outer query never multiplies or de-duplicates rows.
 */
export function compileFilter(expr: Expr, ctx: CompileContext, rootAlias: string): Sql {
  const direct = new Compilation(ctx, rootAlias);
  const predicate = direct.expr(expr);
  direct.cost?.check();
  if (!direct.scope.hasJoins) return predicate;
  const inner = new Compilation(ctx, WRAP_ALIAS);
  const innerPredicate = inner.expr(expr);
  return sql`EXISTS (SELECT 1 FROM ${sql.id(inner.baseTable)} AS ${sql.id(WRAP_ALIAS)} ${sql.join(inner.scope.joins, sql` `)} WHERE ${sql.ref(`${WRAP_ALIAS}.id`)} = ${sql.ref(`${rootAlias}.id`)} AND ${innerPredicate})`;
}

/** Checks that every identifier of `expr` resolves (for rule validation on collection save). */
export function validateFilter(expr: Expr, ctx: Omit<CompileContext, 'request' | 'now'>): void {
  // Only whether it resolves matters here: the date the macros would stand for does not.
  new Compilation({ ...ctx, request: null, now: new Date(0) }, '__r').expr(expr);
}

export { splitModifier, FilterResolveError, FilterCostError, type CostBudget };
