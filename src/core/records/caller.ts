import type { RecordModel } from '../model/record-model.js';
import { deriveRequest, type RequestInfo } from '../rules/request-info.js';
import { SUPERUSERS_COLLECTION_ID } from '../model/collection-types.js';
import type { CollectionModel } from '../model/collection-model.js';
import { keyAllows, keyCanRead, type ApiKeyPrincipal, type RecordAction } from '../auth/api-key-scope.js';
import { authOf, capabilitiesOf, GUEST, INSTALLER, SYSTEM, type Capabilities, type Principal } from '../auth/principal.js';
import { forbidden } from '../errors.js';

/** Who is asking (one principal and its capabilities), and what rules may read about their request. */
export interface Caller {
  readonly principal: Principal;
  /** What the principal may do: ask these, never the principal's kind. */
  readonly can: Capabilities;
  /** The signed-in record (`@request.auth`); null for guests, API keys and Basalt itself. */
  readonly auth: RecordModel | null;
  readonly info: RequestInfo;
}

function make(principal: Principal, info: RequestInfo): Caller {
  return { principal, can: capabilitiesOf(principal), auth: authOf(principal), info };
}

/** The API key a request authenticated with, if any. */
export function apiKeyOf(caller: Caller): ApiKeyPrincipal | undefined {
  return caller.principal.kind === 'apiKey' ? caller.principal.key : undefined;
}

/** API keys act only within their scopes: a 403 naming the action otherwise. */
export function assertScope(caller: Caller, collection: CollectionModel, action: RecordAction): void {
  const key = apiKeyOf(caller);
  if (key && !keyAllows(key, collectionRef(collection), action)) {
    throw forbidden(`The API key is not allowed to ${action} records of ${collection.name}.`);
  }
}

/** The first-run link's one write: a superuser created while none exists (core/auth/first-run.ts). */
export function createsFirstSuperuser(collection: CollectionModel, action: RecordAction, caller: Caller): boolean {
  return caller.can.createsFirstSuperuser && action === 'create' && collection.id === SUPERUSERS_COLLECTION_ID;
}

/** Whether an expanded relation into `collection` may be shown to the caller. */
export function canExpandInto(caller: Caller, collection: CollectionModel): boolean {
  const key = apiKeyOf(caller);
  return !key || keyAllows(key, collectionRef(collection), 'view');
}

/**
 * Whether a filter or sort of the caller may walk into `collection` (through a relation or a
 * back-relation): always, but for API keys only into collections they can read.
 */
export function canWalkInto(caller: Caller): ((collection: CollectionModel) => boolean) | undefined {
  const key = apiKeyOf(caller);
  return key ? (collection) => keyCanRead(key, collectionRef(collection)) : undefined;
}

const collectionRef = (c: CollectionModel) => ({ id: c.id, system: c.data.system });

/** `principal` making a request described by `info` (realtime subscribers, between requests). */
export function callerAs(principal: Principal, info: RequestInfo): Caller {
  return make(principal, info);
}

/** The caller of a request signed in as `info.auth` (a superuser when it is one), or a guest. */
export function callerFor(info: RequestInfo): Caller {
  const auth = info.auth;
  if (!auth) return make(GUEST, info);
  return make(auth.collection.id === SUPERUSERS_COLLECTION_ID ? { kind: 'superuser', auth } : { kind: 'record', auth }, info);
}

/**
 * The caller of `info` with every rule applying, even to a superuser's record: what a rule
 * evaluated *as the record itself* (authRule, mfaRule) needs.
 */
export function ruleBoundCaller(info: RequestInfo): Caller {
  return make(info.auth ? { kind: 'record', auth: info.auth } : GUEST, info);
}

/** A request authenticated by an API key (`info.auth` is null: a key is no record). */
export function apiKeyCaller(info: RequestInfo, key: ApiKeyPrincipal): Caller {
  return make({ kind: 'apiKey', key }, info);
}

/** A request carrying a valid first-run token (core/auth/first-run.ts). */
export function installerCaller(info: RequestInfo): Caller {
  return make(INSTALLER, info);
}

/** The same caller in another rule context (e.g. `expand`). */
export function withContext(caller: Caller, context: RequestInfo['context']): Caller {
  return { ...caller, info: deriveRequest(caller.info, { context }) };
}

/** The same request, acting as Basalt itself (a lookup the caller's rules are checked for apart). */
export function asSystem(caller: Caller): Caller {
  return make(SYSTEM, caller.info);
}

const SERVER_INFO: RequestInfo = Object.freeze({ context: 'default', method: 'GET', headers: {}, query: {}, body: {}, auth: null });

/** Basalt acting on its own behalf: past every rule (server-side lookups and system writes). */
export function systemCaller(): Caller {
  return make(SYSTEM, SERVER_INFO);
}
