/**
 * Password authentication and tokens for auth collections (spec §1.3): auth-with-password,
 * auth-refresh, auth-methods, and resolving a request's token to its auth record.
 */
import { deriveRequest } from '../rules/request-info.js';
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../collections/collection-model.js';
import { findSingleColumnUniqueIndex, isNocaseIndex } from '../collections/index-definition.js';
import { badRequest, fieldError, forbidden, MESSAGES, notFound, unauthorized } from '../errors.js';
import type { Database } from '../ports.js';
import type { Caller } from '../records/caller.js';
import { codecOf } from '../records/record-codec.js';
import { ROOT, ruleAllows } from '../records/record-query.js';
import { findRecord } from '../records/record-reader.js';
import type { RecordModel } from '../records/record.js';
import { verifyPassword } from './password.js';
import { peekClaims, signRecordToken, verifyRecordToken, type TokenClaims } from './tokens.js';

export interface ResolvedAuth {
  record: RecordModel;
  token: string;
  claims: TokenClaims;
}

export interface AuthResult {
  token: string;
  record: RecordModel;
}

const MAX_IDENTITY_LENGTH = 255;
const MAX_PASSWORD_LENGTH = 1024;

export class AuthService {
  constructor(
    private readonly db: Database,
    private readonly schema: SchemaView,
  ) {}

  private ctx() {
    return { db: this.db, schema: this.schema };
  }

  /** The auth record of a bearer token, or null (invalid or expired tokens mean "guest"). */
  async resolveToken(token: string): Promise<ResolvedAuth | null> {
    const claims = peekClaims(token);
    if (!claims || claims.type !== 'auth' || typeof claims.id !== 'string' || typeof claims.collectionId !== 'string') return null;
    const collection = this.schema.find(claims.collectionId);
    if (!collection || !collection.isAuth || collection.id !== claims.collectionId) return null;
    const record = await findRecord(this.ctx(), collection, claims.id, superuserCaller(), collection.rules.view);
    if (!record) return null;
    const verified = await verifyRecordToken(token, record, 'auth');
    return verified ? { record, token, claims: verified } : null;
  }

  async issueToken(record: RecordModel, refreshable = true, durationSeconds?: number): Promise<string> {
    return signRecordToken(record, 'auth', { refreshable }, durationSeconds);
  }

  /** The authRule must hold for the record being authenticated. */
  private async assertAuthRule(record: RecordModel, caller: Caller): Promise<void> {
    const c = record.collection;
    const rule = c.rules.auth;
    if (rule.kind === 'open') return;
    if (rule.kind === 'locked') throw forbidden(MESSAGES.authRuleFailed);
    // The rule is about the record signing in: evaluate it as that record.
    const asRecord: Caller = { auth: record, isSuperuser: false, info: deriveRequest(caller.info, { auth: record }) };
    if (!(await ruleAllows(this.ctx(), c, String(record.values.id), rule, asRecord))) throw forbidden(MESSAGES.authRuleFailed);
  }

  private async findByIdentity(collection: CollectionModel, field: string, identity: string): Promise<RecordModel | null> {
    const index = findSingleColumnUniqueIndex([...collection.indexes], field);
    if (!index) return null;
    const codec = codecOf(collection);
    const column = sql.ref(`${ROOT}.${field}`);
    const value = this.db.filter.param(identity, 'text');
    const condition = isNocaseIndex(index) ? this.db.filter.equalsIgnoreCase(column, value) : sql`${column} = ${value}`;
    const rows = await this.db.rows<Record<string, unknown>>(sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${condition} LIMIT 1`);
    return rows.length > 0 ? codec.decode(rows[0]) : null;
  }

  async authWithPassword(collection: CollectionModel, body: Record<string, unknown>, caller: Caller): Promise<AuthResult> {
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

    const fields = identityField !== '' ? [identityField] : options.identityFields;
    let record: RecordModel | null = null;
    for (const field of fields) {
      record = await this.findByIdentity(collection, field, identity);
      if (record) break;
    }
    // verifyPassword spends the same time when there is no record: no enumeration by timing.
    const ok = await verifyPassword(password, record ? String(record.values.password ?? '') : null);
    if (!record || !ok) throw badRequest(MESSAGES.authFailed);
    await this.assertAuthRule(record, { ...caller, info: deriveRequest(caller.info, { context: 'password' }) });
    return { token: await this.issueToken(record), record };
  }

  async authRefresh(collection: CollectionModel, caller: Caller, current: ResolvedAuth | null): Promise<AuthResult> {
    if (!current) throw unauthorized(MESSAGES.refreshRequiresAuth);
    if (current.record.collection.id !== collection.id) throw forbidden(MESSAGES.refreshWrongCollection);
    const record = await findRecord(this.ctx(), collection, String(current.record.values.id), superuserCaller(), collection.rules.view);
    if (!record) throw notFound();
    await this.assertAuthRule(record, caller);
    // Impersonation tokens are not refreshable: they come back unchanged.
    const token = current.claims.refreshable ? await this.issueToken(record) : current.token;
    return { token, record };
  }

  authMethods(collection: CollectionModel): Record<string, unknown> {
    const c = collection.data;
    const password = { enabled: Boolean(c.passwordAuth?.enabled), identityFields: c.passwordAuth?.identityFields ?? [] };
    return {
      password,
      oauth2: { enabled: false, providers: [] },
      mfa: { enabled: Boolean(c.mfa?.enabled), duration: c.mfa?.duration ?? 0 },
      otp: { enabled: Boolean(c.otp?.enabled), duration: c.otp?.duration ?? 0 },
      // Legacy fields (SDK < 0.23 and older clients).
      authProviders: [],
      usernamePassword: password.enabled && password.identityFields.includes('username'),
      emailPassword: password.enabled && password.identityFields.includes('email'),
    };
  }
}

/** A caller that bypasses rules, for server-side lookups. */
export function superuserCaller(): Caller {
  return { auth: null, isSuperuser: true, info: { context: 'default', method: 'GET', headers: {}, query: {}, body: {}, auth: null } };
}
