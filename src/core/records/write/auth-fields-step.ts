/**
 * Step 2, the auth fields of auth collections: the fields only a manager may set (email,
 * verified), the password change protocol (passwordConfirm, oldPassword) with PocketBase's field
 * codes, and password hashing. bcrypt takes tens of milliseconds, so submitted passwords are
 * hashed before the write transaction opens (a sign-up never holds the write lock while hashing);
 * a password a hook sets inside the transaction is hashed there.
 */
import { fieldTypeOf } from '../../collections/fields/index.js';
import { PasswordInput } from '../../collections/fields/password-field.js';
import { autogenerateText } from '../../collections/fields/text-field.js';
import { SUPERUSERS_COLLECTION_ID } from '../../model/collection-types.js';
import type { CollectionModel } from '../../model/collection-model.js';
import type { RecordValues } from '../../model/record-model.js';
import { fieldError } from '../../errors.js';
import { hashPassword, verifyPassword } from '../../auth/password.js';
import { applyBody } from '../record-body.js';
import { findRecord } from '../record-reader.js';
import { systemCaller } from '../caller.js';
import type { WriteContext, WriterDeps } from './write-context.js';

const hashKey = (field: string, plain: string) => `${field}\u0000${plain}`;

/** Hashes the passwords the body submits (those that will pass validation), before the transaction. */
export async function prehashPasswords(w: WriteContext): Promise<void> {
  const collection = w.collection;
  if (!collection.fields.some((f) => f.type === 'password')) return;
  // The update's real body is applied inside the transaction, on the locked record: a preview finds the passwords.
  const preview = applyBody(collection, {}, w.input.data, { isNew: w.action === 'create', seesHidden: w.caller.can.seesHidden, canManage: true }).values;
  for (const field of collection.fields) {
    const v = preview[field.name];
    if (!(v instanceof PasswordInput) || v.plain === '') continue;
    if (fieldTypeOf(field.type).validate(field, v, { isNew: true, previous: undefined, collection: collection.data })) continue;
    w.hashes.set(hashKey(field.name, v.plain), await hashPassword(v.plain, Number(field.cost) || undefined));
  }
}

/** Checks `oldPassword` against the stored hash before the transaction (bcrypt again); the hash must still be the stored one inside it. */
export async function checkOldPassword(w: WriteContext, deps: WriterDeps, id: string): Promise<void> {
  const data = w.input.data;
  if (!w.collection.isAuth || typeof data.oldPassword !== 'string' || data.oldPassword === '') return;
  // Inside a joined transaction (a batch) the record may have been written earlier in it.
  const db = w.tx?.db ?? deps.db;
  const stored = await findRecord({ db, schema: deps.schema, clock: deps.clock }, w.collection, id, systemCaller(), w.collection.rules.update);
  const hash = String(stored?.values.password ?? '');
  w.oldPasswordHash = stored && (await verifyPassword(data.oldPassword, hash)) ? hash : null;
}

/** The manager-only fields and the password change protocol: field errors into `w.errors`. */
export function checkAuthFields(w: WriteContext): void {
  const collection = w.collection;
  if (!collection.isAuth) return;
  const values = w.record.values;
  const previous = w.previous?.values ?? null;
  const errors = w.errors;
  // Superusers are trusted accounts: always verified (as in PocketBase), whoever creates them
  // (the first-run link is no manager, yet its superuser is verified like any other).
  const forcedVerified = collection.id === SUPERUSERS_COLLECTION_ID;
  if (forcedVerified) values.verified = true;
  const mismatch = () => fieldError('validation_values_mismatch', 'Only superusers and managers can change this field directly.');
  if (!w.canManage) {
    const storedVerified = previous ? previous.verified : false;
    if (!forcedVerified && values.verified !== storedVerified) errors.verified ??= mismatch();
    if (previous && values.email !== previous.email) errors.email ??= mismatch();
  }
  const password = values.password instanceof PasswordInput ? values.password : null;
  const extras = w.extras;
  const confirm = typeof extras.passwordConfirm === 'string' ? extras.passwordConfirm : extras.passwordConfirm === undefined ? '' : String(extras.passwordConfirm);
  const old = typeof extras.oldPassword === 'string' ? extras.oldPassword : '';
  // A password set by a hook (no body key) needs no confirmation: hooks are the server's own code.
  const fromBody = Object.hasOwn(w.input.data, 'password');
  if (!password && (confirm !== '' || old !== '')) errors.password ??= fieldError('validation_required', 'Missing required value.');
  if (password && fromBody) {
    if (confirm === '') errors.passwordConfirm ??= fieldError('validation_required', 'Missing required value.');
    else if (confirm !== password.plain) errors.passwordConfirm ??= fieldError('validation_values_mismatch', "Values don't match.");
    if (previous && !w.canManage) {
      if (old === '') errors.oldPassword ??= fieldError('validation_required', 'Missing required value.');
      else if (w.oldPasswordHash === null || w.oldPasswordHash !== String(previous.password ?? '')) {
        errors.oldPassword ??= fieldError('validation_invalid_old_password', 'Missing or invalid old password.');
      }
    }
  }
}

/** Puts the hashes in place of the submitted passwords; a password change also rotates tokenKey (revoking tokens). */
export async function finalizePasswords(w: WriteContext): Promise<void> {
  const collection: CollectionModel = w.collection;
  const values: RecordValues = w.record.values;
  for (const field of collection.fields) {
    const v = values[field.name];
    if (!(v instanceof PasswordInput)) continue;
    values[field.name] = v.plain === '' ? '' : (w.hashes.get(hashKey(field.name, v.plain)) ?? (await hashPassword(v.plain, Number(field.cost) || undefined)));
    if (collection.isAuth && field.name === 'password' && w.action === 'update') {
      const tokenKey = collection.field('tokenKey');
      if (tokenKey) values.tokenKey = autogenerateText(tokenKey);
    }
  }
}
