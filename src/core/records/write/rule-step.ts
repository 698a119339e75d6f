/**
 * Step 4, the rule: the collection's create or update rule, evaluated with `@request.body` as
 * submitted, with PocketBase's status mapping (a failed create rule is a 400, a failed update
 * rule a 404: the caller may not know the record exists). Deletes apply their rule when the
 * record is looked up.
 */
import { deriveRequest } from '../../rules/request-info.js';
import { badRequest, MESSAGES, notFound } from '../../errors.js';
import { createsFirstSuperuser, type Caller } from '../caller.js';
import { passesCreateRule } from '../create-rule-check.js';
import { ruleAllows } from '../record-query.js';
import { assertNoSuperuserYet } from '../../auth/first-run.js';
import type { WriteContext, WriterDeps } from './write-context.js';

export async function checkWriteRule(w: WriteContext, deps: WriterDeps): Promise<void> {
  const caller = w.caller;
  if (caller.can.bypassesRules) return;
  // In place of the superusers-only create rule: the first-run link, while no superuser exists.
  if (createsFirstSuperuser(w.collection, w.action, caller)) return assertNoSuperuserYet(w.tx.db, w.collection);
  const ruleCaller: Caller = { ...caller, info: deriveRequest(caller.info, { body: w.bodyForRules }) };
  const ctx = { db: w.tx.db, schema: deps.schema, clock: deps.clock };
  if (w.action === 'create') {
    if (!(await passesCreateRule(ctx, w.collection, w.record.values, ruleCaller))) throw badRequest(MESSAGES.createFailed);
  } else if (w.action === 'update') {
    const rule = w.collection.rules.update;
    if (rule.kind === 'filter' && !(await ruleAllows(ctx, w.collection, String(w.record.values.id), rule, ruleCaller))) throw notFound();
  }
}
