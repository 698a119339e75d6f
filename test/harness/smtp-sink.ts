/**
 * A real SMTP server on loopback (the npm `smtp-server`), keeping every message it receives,
 * parsed. Tests point Basalt's SMTP settings at it and wait for mail to arrive.
 */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** Resolves with the first mail (arriving now or later) matching `match`; rejects after `timeoutMs`. */
  waitFor(match: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Resolves when `ms` passed without a mail matching `match` (asserting that nothing is sent). */
  expectNone(match: (m: ReceivedMail) => boolean, ms?: number): Promise<void>;
  /** Credentials the server demands when set (AUTH PLAIN/LOGIN). */
  requireAuth(user: string, pass: string): void;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const waiters: { match: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }[] = [];
  let credentials: { user: string; pass: string } | null = null;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.pass) return callback(null, { user: auth.username });
      callback(new Error('Invalid username or password'));
    },
    onMailFrom(_address, session, callback) {
      if (credentials && !session.user) return callback(Object.assign(new Error('Authentication required'), { responseCode: 530 }));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const mail: ReceivedMail = {
            from: parsed.from?.text ?? '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            text: parsed.text ?? '',
          };
          mails.push(mail);
          for (const w of [...waiters]) {
            if (w.match(mail)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(mail);
            }
          }
          callback();
        })
        .catch((err) => callback(err));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    waitFor(match, timeoutMs = 10_000) {
      const found = mails.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching mail within ${timeoutMs} ms (received ${mails.length})`)), timeoutMs);
        waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
    async expectNone(match, ms = 700) {
      await new Promise((r) => setTimeout(r, ms));
      const found = mails.find(match);
      if (found) throw new Error(`unexpected mail "${found.subject}" to ${found.to.join(', ')}`);
    },
    requireAuth(user, pass) {
      credentials = { user, pass };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first `{TOKEN}`-style value in a mail: the last path segment of its first link with a token. */
export function tokenInMail(mail: ReceivedMail): string {
  const m = /\/(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(mail.html);
  if (!m) throw new Error(`no token in mail "${mail.subject}"`);
  return m[1];
}
