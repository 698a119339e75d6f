/**
 * Multi-factor authentication (spec §1.3): when a collection's MFA is on and its rule matches
 * the record, the first successful method answers 401 `{mfaId}` and records an `_mfas` row; a
 * second, different method presented with that `mfaId` completes the sign-in.
 *
 * Basalt adds one rule: a record that enrolled an authenticator app (TOTP) always needs it,
 * whatever the collection's MFA setting: the user asked for a second factor, so signing in
 * with two other methods does not replace it.
 */
import type { CollectionModel } from '../model/collection-model.js';
import { badRequest } from '../errors.js';
import { ruleBoundCaller, type Caller } from '../records/caller.js';
import { findRecordsBy } from '../records/record-lookup.js';
import { ruleAllows, type QueryContext } from '../records/record-query.js';
import type { RecordModel } from '../model/record-model.js';
import { recordId } from '../model/record-model.js';
import { parseDate } from '../time.js';
import type { SystemRecords } from './system-records.js';

export type AuthMethod = 'password' | 'otp' | 'oauth2' | 'totp';

/** Not an error response: the sign-in needs a second factor. Answered as 401 `{mfaId}`. */
export class MfaRequiredError extends Error {
  constructor(readonly mfaId: string) {
    super('MFA required');
    this.name = 'MfaRequiredError';
  }
}

export const MFA_MESSAGES = {
  invalidSession: 'Invalid or expired MFA session.',
  differentMethod: 'A different authentication method is required.',
  totpRequired: 'This account requires an authenticator app code as one of its factors.',
} as const;

const DEFAULT_MFA_SECONDS = 600;

export interface MfaDeps {
  ctx: QueryContext;
  system: SystemRecords;
  /** Whether the record has a confirmed authenticator app. */
  hasTotp(record: RecordModel): Promise<boolean>;
}

/** Seconds an MFA session stays open for `collection`. */
export function mfaDuration(collection: CollectionModel): number {
  return collection.data.mfa?.duration || DEFAULT_MFA_SECONDS;
}

async function collectionWantsMfa(deps: MfaDeps, record: RecordModel, caller: Caller): Promise<boolean> {
  const c = record.collection;
  if (!c.data.mfa?.enabled) return false;
  const rule = c.rules.mfa;
  if (rule.kind !== 'filter') return true;
  // Evaluated as the record signing in, whoever asks (a superuser's own sign-in included).
  return ruleAllows(deps.ctx, c, recordId(record), rule, ruleBoundCaller(caller.info));
}

/**
 * Checks the MFA state of a sign-in by `method`. Returns normally when the sign-in may finish;
 * throws MfaRequiredError (first factor) or a 400 (bad session, same method twice).
 */
export async function checkMfa(deps: MfaDeps, record: RecordModel, method: AuthMethod, mfaId: string, caller: Caller): Promise<void> {
  const totp = await deps.hasTotp(record);
  if (!totp && !(await collectionWantsMfa(deps, record, caller))) return;
  const mfas = deps.system.collection('_mfas');
  if (mfaId === '') {
    // Sessions nobody completed go as new ones come: the table stays bounded.
    const ttl = mfaDuration(record.collection) * 1000;
    for (const old of await findRecordsBy(deps.ctx, mfas, { collectionRef: record.collection.id, recordRef: recordId(record) }, 100)) {
      const at = parseDate(old.values.created);
      if (!at || deps.ctx.clock.now() - at.getTime() > ttl) await deps.system.claim(old);
    }
    const created = await deps.system.create('_mfas', { collectionRef: record.collection.id, recordRef: recordId(record), method });
    throw new MfaRequiredError(recordId(created));
  }
  const [session] = await findRecordsBy(deps.ctx, mfas, { id: mfaId }, 1);
  const createdAt = session ? parseDate(session.values.created) : null;
  const expired = !createdAt || deps.ctx.clock.now() - createdAt.getTime() > mfaDuration(record.collection) * 1000;
  if (!session || expired) {
    if (session) await deps.system.delete(session);
    throw badRequest(MFA_MESSAGES.invalidSession);
  }
  if (session.values.recordRef !== recordId(record) || session.values.collectionRef !== record.collection.id) throw badRequest('Invalid MFA session.');
  if (session.values.method === method) throw badRequest(MFA_MESSAGES.differentMethod);
  if (totp && method !== 'totp' && session.values.method !== 'totp') throw badRequest(MFA_MESSAGES.totpRequired);
  // An MFA session completes one sign-in only.
  if (!(await deps.system.claim(session))) throw badRequest(MFA_MESSAGES.invalidSession);
}
