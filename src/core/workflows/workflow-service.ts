/**
 * Taking transitions (docs/workflows.md): `POST …/records/{id}/transitions/{name}` and the
 * `after` timers come here. One transaction locks the record's row first (`FOR UPDATE` on
 * PostgreSQL; SQLite has one writer), so of two concurrent transitions of a record one wins and
 * the other sees the state it left behind. The state change itself is an update through the one
 * write path (RecordWriter) carrying `transition`: validation, hooks, realtime and after-commit
 * consumers see it as an update, and the ledger records it in the same transaction.
 */
import { sql } from 'kysely';
import { nowText } from '../clock.js';
import { badRequest, fieldError, forbidden, MESSAGES, notFound, type ErrorData } from '../errors.js';
import { transact, type Tx } from '../events/transaction.js';
import { newId } from '../ids.js';
import { WORKFLOW_APPROVALS_TABLE, WORKFLOW_HISTORY_TABLE, WORKFLOW_STATES_TABLE } from '../internal-tables.js';
import type { HookAppServices } from '../hooks/hook-app.js';
import type { CollectionModel } from '../model/collection-model.js';
import type { RecordModel } from '../model/record-model.js';
import type { Database } from '../ports.js';
import { asSystem, assertScope, systemCaller, type Caller } from '../records/caller.js';
import { findRecord } from '../records/record-reader.js';
import { ruleAllows, type QueryContext } from '../records/record-query.js';
import type { WriteTransition } from '../records/write/write-context.js';
import { OPEN } from '../rules/parsed-rule.js';
import { deriveRequest } from '../rules/request-info.js';
import { isPlainObject } from '../collections/fields/coerce.js';
import { WORKFLOW_EMAIL_JOB, WORKFLOW_TIMER_JOB, type WorkflowEmailPayload, type WorkflowTimerPayload } from './workflow-ledger.js';
import { workflowOf, type CompiledTransition, type CompiledWorkflow } from './workflow-model.js';

/** The longest comment a transition keeps. */
export const MAX_TRANSITION_COMMENT = 1000;

/** The services hook code's `e.app` is built on, less what transitions do not use. */
export type WorkflowServiceDeps = Omit<HookAppServices, 'enrich' | 'workflows'>;

export interface HistoryEntry {
  id: string;
  transition: string;
  from: string;
  to: string;
  by: { collectionId: string; id: string } | null;
  comment: string;
  created: string;
}

export interface AvailableTransition {
  name: string;
  to: string;
  approvals: { required: number; given: number; mine: boolean };
}

type RuleVerdict = 'ok' | 'locked' | 'miss';

export class WorkflowService {
  constructor(private readonly deps: WorkflowServiceDeps) {}

  private ctx(db: Database): QueryContext {
    return { db, schema: this.deps.schema, clock: this.deps.clock };
  }

  /**
   * Defines the built-in jobs (timers, emails) on this node, once. Called when a workflow needs
   * them and at start when a collection has a workflow: a node without workflows runs no worker.
   */
  ensureJobs(): void {
    const { jobs } = this.deps;
    if (!jobs.isDefined(WORKFLOW_TIMER_JOB)) {
      jobs.define<WorkflowTimerPayload>(WORKFLOW_TIMER_JOB, (job) => this.runTimer(job.payload), { concurrency: 4, maxAttempts: 5 });
    }
    if (!jobs.isDefined(WORKFLOW_EMAIL_JOB)) {
      jobs.define<WorkflowEmailPayload>(WORKFLOW_EMAIL_JOB, (job) => this.deps.mail.send(job.payload), { maxAttempts: 5, backoff: { baseMs: 10_000, maxMs: 3_600_000 } });
    }
  }

  /** Defines the built-in jobs when some collection has a workflow (start-up, schema changes). */
  ensureJobsIfUsed(): void {
    if (this.deps.schema.all().some((c) => c.data.workflow)) this.ensureJobs();
  }

  /** `POST …/transitions/{name}`: the record after the transition (unchanged while approvals are missing). */
  async transition(collection: CollectionModel, id: string, name: string, body: unknown, caller: Caller, outer?: Tx): Promise<RecordModel> {
    const wf = requireWorkflow(collection);
    assertScope(caller, collection, 'update');
    const t = wf.byName.get(name);
    if (!t) {
      const names = wf.transitions.map((x) => `"${x.name}"`).join(', ');
      throw badRequest(`Unknown transition "${name}". The transitions of ${collection.name} are ${names}.`, { name: fieldError('validation_unknown_transition', `Use one of ${names}.`) });
    }
    const { data, comment } = transitionBody(t, body, wf);
    return transact(this.deps.db, async (tx) => {
      const record = await this.lockRecord(tx, collection, id);
      const verdict = await this.checkRule(tx.db, collection, t, id, caller, data);
      if (verdict === 'locked') throw forbidden(MESSAGES.superusersOnly);
      if (verdict === 'miss') throw notFound();
      assertFrom(wf, t, record);
      if (t.approvals > 1 && !caller.can.skipsApprovals) {
        const given = await this.approve(tx, collection, record, t, caller);
        if (given < t.approvals) return record;
      }
      return this.fire(tx, collection, record, wf, t, data, comment, caller);
    }, outer, this.deps.logger);
  }

  /** The row, locked for the rest of the transaction: a concurrent transition waits, then sees the new state. */
  private async lockRecord(tx: Tx, collection: CollectionModel, id: string): Promise<RecordModel> {
    await tx.db.lockSchemaShared();
    const record = await findRecord(this.ctx(tx.db), collection, id, systemCaller(), OPEN, true);
    if (!record) throw notFound();
    return record;
  }

  /** The transition's rule (or the update rule) for the caller, with `@request.body` = the transition's body. */
  private async checkRule(db: Database, collection: CollectionModel, t: CompiledTransition, id: string, caller: Caller, body: Record<string, unknown>): Promise<RuleVerdict> {
    if (caller.can.bypassesRules) return 'ok';
    const rule = t.rule ?? collection.rules.update;
    if (rule.kind === 'locked') return 'locked';
    if (rule.kind === 'open') return 'ok';
    const ruleCaller: Caller = { ...caller, info: deriveRequest(caller.info, { body }) };
    return (await ruleAllows(this.ctx(db), collection, id, rule, ruleCaller)) ? 'ok' : 'miss';
  }

  /** Records the caller's approval; returns how many distinct approvers the transition has now. */
  private async approve(tx: Tx, collection: CollectionModel, record: RecordModel, t: CompiledTransition, caller: Caller): Promise<number> {
    const auth = caller.auth;
    if (!auth) throw forbidden(`The transition "${t.name}" needs ${t.approvals} approvals: only signed-in records can approve.`);
    const db = tx.db;
    const entry = await this.currentEntry(db, collection.id, String(record.values.id));
    const approver = { byCollection: auth.collection.id, byRecord: String(auth.values.id) };
    const base = db.kysely
      .selectFrom(WORKFLOW_APPROVALS_TABLE)
      .where('collectionRef', '=', collection.id)
      .where('recordRef', '=', String(record.values.id))
      .where('transition', '=', t.name)
      .where('entry', '=', entry);
    const mine = await base.select('id').where('byCollection', '=', approver.byCollection).where('byRecord', '=', approver.byRecord).execute();
    if (mine.length > 0) {
      throw badRequest(`You already approved "${t.name}"; it needs ${t.approvals} distinct approvers.`, { name: fieldError('validation_already_approved', 'The same approver counts once.') });
    }
    await db.kysely
      .insertInto(WORKFLOW_APPROVALS_TABLE)
      .values({ id: newId(), collectionRef: collection.id, recordRef: String(record.values.id), transition: t.name, entry, ...approver, created: nowText(this.deps.clock) })
      .execute();
    const [row] = await base.select((eb) => eb.fn.countAll().as('n')).execute();
    return Number((row as { n: number | string } | undefined)?.n ?? 0);
  }

  /** The record's state marker ('' for a record that entered its state before the workflow existed). */
  private async currentEntry(db: Database, collectionId: string, recordId: string): Promise<string> {
    const rows = await db.kysely.selectFrom(WORKFLOW_STATES_TABLE).select('entry').where('collectionRef', '=', collectionId).where('recordRef', '=', recordId).execute();
    return String(rows[0]?.entry ?? '');
  }

  /** The state change, as an update marked as the transition through the one write path. */
  private fire(tx: Tx, collection: CollectionModel, record: RecordModel, wf: CompiledWorkflow, t: CompiledTransition, data: Record<string, unknown>, comment: string, caller: Caller): Promise<RecordModel> {
    const auth = caller.auth;
    const transition: WriteTransition = {
      name: t.name,
      from: String(record.values[wf.field] ?? ''),
      to: t.to,
      comment,
      by: auth ? { collectionId: auth.collection.id, id: String(auth.values.id) } : null,
    };
    // Rules were the transition's to check (done): the write itself is Basalt's.
    return this.deps.writer.update(collection, String(record.values.id), { data: { ...data, [wf.field]: t.to }, transition }, asSystem(caller), tx);
  }

  /** An `after` timer came due: the transition fires as Basalt itself, if the record is still in the state it was set for. */
  async runTimer(payload: WorkflowTimerPayload): Promise<void> {
    const collection = this.deps.schema.find(payload.collectionId);
    const wf = collection ? workflowOf(collection) : null;
    const t = wf?.byName.get(payload.transition);
    if (!collection || !wf || !t) return;
    await transact(this.deps.db, async (tx) => {
      const record = await findRecord(this.ctx(tx.db), collection, payload.recordId, systemCaller(), OPEN, true);
      if (!record) return;
      // Left the state (and maybe came back: a new marker) since the timer was set: nothing to do.
      if ((await this.currentEntry(tx.db, collection.id, payload.recordId)) !== payload.entry) return;
      if (!t.from.has(String(record.values[wf.field] ?? ''))) return;
      await this.fire(tx, collection, record, wf, t, {}, '', systemCaller());
    }, undefined, this.deps.logger);
  }

  /** `GET …/transitions`: the record's history and the transitions the caller may take now. */
  async overview(collection: CollectionModel, id: string, caller: Caller): Promise<{ history: HistoryEntry[]; available: AvailableTransition[] }> {
    const wf = requireWorkflow(collection);
    assertScope(caller, collection, 'view');
    const db = this.deps.db;
    const record = await findRecord(this.ctx(db), collection, id, caller, collection.rules.view);
    if (!record) throw notFound();
    const rows = await db.rows<Record<string, unknown>>(
      sql`SELECT * FROM ${sql.id(WORKFLOW_HISTORY_TABLE)} WHERE ${sql.ref('collectionRef')} = ${db.filter.param(collection.id, 'text')} AND ${sql.ref('recordRef')} = ${db.filter.param(id, 'text')} ORDER BY ${sql.ref('seq')}`,
    );
    const history = rows.map((r) => ({
      id: String(r.id),
      transition: String(r.transition),
      from: String(r.fromState),
      to: String(r.toState),
      by: r.byRecord ? { collectionId: String(r.byCollection), id: String(r.byRecord) } : null,
      comment: String(r.comment),
      created: String(r.created),
    }));
    const state = String(record.values[wf.field] ?? '');
    const entry = await this.currentEntry(db, collection.id, id);
    const approvals = await db.kysely
      .selectFrom(WORKFLOW_APPROVALS_TABLE)
      .select(['transition', 'byCollection', 'byRecord'])
      .where('collectionRef', '=', collection.id)
      .where('recordRef', '=', id)
      .where('entry', '=', entry)
      .execute();
    const available: AvailableTransition[] = [];
    for (const t of wf.transitions) {
      if (!t.from.has(state)) continue;
      if ((await this.checkRule(db, collection, t, id, caller, {})) !== 'ok') continue;
      const given = approvals.filter((a) => a.transition === t.name);
      const mine = !!caller.auth && given.some((a) => a.byCollection === caller.auth!.collection.id && a.byRecord === String(caller.auth!.values.id));
      available.push({ name: t.name, to: t.to, approvals: { required: t.approvals, given: given.length, mine } });
    }
    return { history, available };
  }
}

function requireWorkflow(collection: CollectionModel): CompiledWorkflow {
  const wf = workflowOf(collection);
  if (!wf) throw notFound(`The collection "${collection.name}" has no workflow.`);
  return wf;
}

/** The state must be one the transition starts from: a 400 naming the transitions allowed now. */
function assertFrom(wf: CompiledWorkflow, t: CompiledTransition, record: RecordModel): void {
  const state = String(record.values[wf.field] ?? '');
  if (t.from.has(state)) return;
  const allowed = wf.transitions.filter((x) => x.from.has(state)).map((x) => `"${x.name}"`);
  const now = allowed.length > 0 ? `Allowed from "${state}": ${allowed.join(', ')}.` : `No transition starts from "${state}".`;
  throw badRequest(`The transition "${t.name}" is not allowed from "${state}". ${now}`, { name: fieldError('validation_transition_not_allowed', now) });
}

/** The body: an optional `comment` and the fields the transition lists; anything else is refused. */
function transitionBody(t: CompiledTransition, body: unknown, wf: CompiledWorkflow): { data: Record<string, unknown>; comment: string } {
  const fail = 'Failed to apply the transition.';
  if (body === undefined || body === null) return { data: {}, comment: '' };
  if (!isPlainObject(body)) throw badRequest(fail, { '': fieldError('validation_invalid_body', 'Must be a JSON object.') });
  const errors: ErrorData = {};
  const data: Record<string, unknown> = {};
  let comment = '';
  for (const [key, value] of Object.entries(body)) {
    if (key === 'comment') {
      if (typeof value !== 'string' || value.length > MAX_TRANSITION_COMMENT) errors.comment = fieldError('validation_invalid_comment', `Text of at most ${MAX_TRANSITION_COMMENT} characters.`);
      else comment = value;
    } else if (key === wf.field) {
      errors[key] = fieldError('validation_transition_field_not_allowed', `The transition sets "${wf.field}" to "${t.to}" itself.`);
    } else if (!t.fields.has(key)) {
      const allowed = t.fields.size > 0 ? `It may set ${[...t.fields].map((f) => `"${f}"`).join(', ')} and "comment".` : 'It takes only "comment".';
      errors[key] = fieldError('validation_transition_field_not_allowed', `The transition "${t.name}" does not set "${key}". ${allowed}`);
    } else data[key] = value;
  }
  if (Object.keys(errors).length > 0) throw badRequest(fail, errors);
  return { data, comment };
}
