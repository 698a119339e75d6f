/**
 * One-time passwords by email (spec §1.3): `request-otp` mails a numeric code and answers its
 * `otpId` (a random one for unknown addresses, so the answer reveals nothing); `auth-with-otp`
 * signs in with the id and the code. Codes are stored hashed in `_otps`, expire after the
 * collection's `otp.duration`, work once, and allow five attempts per record in three minutes.
 */
import type { CollectionModel } from '../collections/collection-model.js';
import { isEmail } from '../collections/fields/email-field.js';
import { badRequest, fieldError, forbidden, MESSAGES, type ErrorData } from '../errors.js';
import { newId, randomString } from '../ids.js';
import { recordMail } from '../mail/record-mails.js';
import { superuserCaller } from '../records/caller.js';
import { findRecordsBy } from '../records/record-lookup.js';
import { findRecord } from '../records/record-reader.js';
import { recordId, type RecordModel } from '../records/record.js';
import { parseDate } from '../time.js';
import type { AuthContext } from './auth-context.js';
import type { AuthResult, AuthService, SignIn } from './auth-service.js';
import { verifyPassword } from './password.js';

export const OTP_MESSAGES = {
  disabled: 'The collection is not configured to allow OTP authentication.',
  invalid: 'Invalid or expired OTP',
  tooManyAttempts: 'Too many attempts, please try again later with a new OTP.',
} as const;

/** More live codes than this for one record: the newest is mailed again instead of a new one. */
const MAX_LIVE_OTPS = 10;

export class OtpFlow {
  constructor(
    private readonly auth: AuthContext,
    private readonly service: AuthService,
  ) {}

  private assertEnabled(collection: CollectionModel): void {
    if (!collection.data.otp?.enabled) throw forbidden(OTP_MESSAGES.disabled);
  }

  private durationMs(collection: CollectionModel): number {
    return (collection.data.otp?.duration || 180) * 1000;
  }

  private isLive(otp: RecordModel, collection: CollectionModel): boolean {
    const created = parseDate(otp.values.created);
    return created !== null && Date.now() - created.getTime() <= this.durationMs(collection);
  }

  async request(collection: CollectionModel, body: Record<string, unknown>): Promise<{ otpId: string }> {
    this.assertEnabled(collection);
    const email = typeof body.email === 'string' ? body.email.trim() : '';
    if (!isEmail(email)) {
      const errors: ErrorData = { email: email === '' ? fieldError('validation_required', 'Missing required value.') : fieldError('validation_is_email', 'Must be a valid email address.') };
      throw badRequest(MESSAGES.validationFailed, errors);
    }
    await this.auth.limiter.checkIdentity(collection, ['requestOTP'], email);
    const record = await this.service.findByEmail(collection, email);
    // Unknown address: an id that looks like any other, and no mail.
    if (!record) return { otpId: newId() };

    const live = (await findRecordsBy(this.auth.ctx, this.auth.system.collection('_otps'), { collectionRef: collection.id, recordRef: recordId(record) }, MAX_LIVE_OTPS + 1)).filter((o) =>
      this.isLive(o, collection),
    );
    if (live.length >= MAX_LIVE_OTPS) {
      // Flooding one inbox buys nothing: the newest live code is the answer.
      this.auth.logger.warn({ collection: collection.name }, 'too many OTP requests for one record: reusing the newest code');
      return { otpId: recordId(live[0]) };
    }
    const length = collection.data.otp?.length || 8;
    const code = randomString(length, '0123456789');
    const otp = await this.auth.system.create('_otps', { collectionRef: collection.id, recordRef: recordId(record), password: code, sentTo: String(record.values.email ?? '') });
    const mail = recordMail('otp', record, this.auth.settings.get(), { OTP: code, OTP_ID: recordId(otp) });
    // A code that could not be mailed is useless: remove it.
    this.auth.mail.sendInBackground('one-time password', mail, () => this.auth.system.delete(otp));
    return { otpId: recordId(otp) };
  }

  async authenticate(collection: CollectionModel, body: Record<string, unknown>, signIn: Omit<SignIn, 'method'>): Promise<AuthResult> {
    this.assertEnabled(collection);
    const otpId = typeof body.otpId === 'string' ? body.otpId : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const errors: ErrorData = {};
    if (otpId === '' || otpId.length > 255) errors.otpId = fieldError('validation_required', 'Missing required value.');
    if (password === '' || password.length > 71) errors.password = fieldError('validation_required', 'Missing required value.');
    if (Object.keys(errors).length > 0) throw badRequest(MESSAGES.validationFailed, errors);

    // One answer for every failure: nothing tells an unknown id from a wrong code.
    const otps = this.auth.system.collection('_otps');
    const otp = await findRecord(this.auth.ctx, otps, otpId, superuserCaller(), otps.rules.view);
    if (!otp || otp.values.collectionRef !== collection.id) throw badRequest(OTP_MESSAGES.invalid);
    if (!this.isLive(otp, collection)) {
      await this.auth.system.delete(otp);
      throw badRequest(OTP_MESSAGES.invalid);
    }
    const record = await findRecord(this.auth.ctx, collection, String(otp.values.recordRef), superuserCaller(), collection.rules.view);
    if (!record) throw badRequest(OTP_MESSAGES.invalid);
    // Codes are short: every attempt counts, whatever the rate-limit settings.
    await this.auth.limiter.enforce(`otp:${collection.id}:${recordId(record)}`, 5, 180, OTP_MESSAGES.tooManyAttempts);
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
