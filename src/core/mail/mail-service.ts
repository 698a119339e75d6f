/**
 * Sending email with the SMTP settings in force. When SMTP is not enabled nothing pretends to
 * send: `send` fails with MailNotConfiguredError, and background sends log a warning that says
 * which setting to change. Secrets (tokens, codes) are never logged.
 */
import type { EventBus } from '../events/event-bus.js';
import type { Logger, MailMessage, Mailer, MailerFactory } from '../ports.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { SmtpSettings } from '../settings/settings.js';

export class MailNotConfiguredError extends Error {
  constructor() {
    super('SMTP is not configured: enable it in the settings (PATCH /api/settings {"smtp": {"enabled": true, "host": …}})');
    this.name = 'MailNotConfiguredError';
  }
}

export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** Runs around every send (the onMailerSend hooks): may change the message, or send nothing. */
export type MailSendHook = (message: MailMessage, send: (message: MailMessage) => Promise<void>) => Promise<void>;

export class MailService {
  private mailer: Mailer | null = null;
  private sendHook: MailSendHook | null = null;
  private mailerFor: SmtpSettings | null = null;

  constructor(
    private readonly settings: SettingsService,
    private readonly createMailer: MailerFactory,
    private readonly logger: Logger,
    events: EventBus,
  ) {
    events.on('settingsChanged', () => this.dropMailerIfStale());
  }

  private dropMailerIfStale(): void {
    if (this.mailer && this.mailerFor !== this.settings.get().smtp) {
      const old = this.mailer;
      this.mailer = null;
      this.mailerFor = null;
      old.close().catch(() => {});
    }
  }

  setSendHook(hook: MailSendHook | null): void {
    this.sendHook = hook;
  }

  /** Sends now; throws MailNotConfiguredError when SMTP is off, or the transport's error. */
  async send(mail: OutgoingMail): Promise<void> {
    const { smtp, meta } = this.settings.get();
    if (!smtp.enabled) throw new MailNotConfiguredError();
    const message: MailMessage = {
      from: { name: meta.senderName, address: meta.senderAddress },
      to: [{ address: mail.to }],
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
    };
    const transport = async (m: MailMessage) => {
      this.dropMailerIfStale();
      if (!this.mailer) {
        this.mailer = this.createMailer(this.settings.get().smtp);
        this.mailerFor = this.settings.get().smtp;
      }
      await this.mailer.send(m);
    };
    if (this.sendHook) await this.sendHook(message, transport);
    else await transport(message);
  }

  /**
   * Sends without making the caller wait (request-* endpoints answer the same way, and as fast,
   * whether or not the address exists). `what` names the mail in the log, never its content.
   */
  sendInBackground(what: string, mail: OutgoingMail, onFailure?: () => Promise<void>): void {
    this.send(mail).catch(async (err) => {
      if (err instanceof MailNotConfiguredError) this.logger.warn({ mail: what }, `${what} email not sent: ${err.message}`);
      else this.logger.error({ mail: what, err: { message: (err as Error).message } }, `failed to send the ${what} email`);
      await onFailure?.().catch(() => {});
    });
  }

  async close(): Promise<void> {
    await this.mailer?.close();
    this.mailer = null;
  }
}
