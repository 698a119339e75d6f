/**
 * A collection's workflow as the engine uses it: parsed once per schema change (models are
 * rebuilt on every change, so a cache keyed by the model is per schema version), never per
 * request.
 */
import type { CollectionModel } from '../model/collection-model.js';
import type { WorkflowDefinition, WorkflowTransition } from '../model/collection-types.js';
import { parseRule, type ParsedRule } from '../rules/parsed-rule.js';
import { parseDuration } from './workflow-duration.js';

export interface CompiledTransition {
  readonly def: WorkflowTransition;
  readonly name: string;
  readonly from: ReadonlySet<string>;
  readonly to: string;
  /** The transition's own rule; null: the collection's update rule applies. */
  readonly rule: ParsedRule | null;
  readonly approvals: number;
  /** `after` as a duration in ms, or the date field to fire at; null: only taken by callers. */
  readonly after: { ms: number } | { field: string } | null;
  readonly fields: ReadonlySet<string>;
}

export interface CompiledWorkflow {
  readonly def: WorkflowDefinition;
  readonly field: string;
  readonly initial: string;
  readonly transitions: readonly CompiledTransition[];
  readonly byName: ReadonlyMap<string, CompiledTransition>;
}

function safeRule(rule: string | null | undefined): ParsedRule | null {
  if (rule === undefined || rule === null) return null;
  try {
    return parseRule(rule);
  } catch {
    return { kind: 'locked' };
  }
}

function compile(def: WorkflowDefinition): CompiledWorkflow {
  const transitions = def.transitions.map((t): CompiledTransition => {
    const after = t.after === undefined ? null : typeof t.after === 'string' ? { ms: parseDuration(t.after) ?? 0 } : { field: t.after.field };
    return { def: t, name: t.name, from: new Set(t.from), to: t.to, rule: safeRule(t.rule), approvals: t.approvals ?? 1, after, fields: new Set(t.fields ?? []) };
  });
  return { def, field: def.field, initial: def.initial, transitions, byName: new Map(transitions.map((t) => [t.name, t])) };
}

const cache = new WeakMap<CollectionModel, CompiledWorkflow | null>();

/** The collection's workflow, or null when it has none. */
export function workflowOf(collection: CollectionModel): CompiledWorkflow | null {
  let wf = cache.get(collection);
  if (wf === undefined) {
    wf = collection.data.workflow ? compile(collection.data.workflow) : null;
    cache.set(collection, wf);
  }
  return wf;
}
