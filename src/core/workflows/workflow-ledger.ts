/**
 * What entering a workflow state writes besides the record, in the write's own transaction (so a
 * rolled-back transition leaves none of it): the history entry, the end of the approvals given in
 * the state left, the state marker, the `after` timers of the new state (jobs with a `runAt`)
 * and the effects of the transition taken (jobs, emails through a job, webhooks).
 *
 * The marker (`_workflowStates.entry`, a fresh id on every entry) is what a timer checks when it
 * runs: a record that left the state and came back has a new marker, so an old timer does not
 * fire early.
 */
import { sql } from 'kysely';
import { nowText, type Clock } from '../clock.js';
import type { Tx } from '../events/transaction.js';
import { newId } from '../ids.js';
import { WORKFLOW_APPROVALS_TABLE, WORKFLOW_HISTORY_TABLE, WORKFLOW_STATES_TABLE } from '../internal-tables.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { htmlToText, renderTemplate, type TemplateVars } from '../mail/template.js';
import type { CollectionModel } from '../model/collection-model.js';
import type { RecordModel } from '../model/record-model.js';
import type { Logger } from '../ports.js';
import type { WorkflowWrites, WriteContext, WriteTransition } from '../records/write/write-context.js';
import { parseDate } from '../time.js';
import { workflowOf, type CompiledTransition } from './workflow-model.js';

/** The built-in job that fires `after` transitions. */
export const WORKFLOW_TIMER_JOB = 'basalt.workflow.timer';
/** The built-in job that sends the emails of transitions' `email` effects. */
export const WORKFLOW_EMAIL_JOB = 'basalt.workflow.email';

export interface WorkflowTimerPayload {
  collectionId: string;
  recordId: string;
  transition: string;
  /** The state marker the timer belongs to. */
  entry: string;
}

export interface WorkflowEmailPayload {
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** What a `webhook` effect hands to the outbound webhooks. */
export interface WorkflowWebhookEvent {
  collection: CollectionModel;
  record: RecordModel;
  previous: RecordModel | null;
  transition: WriteTransition;
}

/**
 * Sends a transition's `webhook` effect to endpoint `endpointId` inside the transition's
 * transaction (an outbox row). Wired by the app to the outbound webhooks.
 */
export type WorkflowWebhook = (tx: Tx, endpointId: string, event: WorkflowWebhookEvent) => Promise<void>;

/** @default of {@link WorkflowLedgerDeps.webhook}: until outbound webhooks are wired, a webhook effect fails its transition. */
export const NO_WORKFLOW_WEBHOOKS: WorkflowWebhook = async () => {
  throw new Error('webhook effects need outbound webhooks');
};

export interface WorkflowLedgerDeps {
  clock: Clock;
  logger: Logger;
  jobs: JobQueue;
  /** Defines the built-in jobs on this node (they run no worker until a workflow needs them). */
  ensureJobs: () => void;
  /** @default {@link NO_WORKFLOW_WEBHOOKS} */
  webhook?: WorkflowWebhook;
}

export class WorkflowLedger implements WorkflowWrites {
  constructor(private readonly deps: WorkflowLedgerDeps) {}

  async entered(w: WriteContext): Promise<void> {
    const wf = workflowOf(w.collection);
    if (!wf) return;
    const { db } = w.tx;
    const collectionId = w.collection.id;
    const recordId = String(w.record.values.id);
    const state = String(w.record.values[wf.field] ?? '');
    const now = nowText(this.deps.clock);
    const ids = { collectionRef: collectionId, recordRef: recordId };
    if (w.transition) {
      const t = w.transition;
      const last = await db.rows<{ seq: number | string | null }>(
        sql`SELECT MAX(${sql.ref('seq')}) AS ${sql.id('seq')} FROM ${sql.id(WORKFLOW_HISTORY_TABLE)} WHERE ${sql.ref('collectionRef')} = ${db.filter.param(collectionId, 'text')} AND ${sql.ref('recordRef')} = ${db.filter.param(recordId, 'text')}`,
      );
      const seq = Number(last[0]?.seq ?? 0) + 1;
      await db.kysely
        .insertInto(WORKFLOW_HISTORY_TABLE)
        .values({ id: newId(), ...ids, transition: t.name, fromState: t.from, toState: t.to, byCollection: t.by?.collectionId ?? '', byRecord: t.by?.id ?? '', comment: t.comment, seq, created: now })
        .execute();
      await db.kysely.deleteFrom(WORKFLOW_APPROVALS_TABLE).where('collectionRef', '=', collectionId).where('recordRef', '=', recordId).execute();
    }
    const entry = newId();
    await db.kysely.deleteFrom(WORKFLOW_STATES_TABLE).where('collectionRef', '=', collectionId).where('recordRef', '=', recordId).execute();
    await db.kysely.insertInto(WORKFLOW_STATES_TABLE).values({ id: newId(), ...ids, state, entry, entered: now }).execute();
    for (const t of wf.transitions) if (t.after && t.from.has(state)) await this.schedule(w, t, entry);
    if (w.transition) {
      const taken = wf.byName.get(w.transition.name);
      if (taken) await this.applyEffects(w, taken, w.transition);
    }
  }

  /** An `after` timer: a job due at the duration from now, or at the date field's time (none when the field is empty). */
  private async schedule(w: WriteContext, t: CompiledTransition, entry: string): Promise<void> {
    let runAt: number;
    if (t.after && 'ms' in t.after) runAt = this.deps.clock.now() + t.after.ms;
    else {
      const at = parseDate(w.record.values[(t.after as { field: string }).field]);
      if (!at) return;
      runAt = at.getTime();
    }
    this.deps.ensureJobs();
    const payload: WorkflowTimerPayload = { collectionId: w.collection.id, recordId: String(w.record.values.id), transition: t.name, entry };
    await this.deps.jobs.enqueue(WORKFLOW_TIMER_JOB, payload, { runAt: Math.max(runAt, 0) }, w.tx);
  }

  private async applyEffects(w: WriteContext, t: CompiledTransition, taken: WriteTransition): Promise<void> {
    const recordId = String(w.record.values.id);
    for (const effect of t.def.effects ?? []) {
      if ('job' in effect) {
        const payload = { collectionId: w.collection.id, collectionName: w.collection.name, recordId, ...taken, payload: effect.payload ?? null };
        await this.deps.jobs.enqueue(effect.job, payload, {}, w.tx);
      } else if ('email' in effect) {
        const field = w.collection.field(effect.email.to);
        const to = field ? String(w.record.values[field.name] ?? '') : effect.email.to;
        if (to === '') {
          this.deps.logger.warn({ collection: w.collection.name, record: recordId, transition: taken.name }, 'workflow email effect skipped: the recipient field is empty');
          continue;
        }
        const vars = templateVars(w.record, taken);
        const html = renderTemplate(effect.email.body, vars, true);
        const mail: WorkflowEmailPayload = { to, subject: renderTemplate(effect.email.subject, vars, false), html, text: htmlToText(html) };
        this.deps.ensureJobs();
        await this.deps.jobs.enqueue(WORKFLOW_EMAIL_JOB, mail, {}, w.tx);
      } else {
        await (this.deps.webhook ?? NO_WORKFLOW_WEBHOOKS)(w.tx, effect.webhook, { collection: w.collection, record: w.record, previous: w.previous, transition: taken });
      }
    }
  }
}

/** `{RECORD:field}` for the record's plain values, and the transition's `{TRANSITION}`, `{FROM}`, `{TO}`, `{COMMENT}`. */
function templateVars(record: RecordModel, t: WriteTransition): TemplateVars {
  const vars: TemplateVars = { TRANSITION: t.name, FROM: t.from, TO: t.to, COMMENT: t.comment };
  for (const f of record.collection.fields) {
    if (f.hidden || f.type === 'password') continue;
    const v = record.values[f.name];
    vars[`RECORD:${f.name}`] = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return vars;
}
