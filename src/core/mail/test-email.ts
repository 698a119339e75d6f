/**
 * `POST /api/settings/test/email` (spec §5.2 `settings.testEmail`): renders one of an auth
 * collection's templates for a sample record and sends it now, reporting SMTP failures.
 */
import type { App } from '../app.js';
import { isEmail } from '../collections/fields/email-field.js';
import { SUPERUSERS_COLLECTION_ID } from '../model/collection-types.js';
import { badRequest, fieldError, MESSAGES, type ErrorData } from '../errors.js';
import type { RecordModel } from '../model/record-model.js';
import { MailNotConfiguredError } from './mail-service.js';
import { recordMail, type RecordMailKind } from './record-mails.js';

const TEMPLATES: readonly RecordMailKind[] = ['verification', 'password-reset', 'email-change', 'otp', 'login-alert'];

export async function sendTestEmail(app: App, body: Record<string, unknown>): Promise<void> {
  const email = typeof body.email === 'string' ? body.email.trim() : '';
  const template = typeof body.template === 'string' ? body.template : '';
  const collectionRef = typeof body.collection === 'string' && body.collection !== '' ? body.collection : SUPERUSERS_COLLECTION_ID;
  const errors: ErrorData = {};
  if (!isEmail(email)) errors.email = email === '' ? fieldError('validation_required', 'Missing required value.') : fieldError('validation_is_email', 'Must be a valid email address.');
  if (!(TEMPLATES as readonly string[]).includes(template)) errors.template = fieldError('validation_in_invalid', `Must be one of ${TEMPLATES.join(', ')}.`);
  const collection = app.registry.find(collectionRef);
  if (!collection || !collection.isAuth) errors.collection = fieldError('validation_invalid_collection', 'Must be an auth collection.');
  if (Object.keys(errors).length > 0) throw badRequest(MESSAGES.validationFailed, errors);

  const sample: RecordModel = { collection: collection!, values: { id: 'test_record_id', email, emailVisibility: false, verified: false } };
  const mail = recordMail(template as RecordMailKind, sample, app.settings.get(), { TOKEN: 'test-token', OTP: '123456', OTP_ID: 'test-otp-id', ALERT_INFO: 'a test of the login alert' }, email);
  try {
    await app.mail.send(mail);
  } catch (err) {
    if (err instanceof MailNotConfiguredError) throw badRequest(err.message);
    throw badRequest('Failed to send the test email.', { smtp: fieldError('smtp_error', (err as Error).message.slice(0, 500)) });
  }
}
