/**
 * Transition rules resolved against the schema as it will be after a change, as the collection's
 * own rules are: a field that does not exist, or an `@request.auth.<field>` no auth collection
 * has, is refused when the collection is saved (`workflow.transitions.<i>.rule`).
 */
import { fieldError, type ErrorData } from '../errors.js';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import type { Collection } from '../model/collection-types.js';
import { ruleProblem } from '../collections/rule-check.js';
import type { FilterDialect } from '../rules/filter-dialect.js';
import { parseRule } from '../rules/parsed-rule.js';

export function workflowRuleErrors(c: Collection, model: CollectionModel, schema: SchemaView, dialect: FilterDialect): ErrorData | null {
  const transitions: ErrorData = {};
  c.workflow?.transitions.forEach((t, i) => {
    if (typeof t.rule !== 'string') return;
    const problem = ruleProblem(parseRule(t.rule), model, schema, dialect);
    if (problem) transitions[String(i)] = { rule: fieldError('validation_invalid_rule', `Invalid rule: ${problem}.`) };
  });
  return Object.keys(transitions).length > 0 ? { transitions } : null;
}
