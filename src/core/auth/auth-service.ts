/**
 * Authentication of auth-collection records (spec §1.3): resolving a request's token, the
 * password method, refresh, impersonation, the methods list, and the one path every
 * successful sign-in takes (authRule, MFA, sign-in origins, token).
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { findSingleColumnUniqueIndex, isNocaseIndex } from '../collections/index-definition.js';
import { badRequest, fieldError, forbidden, MESSAGES, notFound, unauthorized } from '../errors.js';
import { ruleBoundCaller, systemCaller, type Caller } from '../records/caller.js';
import { codecOf } from '../records/record-codec.js';
import { ROOT, ruleAllows } from '../records/record-query.js';
import { findRecord } from '../records/record-reader.js';
import { recordId, type RecordModel } from '../model/record-model.js';
import { deriveRequest, type RequestContext } from '../rules/request-info.js';
import type { AuthContext } from './auth-context.js';
import { trackAuthOrigin, type ClientInfo } from './auth-origins.js';
import { checkMfa, MFA_MESSAGES, type AuthMethod } from './mfa.js';
import { verifyPassword } from './password.js';
import { peekClaims, signRecordToken, verifyRecordToken, type TokenClaims, type TokenType } from './tokens.js';

export interface ResolvedAuth {
  record: RecordModel;
  token: string;
  claims: TokenClaims;
}

export interface AuthResult {
  token: string;
  record: RecordModel;
  meta?: Record<string, unknown>;
}

/** How a sign-in is being finished: its method (null: refresh or impersonation, no MFA nor origin). */
export interface SignIn {
  method: AuthMethod | null;
  caller: Caller;
  client: ClientInfo;
  mfaId?: string;
  meta?: Record<string, unknown>;
}

const MAX_IDENTITY_LENGTH = 255;
const MAX_PASSWORD_LENGTH = 1024;
/** The longest impersonation token a superuser may ask for: one year. */
const MAX_IMPERSONATE_SECONDS = 365 * 24 * 3600;

const CONTEXT_OF: Record<AuthMethod, RequestContext> = { password: 'password', otp: 'otp', oauth2: 'oauth2', totp: 'default' };

export class AuthService {
  constructor(private readonly auth: AuthContext) {}

  /** The auth record of a bearer token, or null (invalid or expired tokens mean "guest"). */
  async resolveToken(token: string): Promise<ResolvedAuth | null> {
    const found = await this.findByToken(token, 'auth');
    return found ? { record: found.record, token, claims: found.claims } : null;
  }

  /** The record a token of `type` was signed for, if it verifies (and, when given, belongs to `collection`). */
  async findByToken(token: string, type: TokenType, collection?: CollectionModel): Promise<{ record: RecordModel; claims: TokenClaims } | null> {
    if (typeof token !== 'string' || token === '' || token.length > 4096) return null;
    const claims = peekClaims(token);
    if (!claims || claims.type !== type || typeof claims.id !== 'string' || typeof claims.collectionId !== 'string') return null;
    const c = this.auth.ctx.schema.find(claims.collectionId);
    if (!c || !c.isAuth || c.id !== claims.collectionId || (collection && collection.id !== c.id)) return null;
    const record = await findRecord(this.auth.ctx, c, claims.id, systemCaller(), c.rules.view);
    if (!record) return null;
    const verified = await verifyRecordToken(this.auth.ctx.clock, token, record, type);
    return verified ? { record, claims: verified } : null;
  }

  async issueToken(record: RecordModel, refreshable = true, durationSeconds?: number): Promise<string> {
    return signRecordToken(this.auth.ctx.clock, record, 'auth', { refreshable }, durationSeconds);
  }

  /** The record of `collection` with this email (case-insensitive, as identities are typed), or null. */
  async findByEmail(collection: CollectionModel, email: string): Promise<RecordModel | null> {
    if (email === '' || email.length > MAX_IDENTITY_LENGTH) return null;
    const { db } = this.auth.ctx;
    const codec = codecOf(collection);
    const condition = db.filter.equalsIgnoreCase(sql.ref(`${ROOT}.email`), db.filter.param(email, 'text'));
    const rows = await db.rows<Record<string, unknown>>(sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${condition} LIMIT 1`);
    return rows.length > 0 ? codec.decode(rows[0]) : null;
  }

  /** The authRule must hold for the record being authenticated (evaluated as that record). */
  private async assertAuthRule(record: RecordModel, caller: Caller): Promise<void> {
    const c = record.collection;
    const rule = c.rules.auth;
    if (rule.kind === 'open') return;
    if (rule.kind === 'locked') throw forbidden(MESSAGES.authRuleFailed);
    const asRecord = ruleBoundCaller(deriveRequest(caller.info, { auth: record }));
    if (!(await ruleAllows(this.auth.ctx, c, recordId(record), rule, asRecord))) throw forbidden(MESSAGES.authRuleFailed);
  }

  /**
   * Every successful sign-in ends here: the authRule, then MFA (which may answer 401 `{mfaId}`
   * instead), then the sign-in origin (and its new-device alert), then the token.
   */
  async finishAuth(record: RecordModel, signIn: SignIn): Promise<AuthResult> {
    const context = signIn.method ? CONTEXT_OF[signIn.method] : signIn.caller.info.context;
    const caller: Caller = { ...signIn.caller, info: deriveRequest(signIn.caller.info, { context }) };
    await this.assertAuthRule(record, caller);
    if (signIn.method) {
      await checkMfa({ ctx: this.auth.ctx, system: this.auth.system, hasTotp: (r) => this.auth.totp.isEnabled(r) }, record, signIn.method, signIn.mfaId ?? '', caller);
      try {
        await trackAuthOrigin(this.auth, record, signIn.client);
      } catch (err) {
        // The sign-in itself succeeded: a failed bookkeeping write must not refuse it.
        this.auth.logger.warn({ err: { message: (err as Error).message } }, 'could not record the sign-in origin');
      }
    }
    return { token: await this.issueToken(record), record, meta: signIn.meta };
  }

  private async findByIdentity(collection: CollectionModel, field: string, identity: string): Promise<RecordModel | null> {
    const index = findSingleColumnUniqueIndex([...collection.indexes], field);
    if (!index) return null;
    const { db } = this.auth.ctx;
    const codec = codecOf(collection);
    const column = sql.ref(`${ROOT}.${field}`);
    const value = db.filter.param(identity, 'text');
    const condition = isNocaseIndex(index) ? db.filter.equalsIgnoreCase(column, value) : sql`${column} = ${value}`;
    const rows = await db.rows<Record<string, unknown>>(sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${condition} LIMIT 1`);
    return rows.length > 0 ? codec.decode(rows[0]) : null;
  }

  async authWithPassword(collection: CollectionModel, body: Record<string, unknown>, signIn: Omit<SignIn, 'method'>): Promise<AuthResult> {
    const options = collection.data.passwordAuth;
    if (!options?.enabled) throw forbidden('The collection is not configured to allow password authentication.');
    const identity = typeof body.identity === 'string' ? body.identity.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const errors: Record<string, ReturnType<typeof fieldError>> = {};
    if (identity === '' || identity.length > MAX_IDENTITY_LENGTH) errors.identity = fieldError('validation_required', 'Missing required value.');
    if (password === '' || password.length > MAX_PASSWORD_LENGTH) errors.password = fieldError('validation_required', 'Missing required value.');
    const identityField = typeof body.identityField === 'string' ? body.identityField : '';
    if (identityField !== '' && !options.identityFields.includes(identityField)) {
      errors.identityField = fieldError('validation_in_invalid', 'Must be one of the identity fields.');
    }
    if (Object.keys(errors).length > 0) throw badRequest(MESSAGES.authFailed, errors);
    await this.auth.limiter.checkIdentity(collection, ['authWithPassword', 'auth'], identity);

    const fields = identityField !== '' ? [identityField] : options.identityFields;
    let record: RecordModel | null = null;
    for (const field of fields) {
      record = await this.findByIdentity(collection, field, identity);
      if (record) break;
    }
    // verifyPassword spends the same time when there is no record: no enumeration by timing.
    const ok = await verifyPassword(password, record ? String(record.values.password ?? '') : null);
    if (!record || !ok) throw badRequest(MESSAGES.authFailed);
    return this.finishAuth(record, { ...signIn, method: 'password' });
  }

  async authRefresh(collection: CollectionModel, caller: Caller, current: ResolvedAuth | null, client: ClientInfo): Promise<AuthResult> {
    if (!current) throw unauthorized(MESSAGES.refreshRequiresAuth);
    if (current.record.collection.id !== collection.id) throw forbidden(MESSAGES.refreshWrongCollection);
    const record = await findRecord(this.auth.ctx, collection, recordId(current.record), systemCaller(), collection.rules.view);
    if (!record) throw notFound();
    const result = await this.finishAuth(record, { method: null, caller, client });
    // Impersonation tokens are not refreshable: they come back unchanged.
    return current.claims.refreshable ? result : { ...result, token: current.token };
  }

  /**
   * The authenticator-app factor: the record is the one of the MFA session `mfaId` (started by
   * another method), the code is a current TOTP code or a recovery code.
   */
  async authWithTotp(collection: CollectionModel, body: Record<string, unknown>, signIn: Omit<SignIn, 'method'>): Promise<AuthResult> {
    const code = typeof body.code === 'string' ? body.code : '';
    if (code.trim() === '') throw badRequest(MESSAGES.validationFailed, { code: fieldError('validation_required', 'Missing required value.') });
    const mfas = this.auth.system.collection('_mfas');
    const session = signIn.mfaId ? await findRecord(this.auth.ctx, mfas, signIn.mfaId, systemCaller(), mfas.rules.view) : null;
    if (!session || session.values.collectionRef !== collection.id) throw badRequest(MFA_MESSAGES.invalidSession);
    const record = await findRecord(this.auth.ctx, collection, String(session.values.recordRef), systemCaller(), collection.rules.view);
    if (!record) throw badRequest(MFA_MESSAGES.invalidSession);
    await this.auth.totp.verify(record, code);
    return this.finishAuth(record, { ...signIn, method: 'totp' });
  }

  /** A non-refreshable token for any record, for superusers (support, debugging). */
  async impersonate(collection: CollectionModel, id: string, body: Record<string, unknown>, caller: Caller): Promise<AuthResult> {
    if (!caller.can.administers || !caller.auth) throw forbidden('Only superusers can impersonate other accounts.');
    let duration: number | undefined;
    if (body.duration !== undefined && body.duration !== 0 && body.duration !== '0') {
      duration = Number(body.duration);
      if (!Number.isInteger(duration) || duration < 0 || duration > MAX_IMPERSONATE_SECONDS) {
        throw badRequest(MESSAGES.validationFailed, { duration: fieldError('validation_invalid_duration', `Must be a whole number of seconds between 0 and ${MAX_IMPERSONATE_SECONDS}.`) });
      }
    }
    const record = await findRecord(this.auth.ctx, collection, id, systemCaller(), collection.rules.view);
    if (!record) throw notFound();
    return { token: await this.issueToken(record, false, duration), record };
  }
}
