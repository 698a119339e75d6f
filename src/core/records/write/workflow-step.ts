/**
 * The workflow step (docs/workflows.md): in a collection with a workflow, a new record starts in
 * the initial state, and only a transition (an update carrying `w.transition`) changes the state
 * field; every other write that would change it (PATCH, batch, hooks, jobs) is refused with
 * `validation_transition_required`. Entering a state hands over to the workflow engine in the
 * write's transaction (history, approvals, timers, effects).
 */
import { fieldError } from '../../errors.js';
import { workflowOf } from '../../workflows/workflow-model.js';
import type { WriteContext, WriterDeps } from './write-context.js';

/** A create without a state gets the initial one (before the create rule, which may read it). */
export function startState(w: WriteContext): void {
  const wf = workflowOf(w.collection);
  if (!wf) return;
  const values = w.record.values;
  if (values[wf.field] === '' || values[wf.field] === null || values[wf.field] === undefined) {
    values[wf.field] = wf.initial;
    w.touched.add(wf.field);
  }
}

/** Part of validation: the state field changes only by a transition, to its target. */
export function checkStateChange(w: WriteContext): void {
  const wf = workflowOf(w.collection);
  if (!wf || w.action === 'delete') return;
  const value = w.record.values[wf.field];
  if (w.action === 'create') {
    if (value !== wf.initial) {
      w.errors[wf.field] ??= fieldError('validation_transition_required', `New records start in "${wf.initial}"; use a transition to change "${wf.field}".`);
    }
    return;
  }
  const before = w.previous?.values[wf.field];
  const expected = w.transition ? w.transition.to : before;
  if (value !== expected) {
    const message = w.transition
      ? `The transition "${w.transition.name}" moves "${wf.field}" to "${w.transition.to}" only.`
      : `"${wf.field}" changes only through a transition: POST /api/collections/${w.collection.name}/records/{id}/transitions/{name}.`;
    w.errors[wf.field] ??= fieldError('validation_transition_required', message);
  }
}

/** After the write's SQL: a state entered (a create, a transition) is the engine's to record. */
export async function enterState(w: WriteContext, deps: WriterDeps): Promise<void> {
  if (!deps.workflows || !workflowOf(w.collection)) return;
  if (w.action === 'create' || w.transition) await deps.workflows.entered(w);
}
