/**
 * The Mailer port over SMTP, with nodemailer. One pooled transport per SMTP configuration; every
 * phase has a timeout so an unreachable server fails a send instead of hanging it.
 */
import nodemailer from 'nodemailer';
import type { MailerFactory, MailMessage, Mailer } from '../core/ports.js';
import type { SmtpSettings } from '../core/settings/settings.js';

/** Seconds an SMTP exchange may take, per phase (PocketBase waits 15 s for a login alert). */
const TIMEOUT_MS = 15_000;

export class SmtpMailer implements Mailer {
  private readonly transport;

  constructor(smtp: SmtpSettings) {
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      // tls=true: implicit TLS; otherwise STARTTLS when the server offers it.
      secure: smtp.tls,
      auth: smtp.username ? { user: smtp.username, pass: smtp.password, method: smtp.authMethod || 'PLAIN' } : undefined,
      name: smtp.localName || 'localhost',
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
      pool: true,
      maxConnections: 2,
    });
  }

  async send(message: MailMessage): Promise<void> {
    await this.transport.sendMail({
      from: { name: message.from.name, address: message.from.address },
      to: message.to.map((t) => (t.name ? { name: t.name, address: t.address } : t.address)),
      subject: message.subject,
      html: message.html,
      text: message.text,
    });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

export const createSmtpMailer: MailerFactory = (smtp) => new SmtpMailer(smtp);
