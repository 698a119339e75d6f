/**
 * The emails auth flows send to a record (PocketBase's templates, per auth collection):
 * verification, password reset, email change, one-time password and new-login alert.
 */
import type { RecordModel } from '../model/record-model.js';
import type { EmailTemplate } from '../model/collection-types.js';
import type { Settings } from '../settings/settings.js';
import { htmlToText, renderTemplate, type TemplateVars } from './template.js';
import type { OutgoingMail } from './mail-service.js';

export type RecordMailKind = 'verification' | 'password-reset' | 'email-change' | 'otp' | 'login-alert';

const TEMPLATE_KEY: Record<RecordMailKind, (r: RecordModel) => EmailTemplate | undefined> = {
  verification: (r) => r.collection.data.verificationTemplate,
  'password-reset': (r) => r.collection.data.resetPasswordTemplate,
  'email-change': (r) => r.collection.data.confirmEmailChangeTemplate,
  otp: (r) => r.collection.data.otp?.emailTemplate,
  'login-alert': (r) => r.collection.data.authAlert?.emailTemplate,
};

/** `{RECORD:field}` values: the record's visible fields and its email, never secrets. */
function recordVars(record: RecordModel): TemplateVars {
  const vars: TemplateVars = {};
  for (const field of record.collection.fields) {
    if (field.hidden || field.type === 'password') continue;
    const value = record.values[field.name];
    vars[`RECORD:${field.name}`] = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  vars['RECORD:email'] = String(record.values.email ?? '');
  return vars;
}

/** Renders the `kind` template of the record's collection, addressed to `to` (the record's email by default). */
export function recordMail(kind: RecordMailKind, record: RecordModel, settings: Settings, extra: TemplateVars, to?: string): OutgoingMail {
  const template = TEMPLATE_KEY[kind](record) ?? { subject: '', body: '' };
  const vars: TemplateVars = {
    ...recordVars(record),
    APP_NAME: settings.meta.appName,
    APP_URL: settings.meta.appURL.replace(/\/+$/, ''),
    ...extra,
  };
  const html = renderTemplate(template.body, vars, true);
  return {
    to: to ?? String(record.values.email ?? ''),
    subject: renderTemplate(template.subject, vars, false),
    html,
    text: htmlToText(html),
  };
}
