/**
 * The flows that go through the record's mailbox (spec §1.3): password reset, email
 * verification and email change. Each request answers 204 whatever the address (no account
 * enumeration) and mails a token in the background; each confirmation checks the token's
 * signature, expiry, collection and email claim.
 *
 * Tokens are single use by construction: a password reset rotates the record's tokenKey (part
 * of every token's key), and so does an email change (ending the sessions of the old address);
 * a verification or email change makes the token's `email` claim stale. A repeated request for
 * the same record within two minutes sends nothing more.
 */
import type { CollectionModel } from '../model/collection-model.js';
import { isEmail } from '../collections/fields/email-field.js';
import { SUPERUSERS_COLLECTION_ID } from '../model/collection-types.js';
import { badRequest, fieldError, MESSAGES, unauthorized, type ErrorData } from '../errors.js';
import { recordMail } from '../mail/record-mails.js';
import type { Caller } from '../records/caller.js';
import { recordId, type RecordModel } from '../model/record-model.js';
import type { AuthContext } from './auth-context.js';
import type { AuthService } from './auth-service.js';
import { autogenerateText } from '../collections/fields/text-field.js';
import { runInBackground } from './background.js';
import { verifyPassword } from './password.js';
import { signRecordToken, type TokenType } from './tokens.js';

const RESEND_SECONDS = 120;

const required = () => fieldError('validation_required', 'Missing required value.');
const invalidToken = () => fieldError('validation_invalid_token', 'Invalid or expired token.');

function text(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  return typeof v === 'string' ? v : '';
}

function validationError(errors: ErrorData): never {
  throw badRequest(MESSAGES.validationFailed, errors);
}

export class EmailFlows {
  constructor(
    private readonly auth: AuthContext,
    private readonly service: AuthService,
  ) {}

  private requestedEmail(body: Record<string, unknown>, key = 'email'): string {
    const email = text(body, key).trim();
    if (email === '') validationError({ [key]: required() });
    if (!isEmail(email)) validationError({ [key]: fieldError('validation_is_email', 'Must be a valid email address.') });
    return email;
  }

  /** The record a confirmation token names, or a 400 on `data.token`. */
  private async recordOfToken(collection: CollectionModel, body: Record<string, unknown>, type: TokenType): Promise<{ record: RecordModel; claims: Record<string, unknown> }> {
    const token = text(body, 'token');
    if (token === '') validationError({ token: required() });
    const found = await this.service.findByToken(token, type);
    if (!found) validationError({ token: invalidToken() });
    if (found.record.collection.id !== collection.id) validationError({ token: fieldError('validation_token_collection_mismatch', 'The provided token is for different auth collection.') });
    return found;
  }

  private async firstMailInWindow(kind: string, record: RecordModel): Promise<boolean> {
    return this.auth.limiter.firstInWindow(`mail:${kind}:${record.collection.id}:${recordId(record)}`, RESEND_SECONDS);
  }

  // --- password reset --------------------------------------------------------------------

  async requestPasswordReset(collection: CollectionModel, body: Record<string, unknown>): Promise<void> {
    if (!collection.data.passwordAuth?.enabled) throw badRequest('The collection is not configured to allow password authentication.');
    const email = this.requestedEmail(body);
    await this.auth.limiter.checkIdentity(collection, ['requestPasswordReset'], email);
    // The answer leaves before the lookup: the same 204, in the same time, for any address.
    runInBackground(this.auth.logger, 'password reset request', async () => {
      const record = await this.service.findByEmail(collection, email);
      if (!record || !(await this.firstMailInWindow('password-reset', record))) return;
      const token = await signRecordToken(this.auth.ctx.clock, record, 'passwordReset', { email: record.values.email });
      this.auth.mail.sendInBackground('password reset', recordMail('password-reset', record, this.auth.settings.get(), { TOKEN: token }));
    });
  }

  async confirmPasswordReset(collection: CollectionModel, body: Record<string, unknown>): Promise<void> {
    const password = text(body, 'password');
    const passwordConfirm = text(body, 'passwordConfirm');
    const min = Number(collection.field('password')?.min) || 1;
    const errors: ErrorData = {};
    if (password === '') errors.password = required();
    else if (password.length < min || password.length > 255) errors.password = fieldError('validation_length_out_of_range', `The length must be between ${min} and 255.`);
    if (passwordConfirm === '') errors.passwordConfirm = required();
    else if (passwordConfirm !== password) errors.passwordConfirm = fieldError('validation_values_mismatch', "Values don't match.");
    if (text(body, 'token') === '') errors.token = required();
    if (Object.keys(errors).length > 0) validationError(errors);
    const { record, claims } = await this.recordOfToken(collection, body, 'passwordReset');
    // A link mailed to an address the record no longer has must not reset its password.
    if (claims.email !== record.values.email) {
      validationError({ token: fieldError('validation_token_email_mismatch', "The record email doesn't match with the requested token claims.") });
    }
    const data: Record<string, unknown> = { password, passwordConfirm };
    // The link came through the mailbox: it proves the address.
    if (!record.values.verified) data.verified = true;
    // The new password rotates tokenKey: this token (and every session) stops working.
    await this.auth.system.update(record, data);
    await this.auth.limiter.forget(`mail:password-reset:${collection.id}:${recordId(record)}`);
  }

  // --- verification ----------------------------------------------------------------------

  async requestVerification(collection: CollectionModel, body: Record<string, unknown>): Promise<void> {
    const email = this.requestedEmail(body);
    await this.auth.limiter.checkIdentity(collection, ['requestVerification'], email);
    runInBackground(this.auth.logger, 'verification request', async () => {
      const record = await this.service.findByEmail(collection, email);
      if (!record || record.values.verified || !(await this.firstMailInWindow('verification', record))) return;
      const token = await signRecordToken(this.auth.ctx.clock, record, 'verification', { email: record.values.email });
      this.auth.mail.sendInBackground('verification', recordMail('verification', record, this.auth.settings.get(), { TOKEN: token }));
    });
  }

  async confirmVerification(collection: CollectionModel, body: Record<string, unknown>): Promise<void> {
    if (collection.id === SUPERUSERS_COLLECTION_ID) throw badRequest('All superusers are verified by default.');
    const { record, claims } = await this.recordOfToken(collection, body, 'verification');
    if (claims.email !== record.values.email) {
      validationError({ token: fieldError('validation_token_email_mismatch', "The record email doesn't match with the requested token claims.") });
    }
    if (record.values.verified) return;
    await this.auth.system.update(record, { verified: true });
    await this.auth.limiter.forget(`mail:verification:${collection.id}:${recordId(record)}`);
  }

  // --- email change ----------------------------------------------------------------------

  async requestEmailChange(collection: CollectionModel, body: Record<string, unknown>, caller: Caller): Promise<void> {
    if (collection.id === SUPERUSERS_COLLECTION_ID) throw badRequest('All superusers can change their emails directly.');
    const record = caller.auth;
    if (!record) throw unauthorized('The request requires valid auth record.');
    if (record.collection.id !== collection.id) throw unauthorized('The request requires valid record authorization token from the current collection.');
    const newEmail = this.requestedEmail(body, 'newEmail');
    const taken = await this.service.findByEmail(collection, newEmail);
    if (newEmail.toLowerCase() === String(record.values.email).toLowerCase() || (taken && recordId(taken) !== recordId(record))) {
      validationError({ newEmail: fieldError('validation_invalid_new_email', 'Invalid new email address.') });
    }
    // One mail per record every two minutes: a signed-in user cannot make Basalt spam an address.
    if (!(await this.firstMailInWindow('email-change', record))) return;
    const token = await signRecordToken(this.auth.ctx.clock, record, 'emailChange', { email: record.values.email, newEmail });
    // Sent to the new address: receiving it proves that mailbox.
    this.auth.mail.sendInBackground('email change', recordMail('email-change', record, this.auth.settings.get(), { TOKEN: token }, newEmail));
  }

  async confirmEmailChange(collection: CollectionModel, body: Record<string, unknown>): Promise<void> {
    if (collection.id === SUPERUSERS_COLLECTION_ID) throw badRequest('All superusers can change their emails directly.');
    const password = text(body, 'password');
    const errors: ErrorData = {};
    if (text(body, 'token') === '') errors.token = required();
    if (password === '') errors.password = required();
    if (Object.keys(errors).length > 0) validationError(errors);
    const { record, claims } = await this.recordOfToken(collection, body, 'emailChange');
    const newEmail = typeof claims.newEmail === 'string' ? claims.newEmail : '';
    // Already used (or the address changed since): the claim no longer matches.
    if (newEmail === '' || claims.email !== record.values.email) validationError({ token: invalidToken() });
    if (!(await verifyPassword(password, String(record.values.password ?? '')))) {
      validationError({ password: fieldError('validation_invalid_password', 'Missing or invalid auth record password.') });
    }
    const taken = await this.service.findByEmail(collection, newEmail);
    if (taken && recordId(taken) !== recordId(record)) {
      validationError({ token: fieldError('validation_existing_token_email', `The new email address is already registered: ${newEmail}`) });
    }
    // A new address is a new identity: the sessions opened under the old one end (a new tokenKey).
    const tokenKey = collection.field('tokenKey');
    await this.auth.system.update(record, { email: newEmail, verified: true, ...(tokenKey ? { tokenKey: autogenerateText(tokenKey) } : {}) });
    await this.auth.limiter.forget(`mail:email-change:${collection.id}:${recordId(record)}`);
  }
}
