/**
 * A collection's `workflow`, checked when the collection is saved (docs/workflows.md): the state
 * field is a single-valued select, states are its values, every state is reachable from
 * `initial`, transition names are unique, a transition from a state to itself has a reason (it
 * asks for approvals, sets fields or has effects: otherwise it would only write history), rules
 * parse, `after` and effects are well formed. Errors nest under `workflow`
 * (`workflow.transitions.2.to`), as PocketBase nests the errors of `fields`.
 */
import { fieldError, type ErrorData, type FieldError } from '../errors.js';
import { isPlainObject } from '../collections/fields/coerce.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import type { Collection, Field, WorkflowDefinition, WorkflowEffect, WorkflowTransition } from '../model/collection-types.js';
import { parseRule } from '../rules/parsed-rule.js';
import { FilterSyntaxError } from '../rules/parser.js';
import { parseDuration } from './workflow-duration.js';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,49}$/;
const JOB_NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;
const MAX_TRANSITIONS = 100;
const MAX_EFFECTS = 20;
const MAX_APPROVALS = 100;
const MAX_RULE_LENGTH = 3500;
const MAX_TEXT = 10_000;
/** Field types a transition's body may not set: files need multipart, passwords their own flow. */
const UNSETTABLE_TYPES = new Set(['file', 'password', 'autodate']);

const invalid = (message: string): FieldError => fieldError('validation_invalid_workflow', message);

type Errors = ErrorData;

function addError(errors: Errors, path: (string | number)[], error: FieldError): void {
  let node = errors;
  for (const key of path.slice(0, -1)) {
    const k = String(key);
    if (!isPlainObject(node[k]) || 'code' in (node[k] as object)) node[k] = {};
    node = node[k] as Errors;
  }
  node[String(path[path.length - 1])] ??= error;
}

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : null;
}

function checkEffect(raw: unknown, fields: readonly Field[], path: (string | number)[], errors: Errors): WorkflowEffect | null {
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) {
    addError(errors, path, invalid('An effect is {job, payload?}, {email: {to, subject, body}} or {webhook: "<endpoint id>"}.'));
    return null;
  }
  if ('job' in raw) {
    const extra = Object.keys(raw).filter((k) => k !== 'job' && k !== 'payload');
    if (typeof raw.job !== 'string' || !JOB_NAME.test(raw.job)) addError(errors, [...path, 'job'], invalid('A job name: 1–100 letters, digits and _ . : / -.'));
    else if (extra.length > 0) addError(errors, path, invalid(`Unknown key "${extra[0]}" in a job effect.`));
    else {
      if (raw.payload !== undefined && JSON.stringify(raw.payload).length > MAX_TEXT) {
        addError(errors, [...path, 'payload'], invalid(`At most ${MAX_TEXT} characters of JSON.`));
        return null;
      }
      return raw.payload === undefined ? { job: raw.job } : { job: raw.job, payload: raw.payload };
    }
    return null;
  }
  if ('email' in raw) {
    const email = raw.email;
    if (Object.keys(raw).length !== 1 || !isPlainObject(email)) {
      addError(errors, path, invalid('An email effect is {email: {to, subject, body}}.'));
      return null;
    }
    const to = email.to;
    const known = typeof to === 'string' ? fields.find((f) => f.name === to) : undefined;
    let ok = true;
    if (typeof to !== 'string' || to === '' || (!known && !/^[^@\s]+@[^@\s]+$/.test(to))) {
      addError(errors, [...path, 'email', 'to'], invalid('The name of a field holding the address, or an email address.'));
      ok = false;
    } else if (known && !['email', 'text'].includes(known.type)) {
      addError(errors, [...path, 'email', 'to'], invalid(`"${to}" must be an email or text field.`));
      ok = false;
    }
    for (const key of ['subject', 'body'] as const) {
      const v = email[key];
      if (typeof v !== 'string' || v.trim() === '' || v.length > (key === 'subject' ? 255 : MAX_TEXT)) {
        addError(errors, [...path, 'email', key], invalid(`Required text of at most ${key === 'subject' ? 255 : MAX_TEXT} characters.`));
        ok = false;
      }
    }
    const extra = Object.keys(email).filter((k) => !['to', 'subject', 'body'].includes(k));
    if (extra.length > 0) {
      addError(errors, [...path, 'email'], invalid(`Unknown key "${extra[0]}" in an email effect.`));
      ok = false;
    }
    return ok ? { email: { to: to as string, subject: email.subject as string, body: email.body as string } } : null;
  }
  if ('webhook' in raw) {
    if (Object.keys(raw).length !== 1 || typeof raw.webhook !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(raw.webhook)) {
      addError(errors, [...path, 'webhook'], invalid('The id of an outbound webhook endpoint.'));
      return null;
    }
    return { webhook: raw.webhook };
  }
  addError(errors, path, invalid(`Unknown effect "${Object.keys(raw)[0]}": use job, email or webhook.`));
  return null;
}

function checkTransition(raw: unknown, i: number, c: Collection, states: Set<string>, stateField: string, errors: Errors): WorkflowTransition | null {
  const path = ['transitions', i];
  if (!isPlainObject(raw)) {
    addError(errors, path, invalid('A transition is an object {name, from, to, …}.'));
    return null;
  }
  const known = ['name', 'from', 'to', 'rule', 'approvals', 'after', 'effects', 'fields'];
  const extra = Object.keys(raw).find((k) => !known.includes(k));
  if (extra) addError(errors, [...path, extra], invalid(`Unknown key "${extra}"; a transition has ${known.join(', ')}.`));
  const t: WorkflowTransition = { name: '', from: [], to: '' };
  if (typeof raw.name !== 'string' || !NAME.test(raw.name)) addError(errors, [...path, 'name'], invalid('1–50 letters, digits, _ and -, starting with a letter.'));
  else t.name = raw.name;
  const from = typeof raw.from === 'string' ? [raw.from] : stringList(raw.from);
  if (!from || from.length === 0) addError(errors, [...path, 'from'], invalid('One state or a non-empty list of states.'));
  else {
    const unknown = from.find((s) => !states.has(s));
    if (unknown !== undefined) addError(errors, [...path, 'from'], fieldError('validation_unknown_state', `"${unknown}" is not a value of "${stateField}".`));
    t.from = [...new Set(from)];
  }
  if (typeof raw.to !== 'string' || !states.has(raw.to)) {
    addError(errors, [...path, 'to'], fieldError('validation_unknown_state', `"${String(raw.to)}" is not a value of "${stateField}".`));
  } else t.to = raw.to;
  if (raw.rule !== undefined && raw.rule !== null) {
    if (typeof raw.rule !== 'string' || raw.rule.length > MAX_RULE_LENGTH) addError(errors, [...path, 'rule'], fieldError('validation_invalid_rule', `A filter expression of at most ${MAX_RULE_LENGTH} characters, "" or null.`));
    else {
      try {
        parseRule(raw.rule);
        t.rule = raw.rule;
      } catch (err) {
        if (!(err instanceof FilterSyntaxError)) throw err;
        addError(errors, [...path, 'rule'], fieldError('validation_invalid_rule', `Invalid rule: ${err.message}.`));
      }
    }
  } else if (raw.rule === null) t.rule = null;
  if (raw.approvals !== undefined) {
    const n = raw.approvals;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_APPROVALS) addError(errors, [...path, 'approvals'], invalid(`A whole number between 1 and ${MAX_APPROVALS}.`));
    else t.approvals = n;
  }
  if (raw.after !== undefined) {
    const after = raw.after;
    if (typeof after === 'string') {
      if (parseDuration(after) === null) addError(errors, [...path, 'after'], fieldError('validation_invalid_duration', 'A duration such as "30m", "48h", "7d" or "1d12h" (at most 3660 days).'));
      else t.after = after;
    } else if (isPlainObject(after) && typeof after.field === 'string' && Object.keys(after).length === 1) {
      const f = c.fields.find((x) => x.name === after.field);
      if (!f || (f.type !== 'date' && f.type !== 'autodate')) addError(errors, [...path, 'after', 'field'], invalid(`"${after.field}" is not a date field of the collection.`));
      else t.after = { field: after.field };
    } else addError(errors, [...path, 'after'], fieldError('validation_invalid_duration', 'A duration ("48h") or {field: "<date field>"}.'));
    if (t.approvals !== undefined && t.approvals > 1) addError(errors, [...path, 'approvals'], invalid('A transition that fires by itself (after) cannot ask for approvals.'));
  }
  if (raw.fields !== undefined) {
    const names = stringList(raw.fields);
    if (!names) addError(errors, [...path, 'fields'], invalid('A list of field names.'));
    else {
      for (const name of names) {
        const f = c.fields.find((x) => x.name === name);
        if (!f) addError(errors, [...path, 'fields'], invalid(`"${name}" is not a field of the collection.`));
        else if (name === stateField || f.primaryKey || UNSETTABLE_TYPES.has(f.type) || f.name === 'tokenKey' || f.name === 'email' || f.name === 'verified') {
          addError(errors, [...path, 'fields'], invalid(`"${name}" cannot be set by a transition.`));
        }
      }
      t.fields = [...new Set(names)];
    }
  }
  if (raw.effects !== undefined) {
    if (!Array.isArray(raw.effects) || raw.effects.length > MAX_EFFECTS) addError(errors, [...path, 'effects'], invalid(`A list of at most ${MAX_EFFECTS} effects.`));
    else {
      const effects = raw.effects.map((e, j) => checkEffect(e, c.fields, [...path, 'effects', j], errors));
      t.effects = effects.filter((e): e is WorkflowEffect => e !== null);
    }
  }
  // A move to the same state changes nothing by itself: it needs a reason to exist.
  const hasReason = (t.approvals ?? 1) > 1 || (t.fields?.length ?? 0) > 0 || (t.effects?.length ?? 0) > 0;
  if (t.to !== '' && t.from.includes(t.to) && !hasReason) {
    addError(errors, [...path, 'to'], fieldError('validation_pointless_transition', `"${t.name}" goes from "${t.to}" to itself without a reason: give it fields to set, effects or approvals.`));
  }
  return t;
}

/**
 * The normalised workflow of draft `c`, with its errors added under `errors.workflow`. Called on
 * every save of a collection that has one, so a field or value change that would break it is
 * refused where it happens.
 */
export function checkWorkflow(raw: unknown, c: Collection, errors: ErrorData): WorkflowDefinition | undefined {
  const wf: Errors = {};
  const done = (value: WorkflowDefinition | undefined) => {
    if (Object.keys(wf).length > 0) errors.workflow = wf;
    return value;
  };
  if (c.type === 'view') {
    errors.workflow = invalid('View collections are read-only: they cannot have a workflow.');
    return undefined;
  }
  if (!isPlainObject(raw)) {
    errors.workflow = invalid('A workflow is {field, initial, transitions: […]}, or null to remove it.');
    return undefined;
  }
  const extra = Object.keys(raw).find((k) => !['field', 'initial', 'transitions'].includes(k));
  if (extra) addError(wf, [extra], invalid(`Unknown key "${extra}"; a workflow has field, initial and transitions.`));
  const field = typeof raw.field === 'string' ? c.fields.find((f) => f.name === raw.field) : undefined;
  if (!field) {
    addError(wf, ['field'], invalid(`"${String(raw.field ?? '')}" is not a field of the collection.`));
    return done(undefined);
  }
  if (field.type !== 'select' || fieldTypeOf('select').isMultiple(field)) {
    addError(wf, ['field'], invalid(`"${field.name}" must be a single-valued select field (maxSelect 1).`));
    return done(undefined);
  }
  const values = stringList(field.values) ?? [];
  const states = new Set(values);
  if (typeof raw.initial !== 'string' || !states.has(raw.initial)) addError(wf, ['initial'], fieldError('validation_unknown_state', `"${String(raw.initial ?? '')}" is not a value of "${field.name}".`));
  if (!Array.isArray(raw.transitions) || raw.transitions.length > MAX_TRANSITIONS) {
    addError(wf, ['transitions'], invalid(`A list of at most ${MAX_TRANSITIONS} transitions.`));
    return done(undefined);
  }
  const transitions = raw.transitions.map((t, i) => checkTransition(t, i, c, states, field.name, wf));
  const seen = new Set<string>();
  transitions.forEach((t, i) => {
    if (!t || t.name === '') return;
    if (seen.has(t.name)) addError(wf, ['transitions', i, 'name'], fieldError('validation_duplicate_transition', `Another transition is named "${t.name}".`));
    seen.add(t.name);
  });
  if (Object.keys(wf).length > 0) return done(undefined);
  const definition: WorkflowDefinition = { field: field.name, initial: raw.initial as string, transitions: transitions as WorkflowTransition[] };
  const unreachable = unreachableStates(definition, values);
  if (unreachable.length > 0) {
    addError(wf, ['field'], fieldError('validation_unreachable_state', `No transition leads from "${definition.initial}" to ${unreachable.map((s) => `"${s}"`).join(', ')}: add one or remove the value.`));
  }
  return done(definition);
}

/** The states no chain of transitions reaches from `initial`. */
function unreachableStates(wf: WorkflowDefinition, states: string[]): string[] {
  const reached = new Set([wf.initial]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of wf.transitions) {
      if (!reached.has(t.to) && t.from.some((s) => reached.has(s))) {
        reached.add(t.to);
        grew = true;
      }
    }
  }
  return states.filter((s) => !reached.has(s));
}
