/**
 * OAuth2 / OpenID Connect sign-in (spec §1.3): the provider list of `auth-methods` (each with a
 * fresh state and PKCE pair), and `auth-with-oauth2`, which exchanges the code, reads the
 * provider's user, then signs in the linked record, links the signed-in one, or signs up a new
 * one (PocketBase's order), and answers `{token, record, meta}`.
 *
 * The nonce of an OpenID Connect request is derived from its PKCE verifier (a hash of it), so
 * the server can check the id_token's nonce without keeping any state: the verifier reaches the
 * server only with the code exchange, and only the client that started the flow has it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CollectionModel } from '../../model/collection-model.js';
import { findSingleColumnUniqueIndex } from '../../collections/index-definition.js';
import { DEFAULT_FILE_MAX_SIZE } from '../../collections/fields/file-field.js';
import { detectFileType, mimeTypeAllowed } from '../../files/detect-file-type.js';
import type { UploadedFile } from '../../files/uploaded-file.js';
import { fieldTypeOf } from '../../collections/fields/index.js';
import { SUPERUSERS_COLLECTION_ID } from '../../model/collection-types.js';
import { badRequest, fieldError, forbidden, type ErrorData } from '../../errors.js';
import { transact } from '../../events/transaction.js';
import { randomString } from '../../ids.js';
import type { Logger, OAuth2Client } from '../../ports.js';
import type { Caller } from '../../records/caller.js';
import { systemCaller } from '../../records/caller.js';
import { findRecordsBy } from '../../records/record-lookup.js';
import { findRecord } from '../../records/record-reader.js';
import type { RecordWriter } from '../../records/record-writer.js';
import { recordId, type RecordModel } from '../../model/record-model.js';
import { deriveRequest } from '../../rules/request-info.js';
import { formatDate } from '../../time.js';
import type { AuthContext } from '../auth-context.js';
import type { OAuth2ProviderAuthInfo } from '../auth-methods.js';
import type { AuthResult, AuthService, SignIn } from '../auth-service.js';
import { providerLogo } from './logos.js';
import type { OAuth2UserInfo } from './provider-preset.js';
import { resolveProvider, type OAuth2ProviderConfig, type ResolvedProvider } from './provider-config.js';

const STATE_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const EXCHANGE_TIMEOUT_MS = 30_000;

const b64url = (buf: Buffer) => buf.toString('base64url');

/** The last path segment of the picture's URL (PocketBase names it so), or `avatar`. */
function avatarFileName(url: string): string {
  try {
    const segment = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    return segment === '' ? 'avatar' : segment;
  } catch {
    return 'avatar';
  }
}

/** The OIDC nonce bound to a PKCE verifier: `base64url(sha256("basalt-nonce:" + verifier))`. */
export function nonceFor(codeVerifier: string): string {
  return codeVerifier ? b64url(createHash('sha256').update(`basalt-nonce:${codeVerifier}`).digest()) : '';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)))]).finally(() => clearTimeout(timer));
}

export class OAuth2Flow {
  constructor(
    private readonly auth: AuthContext,
    private readonly service: AuthService,
    private readonly writer: RecordWriter,
    private readonly client: OAuth2Client,
    private readonly logger: Logger,
  ) {}

  private providers(collection: CollectionModel): ResolvedProvider[] {
    const configs = (collection.data.oauth2?.providers ?? []) as OAuth2ProviderConfig[];
    return configs.map(resolveProvider).filter((p): p is ResolvedProvider => p !== null);
  }

  /** The providers of `auth-methods`, each ready to start a flow. A provider that cannot be set up is left out (and logged). */
  async authInfos(collection: CollectionModel): Promise<OAuth2ProviderAuthInfo[]> {
    if (!collection.data.oauth2?.enabled) return [];
    const infos: OAuth2ProviderAuthInfo[] = [];
    for (const p of this.providers(collection)) {
      try {
        infos.push(await this.authInfo(p));
      } catch (err) {
        this.logger.warn({ provider: p.config.name, collection: collection.name, err: { message: (err as Error).message } }, 'OAuth2 provider left out of auth-methods');
      }
    }
    return infos;
  }

  private async authInfo(p: ResolvedProvider): Promise<OAuth2ProviderAuthInfo> {
    const endpoints = p.spec.discoveryURL ? await this.client.endpoints(p.spec) : { authURL: p.spec.authURL };
    if (!endpoints.authURL) throw new Error('no authorization endpoint');
    const state = randomString(30, STATE_ALPHABET);
    const params = new URLSearchParams({ client_id: p.spec.clientId, response_type: 'code', scope: p.scopes.join(' '), state, ...(p.preset.authParams ?? {}) });
    let codeVerifier = '';
    let codeChallenge = '';
    if (p.pkce) {
      codeVerifier = b64url(randomBytes(32)).slice(0, 43);
      codeChallenge = b64url(createHash('sha256').update(codeVerifier).digest());
      params.set('code_challenge', codeChallenge);
      params.set('code_challenge_method', 'S256');
      if (p.spec.oidc) params.set('nonce', nonceFor(codeVerifier));
    }
    const url = new URL(endpoints.authURL);
    for (const [k, v] of params) url.searchParams.set(k, v);
    // An empty redirect_uri last, so clients append their own (as PocketBase's SDK does).
    const authURL = url.toString() + '&redirect_uri=';
    return {
      name: p.config.name,
      displayName: p.displayName,
      state,
      authURL,
      authUrl: authURL,
      codeVerifier,
      codeChallenge,
      codeChallengeMethod: p.pkce ? 'S256' : '',
      logo: providerLogo(p.config.name, p.displayName),
    };
  }

  async authenticate(collection: CollectionModel, body: Record<string, unknown>, signIn: Omit<SignIn, 'method'>): Promise<AuthResult> {
    if (!collection.data.oauth2?.enabled) throw forbidden('The collection is not configured to allow OAuth2 authentication.');
    const providerName = typeof body.provider === 'string' ? body.provider : '';
    const code = typeof body.code === 'string' ? body.code : '';
    const codeVerifier = typeof body.codeVerifier === 'string' ? body.codeVerifier : '';
    const redirectURL = typeof body.redirectURL === 'string' && body.redirectURL !== '' ? body.redirectURL : typeof body.redirectUrl === 'string' ? body.redirectUrl : '';
    const createData = body.createData === undefined || body.createData === null ? {} : body.createData;
    const provider = this.providers(collection).find((p) => p.config.name === providerName);
    const errors: ErrorData = {};
    if (!provider) errors.provider = fieldError('validation_invalid_provider', `Provider with name ${providerName} is missing or is not enabled.`, { name: providerName });
    if (code === '' || code.length > 4096) errors.code = fieldError('validation_required', 'Missing required value.');
    if (redirectURL === '' || redirectURL.length > 2048) errors.redirectURL = fieldError('validation_required', 'Missing required value.');
    if (codeVerifier.length > 128) errors.codeVerifier = fieldError('validation_length_out_of_range', 'Must be at most 128 characters.');
    if (typeof createData !== 'object' || Array.isArray(createData)) errors.createData = fieldError('validation_invalid_value', 'Must be an object.');
    if (Object.keys(errors).length > 0) throw badRequest('An error occurred while loading the submitted data.', errors);
    const p = provider!;

    let tokens;
    try {
      tokens = await withTimeout(this.client.exchangeCode(p.spec, { code, codeVerifier, redirectURL, nonce: nonceFor(codeVerifier) }), EXCHANGE_TIMEOUT_MS, 'the token exchange');
    } catch (err) {
      this.logger.warn({ provider: p.config.name, err: { message: (err as Error).message } }, 'OAuth2 token exchange failed');
      throw badRequest('Failed to fetch OAuth2 token.');
    }
    let user: OAuth2UserInfo;
    let rawUser: Record<string, unknown>;
    try {
      const userInfoURL = p.spec.discoveryURL && !p.spec.userInfoURL ? (await this.client.endpoints(p.spec)).userInfoURL : p.spec.userInfoURL;
      const fetched = await withTimeout(
        p.preset.fetchUser(userInfoURL, {
          accessToken: tokens.accessToken,
          idTokenClaims: tokens.idTokenClaims,
          extra: p.config.extra ?? {},
          clientId: p.spec.clientId,
          fetchJson: (url, options) => this.client.fetchJson(p.spec, url, tokens.accessToken, options),
        }),
        EXCHANGE_TIMEOUT_MS,
        'reading the OAuth2 user',
      );
      user = fetched.user;
      rawUser = fetched.raw;
      if (user.id === '') throw new Error('the provider returned no user id');
    } catch (err) {
      this.logger.warn({ provider: p.config.name, err: { message: (err as Error).message } }, 'reading the OAuth2 user failed');
      throw badRequest('Failed to fetch OAuth2 user.');
    }

    const caller: Caller = { ...signIn.caller, info: deriveRequest(signIn.caller.info, { context: 'oauth2' }) };
    const emailProven = p.preset.emailTrust !== 'signup-only' || p.config.extra?.trustEmail === true;
    const { record, isNew } = await this.linkOrCreate(collection, p, user, emailProven, createData as Record<string, unknown>, caller);
    const meta = {
      id: user.id,
      name: user.name,
      username: user.username,
      email: user.email,
      avatarURL: user.avatarURL,
      avatarUrl: user.avatarURL,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiry: tokens.expiresAt ? formatDate(tokens.expiresAt) : '',
      rawUser,
      isNew,
    };
    return this.service.finishAuth(record, { ...signIn, caller, method: 'oauth2', meta });
  }

  /**
   * The record to sign in: the one already linked to this provider account; else the signed-in
   * record of this collection (linking a provider to an account); else the one with the same
   * email, when the provider's email proves the address (`emailProven`); else a new one from
   * `createData` and the mapped fields. The link is written in the same transaction.
   */
  private async linkOrCreate(collection: CollectionModel, p: ResolvedProvider, user: OAuth2UserInfo, emailProven: boolean, createData: Record<string, unknown>, caller: Caller): Promise<{ record: RecordModel; isNew: boolean }> {
    const provider = p.config.name;
    const ctx = this.auth.ctx;
    const externalAuths = this.auth.system.collection('_externalAuths');
    const [link] = await findRecordsBy(ctx, externalAuths, { collectionRef: collection.id, provider, providerId: user.id }, 1);
    let record: RecordModel | null = null;
    if (link) record = await findRecord(ctx, collection, String(link.values.recordRef), systemCaller(), collection.rules.view);
    const signedIn = caller.auth && caller.auth.collection.id === collection.id ? caller.auth : null;
    if (!record && signedIn) record = signedIn;
    if (!record && user.email && emailProven) record = await this.service.findByEmail(collection, user.email);
    // An unproven address is only a suggestion for a new record: never grounds for trust.
    const provenEmail = emailProven ? user.email : '';
    // Downloaded before the transaction (no lock held over the network), for a sign-up only.
    const avatar = record ? [] : await this.avatarUpload(collection, p, user, createData);

    return transact(ctx.db, async (tx) => {
      let isNew = false;
      if (!record) {
        if (collection.id === SUPERUSERS_COLLECTION_ID) throw badRequest('Failed to authenticate.', { provider: fieldError('validation_superuser_oauth2_signup', 'Superusers cannot sign up with OAuth2.') });
        const payload = await this.signUpPayload(collection, user, createData);
        const created = await this.writer.create(collection, { data: payload, files: avatar }, caller, tx);
        isNew = true;
        record = created;
        if (provenEmail !== '' && created.values.email === provenEmail && !created.values.verified) record = await this.auth.system.update(created, { verified: true }, tx);
      } else {
        const isSignedIn = signedIn !== null && recordId(signedIn) === recordId(record);
        const update: Record<string, unknown> = {};
        // Someone may have registered this address before its owner came with a provider that
        // proves it: an unverified account gets a random password, so that earlier registrant
        // loses the way in (PocketBase does the same).
        if (!isSignedIn && record.values.email !== '' && !record.values.verified) {
          const password = randomString(40);
          Object.assign(update, { password, passwordConfirm: password });
        }
        if (record.values.email === '' && provenEmail !== '') update.email = provenEmail;
        const email = update.email ?? record.values.email;
        if (!record.values.verified && provenEmail !== '' && email === provenEmail) update.verified = true;
        if (Object.keys(update).length > 0) record = await this.auth.system.update(record, update, tx);
      }
      if (!link) {
        await this.auth.system.create('_externalAuths', { collectionRef: collection.id, recordRef: recordId(record), provider, providerId: user.id }, tx);
      } else if (link.values.recordRef !== recordId(record)) {
        // Linked to a record that no longer exists: point the link at this one.
        await this.auth.system.update(link, { recordRef: recordId(record) }, tx);
      }
      return { record, isNew };
    }, undefined, this.logger);
  }

  /** `createData`, completed with the provider's email, the mapped fields and a random password. */
  private async signUpPayload(collection: CollectionModel, user: OAuth2UserInfo, createData: Record<string, unknown>): Promise<Record<string, unknown>> {
    const payload: Record<string, unknown> = { ...createData };
    if (typeof payload.email !== 'string' || payload.email === '') payload.email = user.email;
    const mapped = collection.data.oauth2?.mappedFields ?? { id: '', name: '', username: '', avatarURL: '' };
    const assign = (field: string, value: string) => {
      if (field && !(field in payload) && value !== '') payload[field] = value;
    };
    assign(mapped.id, user.id);
    assign(mapped.name, user.name);
    if (mapped.username && !(mapped.username in payload) && (await this.usernameIsFree(collection, mapped.username, user.username))) payload[mapped.username] = user.username;
    const avatarField = mapped.avatarURL ? collection.field(mapped.avatarURL) : undefined;
    // A file field gets the picture itself, as an upload (avatarUpload).
    if (avatarField && avatarField.type !== 'file') assign(mapped.avatarURL, user.avatarURL);
    if (!('password' in payload)) {
      const password = randomString(40);
      payload.password = password;
      payload.passwordConfirm = password;
    }
    return payload;
  }

  /**
   * The provider's picture as an upload to the file field `mappedFields.avatarURL` names, capped
   * at the field's maxSize. A picture that cannot be had (down, too large, a type the field
   * refuses) is left out: it must not cost the user the sign-up.
   */
  private async avatarUpload(collection: CollectionModel, p: ResolvedProvider, user: OAuth2UserInfo, createData: Record<string, unknown>): Promise<UploadedFile[]> {
    const name = collection.data.oauth2?.mappedFields?.avatarURL ?? '';
    const field = name ? collection.field(name) : undefined;
    if (!field || field.type !== 'file' || user.avatarURL === '' || field.name in createData) return [];
    const maxBytes = typeof field.maxSize === 'number' && field.maxSize > 0 ? field.maxSize : DEFAULT_FILE_MAX_SIZE;
    try {
      const data = await withTimeout(this.client.fetchFile(p.spec, user.avatarURL, maxBytes), EXCHANGE_TIMEOUT_MS, 'the avatar download');
      const allowed = Array.isArray(field.mimeTypes) ? (field.mimeTypes as string[]) : [];
      const type = await detectFileType(data);
      if (data.length === 0 || (allowed.length > 0 && !mimeTypeAllowed(type.mime, allowed))) throw new Error(`the avatar is ${data.length === 0 ? 'empty' : type.mime}`);
      return [{ field: field.name, filename: avatarFileName(user.avatarURL), mimetype: type.mime, data }];
    } catch (err) {
      this.logger.warn({ provider: p.config.name, err: { message: (err as Error).message } }, 'OAuth2 avatar left out');
      return [];
    }
  }

  /** A provider username is used only when the field accepts it and no record has it yet. */
  private async usernameIsFree(collection: CollectionModel, field: string, username: string): Promise<boolean> {
    const f = collection.field(field);
    if (!f || username === '' || f.type !== 'text') return false;
    if (fieldTypeOf('text').validate(f, username, { isNew: true, previous: undefined, collection: collection.data })) return false;
    if (!findSingleColumnUniqueIndex([...collection.indexes], field)) return true;
    const taken = await findRecordsBy(this.auth.ctx, collection, { [field]: username }, 1);
    return taken.length === 0;
  }
}
