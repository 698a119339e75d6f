/**
 * Authenticator-app second factor (TOTP, RFC 6238: HMAC-SHA1, 6 digits, 30-second steps),
 * Basalt's addition to PocketBase's MFA. A record enrols with its password (secret + otpauth://
 * URI for a QR code), confirms with a first code (which turns the factor on and returns ten single-use
 * recovery codes), and can disable it or renew the recovery codes with a current code.
 *
 * Codes are checked one step either side of now (clock drift), in constant time, and a step
 * once accepted is never accepted again (no replay within its 90-second window). Recovery codes
 * are stored as SHA-256 hashes (they carry 50 random bits: a slow hash adds little) and each
 * works once. Five attempts without a valid code (within five minutes) lock the factor for the
 * rest of the window.
 */
import { transact } from '../events/transaction.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { badRequest, fieldError } from '../errors.js';
import { newId } from '../ids.js';
import { TOTP_TABLE } from '../internal-tables.js';
import type { Database } from '../ports.js';
import type { RateLimiter } from '../rate-limits/rate-limiter.js';
import { recordId, type RecordModel } from '../model/record-model.js';
import { nowText, type Clock } from '../clock.js';
import { verifyPassword } from './password.js';

const PERIOD = 30;
const DIGITS = 6;
const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i
const MAX_FAILURES = 5;
const FAILURE_WINDOW_SECONDS = 300;

interface TotpRow {
  id: string;
  collectionRef: string;
  recordRef: string;
  secret: string;
  confirmed: boolean | number;
  recoveryCodes: string | string[];
  lastStep: number | string;
}

export interface TotpStatus {
  enabled: boolean;
  pending: boolean;
  recoveryCodesLeft: number;
}

export const TOTP_MESSAGES = {
  invalidCode: 'Invalid or expired authenticator code.',
  notEnrolled: 'No authenticator app is enrolled for this account.',
  alreadyEnrolled: 'An authenticator app is already enabled for this account; disable it before enrolling another one.',
  tooManyAttempts: 'Too many attempts, please try again later.',
} as const;

const hashRecoveryCode = (code: string) => createHash('sha256').update(code.replace(/[\s-]/g, '').toLowerCase()).digest('hex');

function recoveryCode(): string {
  const bytes = randomBytes(10);
  let out = '';
  for (let i = 0; i < 10; i++) out += RECOVERY_ALPHABET[bytes[i] % RECOVERY_ALPHABET.length];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function codesOf(row: TotpRow): string[] {
  const v = typeof row.recoveryCodes === 'string' ? JSON.parse(row.recoveryCodes || '[]') : row.recoveryCodes;
  return Array.isArray(v) ? v.map(String) : [];
}

const invalidCode = () => badRequest(TOTP_MESSAGES.invalidCode, { code: fieldError('validation_invalid_code', 'Invalid or expired authenticator code.') });

export class TotpService {
  constructor(
    private readonly db: Database,
    private readonly limiter: RateLimiter,
    private readonly issuer: () => string,
    private readonly clock: Clock,
  ) {}

  private async row(record: RecordModel, db: Database = this.db, lock = false): Promise<TotpRow | null> {
    const rows = await db.rows<TotpRow>(
      sql`SELECT * FROM ${sql.id(TOTP_TABLE)} WHERE ${sql.id('collectionRef')} = ${record.collection.id} AND ${sql.id('recordRef')} = ${recordId(record)} ${lock ? db.filter.forUpdate() : sql``}`,
    );
    return rows[0] ?? null;
  }

  /** Whether `record` has a confirmed authenticator app (the MFA check asks on every sign-in). */
  async isEnabled(record: RecordModel): Promise<boolean> {
    const row = await this.row(record);
    return Boolean(row && (row.confirmed === true || row.confirmed === 1));
  }

  async status(record: RecordModel): Promise<TotpStatus> {
    const row = await this.row(record);
    const enabled = Boolean(row && (row.confirmed === true || row.confirmed === 1));
    return { enabled, pending: Boolean(row) && !enabled, recoveryCodesLeft: enabled && row ? codesOf(row).length : 0 };
  }

  private totp(record: RecordModel, secret: string): OTPAuth.TOTP {
    const label = String(record.values.email || record.values.username || recordId(record));
    return new OTPAuth.TOTP({ issuer: this.issuer(), label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: OTPAuth.Secret.fromBase32(secret) });
  }

  /**
   * Starts (or restarts) an enrolment: a new secret, not active until confirmed. It needs the
   * account's password: a stolen session alone must not be able to put a factor on the account
   * and lock its owner out.
   */
  async enroll(record: RecordModel, password: string): Promise<{ secret: string; uri: string }> {
    if (typeof password !== 'string' || password === '' || password.length > 1024 || !(await verifyPassword(password, String(record.values.password ?? '')))) {
      throw badRequest('An error occurred while validating the submitted data.', { password: fieldError('validation_invalid_password', 'Missing or invalid auth record password.') });
    }
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    await transact(this.db, async ({ db: tx }) => {
      const existing = await this.row(record, tx, true);
      if (existing && (existing.confirmed === true || existing.confirmed === 1)) throw badRequest(TOTP_MESSAGES.alreadyEnrolled);
      const now = nowText(this.clock);
      if (existing) {
        await tx.kysely.updateTable(TOTP_TABLE).set({ secret, lastStep: 0, recoveryCodes: '[]', updated: now }).where('id', '=', existing.id).execute();
      } else {
        await tx.kysely
          .insertInto(TOTP_TABLE)
          .values({ id: newId(), collectionRef: record.collection.id, recordRef: recordId(record), secret, confirmed: false, recoveryCodes: '[]', lastStep: 0, created: now, updated: now })
          .execute();
      }
    });
    return { secret, uri: this.totp(record, secret).toString() };
  }

  /**
   * Checks `code` (a current TOTP code, or a recovery code when `allowRecovery`) inside `tx` with
   * the row locked, and consumes it: the step is remembered, a recovery code is removed.
   */
  private async consume(tx: Database, record: RecordModel, row: TotpRow, code: string, allowRecovery: boolean): Promise<boolean> {
    const digits = code.replace(/\s/g, '');
    if (/^\d{6}$/.test(digits)) {
      const totp = this.totp(record, row.secret);
      const now = this.clock.now();
      const current = OTPAuth.TOTP.counter({ period: PERIOD, timestamp: now });
      for (const delta of [0, -1, 1]) {
        const step = current + delta;
        if (step <= Number(row.lastStep)) continue;
        if (equalText(totp.generate({ timestamp: step * PERIOD * 1000 }), digits)) {
          await tx.kysely.updateTable(TOTP_TABLE).set({ lastStep: step, updated: nowText(this.clock) }).where('id', '=', row.id).execute();
          return true;
        }
      }
      return false;
    }
    if (!allowRecovery) return false;
    const hash = hashRecoveryCode(code);
    const codes = codesOf(row);
    const index = codes.findIndex((h) => equalText(h, hash));
    if (index === -1) return false;
    codes.splice(index, 1);
    await tx.kysely.updateTable(TOTP_TABLE).set({ recoveryCodes: JSON.stringify(codes), updated: nowText(this.clock) }).where('id', '=', row.id).execute();
    return true;
  }

  private async withCode<T>(record: RecordModel, code: string, opts: { pending: boolean; allowRecovery: boolean }, then: (tx: Database, row: TotpRow) => Promise<T>): Promise<T> {
    if (typeof code !== 'string' || code.trim() === '' || code.length > 64) throw badRequest(TOTP_MESSAGES.invalidCode, { code: fieldError('validation_required', 'Missing required value.') });
    // Every attempt counts before it is checked (atomically, so a burst of parallel guesses gets
    // no more tries than a sequence); a valid code starts the count over.
    const lockKey = `totp-attempts:${record.collection.id}:${recordId(record)}`;
    await this.limiter.enforce(lockKey, MAX_FAILURES, FAILURE_WINDOW_SECONDS, TOTP_MESSAGES.tooManyAttempts);
    let ok = false;
    const result = await transact(this.db, async ({ db: tx }) => {
      const row = await this.row(record, tx, true);
      const confirmed = Boolean(row && (row.confirmed === true || row.confirmed === 1));
      if (!row || confirmed === opts.pending) throw badRequest(opts.pending && confirmed ? TOTP_MESSAGES.alreadyEnrolled : TOTP_MESSAGES.notEnrolled);
      ok = await this.consume(tx, record, row, code, opts.allowRecovery);
      return ok ? then(tx, row) : null;
    });
    // A wrong code is refused after the transaction: the failure is counted, nothing else changes.
    if (!ok) throw invalidCode();
    // Whoever has a valid code is no brute-forcer: the failure count starts over.
    await this.limiter.forget(lockKey);
    return result as T;
  }

  private async newRecoveryCodes(tx: Database, rowId: string, extra: Record<string, unknown> = {}): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    await tx.kysely
      .updateTable(TOTP_TABLE)
      .set({ ...extra, recoveryCodes: JSON.stringify(codes.map(hashRecoveryCode)), updated: nowText(this.clock) })
      .where('id', '=', rowId)
      .execute();
    return codes;
  }

  /** The first code from the app turns the factor on; the recovery codes are shown this once. */
  async confirm(record: RecordModel, code: string): Promise<{ recoveryCodes: string[] }> {
    const recoveryCodes = await this.withCode(record, code, { pending: true, allowRecovery: false }, (tx, row) =>
      this.newRecoveryCodes(tx, row.id, { confirmed: true }),
    );
    return { recoveryCodes };
  }

  async regenerateRecoveryCodes(record: RecordModel, code: string): Promise<{ recoveryCodes: string[] }> {
    const recoveryCodes = await this.withCode(record, code, { pending: false, allowRecovery: false }, (tx, row) => this.newRecoveryCodes(tx, row.id));
    return { recoveryCodes };
  }

  /** Turns the factor off; needs a current code or a recovery code. */
  async disable(record: RecordModel, code: string): Promise<void> {
    await this.withCode(record, code, { pending: false, allowRecovery: true }, async (tx, row) => {
      await tx.kysely.deleteFrom(TOTP_TABLE).where('id', '=', row.id).execute();
    });
  }

  /** Removes the factor without a code (a superuser helping someone who lost their device). */
  async reset(collection: CollectionModel, id: string): Promise<boolean> {
    const result = await this.db.kysely.deleteFrom(TOTP_TABLE).where('collectionRef', '=', collection.id).where('recordRef', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The second factor of a sign-in: a current code or a recovery code. */
  async verify(record: RecordModel, code: string): Promise<void> {
    await this.withCode(record, code, { pending: false, allowRecovery: true }, async () => true);
  }
}
