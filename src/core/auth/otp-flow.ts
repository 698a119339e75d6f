/**
 * One-time passwords by email (spec §1.3): `request-otp` mails a numeric code and answers its
 * `otpId` (a random one for unknown addresses, so the answer reveals nothing); `auth-with-otp`
 * signs in with the id and the code. Codes are stored hashed in `_otps`, expire after the
 * collection's `otp.duration` and work once. Wrong codes are counted per code and per client,
 * never per record: five attempts burn a code, and a client has a budget of attempts across all
 * codes, so whoever knows an address can neither guess its code nor lock its owner out.
 */
import type { CollectionModel } from '../model/collection-model.js';
import { isEmail } from '../collections/fields/email-field.js';
import { badRequest, fieldError, forbidden, MESSAGES, type ErrorData } from '../errors.js';
import { newId, randomString } from '../ids.js';
import { recordMail } from '../mail/record-mails.js';
import { systemCaller } from '../records/caller.js';
import { findRecordsBy } from '../records/record-lookup.js';
import { findRecord } from '../records/record-reader.js';
import { recordId, type RecordModel } from '../model/record-model.js';
import { tooManyRequests } from '../rate-limits/rate-limiter.js';
import { parseDate } from '../time.js';
import type { AuthContext } from './auth-context.js';
import type { AuthResult, AuthService, SignIn } from './auth-service.js';
import { runInBackground } from './background.js';
import { verifyPassword } from './password.js';

export const OTP_MESSAGES = {
  disabled: 'The collection is not configured to allow OTP authentication.',
  invalid: 'Invalid or expired OTP',
  tooManyAttempts: 'Too many attempts, please try again later with a new OTP.',
} as const;

/** Live codes one record may have at once; past it a request sends nothing new. */
const MAX_LIVE_OTPS = 10;
/**
 * Attempts one code allows; the last wrong one burns it. Counting per code, not per record (as
 * PocketBase does), means an attacker's wrong guesses on a code they requested never lock out the
 * owner's own code, while 5 guesses × {@link MAX_LIVE_OTPS} codes per duration stays negligible
 * against an 8-digit code.
 */
const MAX_ATTEMPTS_PER_OTP = 5;
/** Attempts one client IP may make on a collection per window, over all codes (unknown ids included). */
const MAX_ATTEMPTS_PER_CLIENT = 30;
const CLIENT_WINDOW_SECONDS = 180;

/** Seconds a code of `collection` stays valid. */
export function otpDuration(collection: CollectionModel): number {
  return collection.data.otp?.duration || 180;
}

export class OtpFlow {
  constructor(
    private readonly auth: AuthContext,
    private readonly service: AuthService,
  ) {}

  private assertEnabled(collection: CollectionModel): void {
    if (!collection.data.otp?.enabled) throw forbidden(OTP_MESSAGES.disabled);
  }

  private durationMs(collection: CollectionModel): number {
    return otpDuration(collection) * 1000;
  }

  private isLive(otp: RecordModel, collection: CollectionModel): boolean {
    const created = parseDate(otp.values.created);
    return created !== null && this.auth.ctx.clock.now() - created.getTime() <= this.durationMs(collection);
  }

  /**
   * Answers at once with an `otpId`, known address or not; the code is created and mailed in the
   * background, so neither the answer nor its timing tells whether the address has an account.
   */
  async request(collection: CollectionModel, body: Record<string, unknown>): Promise<{ otpId: string }> {
    this.assertEnabled(collection);
    const email = typeof body.email === 'string' ? body.email.trim() : '';
    if (!isEmail(email)) {
      const errors: ErrorData = { email: email === '' ? fieldError('validation_required', 'Missing required value.') : fieldError('validation_is_email', 'Must be a valid email address.') };
      throw badRequest(MESSAGES.validationFailed, errors);
    }
    await this.auth.limiter.checkIdentity(collection, ['requestOTP'], email);
    const otpId = newId();
    runInBackground(this.auth.logger, 'one-time password request', () => this.issue(collection, email, otpId));
    return { otpId };
  }

  private async issue(collection: CollectionModel, email: string, otpId: string): Promise<void> {
    const record = await this.service.findByEmail(collection, email);
    if (!record) return;
    const otps = await findRecordsBy(this.auth.ctx, this.auth.system.collection('_otps'), { collectionRef: collection.id, recordRef: recordId(record) }, 100);
    const live = otps.filter((o) => this.isLive(o, collection));
    // Expired codes of this record go as new ones come: the table never grows without bound.
    for (const old of otps) if (!this.isLive(old, collection)) await this.auth.system.claim(old);
    if (live.length >= MAX_LIVE_OTPS) {
      // Flooding one inbox buys nothing: the codes already sent are the ones to use.
      this.auth.logger.warn({ collection: collection.name }, 'too many live OTPs for one record: no new code sent');
      return;
    }
    const length = collection.data.otp?.length || 8;
    const code = randomString(length, '0123456789');
    const otp = await this.auth.system.create('_otps', { id: otpId, collectionRef: collection.id, recordRef: recordId(record), password: code, sentTo: String(record.values.email ?? '') });
    const mail = recordMail('otp', record, this.auth.settings.get(), { OTP: code, OTP_ID: otpId });
    // A code that could not be mailed is useless: remove it.
    this.auth.mail.sendInBackground('one-time password', mail, () => this.auth.system.delete(otp));
  }

  async authenticate(collection: CollectionModel, body: Record<string, unknown>, signIn: Omit<SignIn, 'method'>): Promise<AuthResult> {
    this.assertEnabled(collection);
    const otpId = typeof body.otpId === 'string' ? body.otpId : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const errors: ErrorData = {};
    if (otpId === '' || otpId.length > 255) errors.otpId = fieldError('validation_required', 'Missing required value.');
    if (password === '' || password.length > 71) errors.password = fieldError('validation_required', 'Missing required value.');
    if (Object.keys(errors).length > 0) throw badRequest(MESSAGES.validationFailed, errors);

    // Codes are short: every attempt counts, whatever the rate-limit settings, and before it is
    // checked (the store counts atomically, so parallel guesses get no more tries than a sequence).
    await this.auth.limiter.enforce(`otp-client:${collection.id}:${signIn.client.ip}`, MAX_ATTEMPTS_PER_CLIENT, CLIENT_WINDOW_SECONDS, OTP_MESSAGES.tooManyAttempts);
    // One answer for every failure: nothing tells an unknown id from a wrong code.
    const otps = this.auth.system.collection('_otps');
    const otp = await findRecord(this.auth.ctx, otps, otpId, systemCaller(), otps.rules.view);
    if (!otp || otp.values.collectionRef !== collection.id) throw badRequest(OTP_MESSAGES.invalid);
    if (!this.isLive(otp, collection)) {
      await this.auth.system.delete(otp);
      throw badRequest(OTP_MESSAGES.invalid);
    }
    const record = await findRecord(this.auth.ctx, collection, String(otp.values.recordRef), systemCaller(), collection.rules.view);
    if (!record) throw badRequest(OTP_MESSAGES.invalid);
    // The code's own count: its window (the code's lifetime, from the first attempt) outlives the
    // code, so past the limit it is burnt for everyone, right code included, and then removed.
    const attempts = await this.auth.limiter.hit(`otp-attempts:${recordId(otp)}`, Math.ceil(this.durationMs(collection) / 1000));
    if (attempts !== null && attempts > MAX_ATTEMPTS_PER_OTP) {
      await this.auth.system.delete(otp);
      throw tooManyRequests(OTP_MESSAGES.tooManyAttempts);
    }
    if (!(await verifyPassword(password, String(otp.values.password ?? '')))) throw badRequest(OTP_MESSAGES.invalid);

    // Single use: of two requests racing with the same code, only the one that removes it goes on.
    if (!(await this.auth.system.claim(otp))) throw badRequest(OTP_MESSAGES.invalid);
    // The code proves the mailbox: mark the address verified when it was sent to it.
    let current = record;
    if (!record.values.verified && otp.values.sentTo !== '' && otp.values.sentTo === record.values.email) {
      current = await this.auth.system.update(record, { verified: true });
    }
    return this.service.finishAuth(current, { ...signIn, method: 'otp' });
  }
}
