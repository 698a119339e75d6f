/**
 * What a compiled client filter may cost, estimated while it compiles, so that a query over its
 * budget is refused before it runs (SQLite cannot cancel a running statement: one expensive
 * filter blocks the event loop; PostgreSQL holds a connection for as long).
 *
 * The model counts rows. Every to-many step of a path (a multiple relation, a back-relation,
 * `:each` on a list) is taken to multiply the rows it walks by ROWS_PER_STEP, an `@collection`
 * join (a whole table) by ROWS_PER_COLLECTION:
 * - the filter's joins, shared by all its paths, give the rows the query walks per record
 *   (`outer`: the product over its distinct to-many joins);
 * - a comparison that must hold for every value of a multi-valued operand (no `?`) adds a
 *   correlated subquery over that operand's values, run for each of those rows; when both sides
 *   are multi-valued it walks the product of both sides' rows (see compare.ts).
 * The estimate is `outer + Σ outer × (rows of the subquery)`, bounded by the budget. Rules are exempt: their authors are superusers, and they compile without a budget.
 */
import type { CompareOp } from './ast.js';
import { stepKey, type FieldPath, type Step } from './field-path.js';
import type { Operand } from './operand.js';
import { FilterResolveError } from './resolve-error.js';

/** The bounds of one client query; the values and their reasons are in core/records/client-budget.ts. */
export interface CostBudget {
  /** Row-multiplying steps (to-many relations, back-relations, `@collection`, `:each`) in the whole filter. */
  maxFanOut: number;
  /** Estimated rows the filter may walk per record (see the model above). */
  maxRows: number;
  /** Characters of one literal argument of a function (strftime's format and modifiers). */
  maxFunctionArg: number;
}

/** The rows one to-many step is assumed to multiply by: a post's comments, a user's posts. */
export const ROWS_PER_STEP = 100;
/** `@collection.x` joins every record of x (superusers only, for client filters). */
export const ROWS_PER_COLLECTION = 10_000;

/** A query over its budget: a 400 that says which part to simplify. */
export class FilterCostError extends FilterResolveError {}

interface MultiPath {
  label: string;
  /** To-many steps (for messages) and the rows they are estimated to give. */
  steps: number;
  rows: number;
}

interface EveryValue {
  op: CompareOp;
  sides: MultiPath[];
}

function isToMany(step: Step): boolean {
  return (step.type === 'relation' && step.multiple) || step.type === 'back' || step.type === 'collection';
}

function stepName(step: Step): string {
  switch (step.type) {
    case 'relation':
      return step.fieldName;
    case 'back':
      return `${step.source.name}_via_${step.fieldName}`;
    case 'collection':
      return `@collection.${step.target.name}${step.alias === step.target.name ? '' : `:${step.alias}`}`;
    case 'auth':
      return '@request.auth';
    case 'bodyRelation':
      return `@request.body.${step.fieldName}`;
  }
}

/** The path as the client wrote it (for messages). */
export function pathLabel(path: FieldPath): string {
  const leaf = path.leaf.type === 'length' || path.leaf.type === 'each' ? `${path.leaf.field.name}:${path.leaf.type}` : path.leaf.field.name;
  const json = path.leaf.type === 'json' ? path.leaf.path.map(String) : [];
  return [...path.steps.map(stepName), leaf, ...json].join('.');
}

const relations = (n: number) => `${n} multi-valued relation${n === 1 ? '' : 's'}`;

/** The cost of one compilation, checked against `budget` as it grows and once it is complete. */
export class FilterCost {
  private fanOut = 0;
  /** Rows of each to-many join of the filter's own query, by join key (shared between paths). */
  private readonly joins = new Map<string, number>();
  private readonly multi = new WeakMap<Operand, MultiPath>();
  private readonly everyValue: EveryValue[] = [];

  constructor(readonly budget: CostBudget) {}

  /** A path the filter reads, rendered as `operand`. */
  path(path: FieldPath, operand: Operand): void {
    let key = '';
    let steps = 0;
    let rows = 1;
    const join = (joinKey: string, factor: number) => {
      steps++;
      rows *= factor;
      this.joins.set(joinKey, factor);
    };
    for (const step of path.steps) {
      key = step.type === 'collection' || step.type === 'auth' || step.type === 'bodyRelation' ? stepKey(step) : `${key}/${stepKey(step)}`;
      if (isToMany(step)) join(key, step.type === 'collection' ? ROWS_PER_COLLECTION : ROWS_PER_STEP);
    }
    if (path.leaf.type === 'each' && path.leaf.isArray) join(`${key}/e:${path.leaf.field.name}`, ROWS_PER_STEP);
    this.fanOut += steps;
    if (this.fanOut > this.budget.maxFanOut) {
      throw new FilterCostError(`too many multi-valued relation paths in one filter (at most ${this.budget.maxFanOut}): "${pathLabel(path)}" brings the filter to ${relations(this.fanOut)}; use fewer back-relations or multiple relations`);
    }
    if (path.multi) this.multi.set(operand, { label: pathLabel(path), steps: Math.max(steps, 1), rows: Math.max(rows, ROWS_PER_STEP) });
  }

  /** A comparison; without `?`, each multi-valued side adds a subquery over all its values. */
  comparison(op: CompareOp, any: boolean, a: Operand, b: Operand): void {
    if (any) return;
    const sides = [this.multi.get(a), this.multi.get(b)].filter((s): s is MultiPath => s !== undefined);
    if (sides.length > 0) this.everyValue.push({ op, sides });
  }

  /** A literal argument of `fn`. */
  functionArg(fn: string, operand: Operand): void {
    const value = operand.literal?.value;
    if (typeof value === 'string' && value.length > this.budget.maxFunctionArg) {
      throw new FilterCostError(`an argument of ${fn}() has ${value.length} characters (at most ${this.budget.maxFunctionArg}): use a shorter format or modifier`);
    }
  }

  /** The whole filter's estimate against the budget (once every comparison compiled). */
  check(): void {
    let outer = 1;
    for (const factor of this.joins.values()) outer *= factor;
    let total = outer;
    let worst: { rows: number; part: EveryValue } | null = null;
    for (const part of this.everyValue) {
      const rows = outer * part.sides.reduce((n, s) => n * s.rows, 1);
      total += rows;
      if (!worst || rows > worst.rows) worst = { rows, part };
    }
    if (total <= this.budget.maxRows) return;
    if (!worst) {
      throw new FilterCostError(`the filter walks ${relations(this.joins.size)} at once, which may visit too many rows: use fewer back-relations or multiple relations`);
    }
    const [first, second] = worst.part.sides;
    if (second) {
      const what = first.label === second.label ? `"${first.label}" joins ${relations(first.steps)}` : `"${first.label}" joins ${relations(first.steps)} and "${second.label}" ${relations(second.steps)}`;
      throw new FilterCostError(`${what}; a comparison of two such paths may create too many row combinations: compare one of them with a literal or use fewer back-relations`);
    }
    throw new FilterCostError(`"${first.label}" joins ${relations(first.steps)}; "${worst.part.op}" must hold for every one of its values, which may visit too many rows: use "?${worst.part.op}" (any value) or fewer back-relations`);
  }
}
