import type { RecordModel } from './record.js';
import { deriveRequest, type RequestInfo } from '../rules/request-info.js';
import { SUPERUSERS_COLLECTION_ID } from '../collections/types.js';
import type { CollectionModel } from '../collections/collection-model.js';
import { keyAllows, keyCanRead, type ApiKeyPrincipal, type RecordAction } from '../auth/api-key-scope.js';
import { forbidden } from '../errors.js';

/** Who is asking, and what rules may read about their request. */
export interface Caller {
  auth: RecordModel | null;
  /** Past every rule: a superuser, Basalt itself, or an API key (within its scopes). */
  isSuperuser: boolean;
  info: RequestInfo;
  /** Set when an API key authenticated the request: `isSuperuser` then holds only within its scopes. */
  apiKey?: ApiKeyPrincipal;
}

/** API keys act only within their scopes: a 403 naming the action otherwise. */
export function assertScope(caller: Caller, collection: CollectionModel, action: RecordAction): void {
  if (caller.apiKey && !keyAllows(caller.apiKey, collectionRef(collection), action)) {
    throw forbidden(`The API key is not allowed to ${action} records of ${collection.name}.`);
  }
}

/** Whether an expanded relation into `collection` may be shown to the caller. */
export function canExpandInto(caller: Caller, collection: CollectionModel): boolean {
  return !caller.apiKey || keyAllows(caller.apiKey, collectionRef(collection), 'view');
}

/**
 * Whether a filter or sort of the caller may walk into `collection` (through a relation or a
 * back-relation): always, but for API keys only into collections they can read.
 */
export function canWalkInto(caller: Caller): ((collection: CollectionModel) => boolean) | undefined {
  const key = caller.apiKey;
  return key ? (collection) => keyCanRead(key, collectionRef(collection)) : undefined;
}

/**
 * Superusers see everything: hidden fields (in answers and filters) and filters of any cost.
 * API keys pass the rules within their scopes but see what a signed-in user would.
 */
export function seesEverything(caller: Caller): boolean {
  return caller.isSuperuser && !caller.apiKey;
}

const collectionRef = (c: CollectionModel) => ({ id: c.id, system: c.data.system });

export function callerFor(info: RequestInfo): Caller {
  const auth = info.auth;
  return { auth, isSuperuser: auth?.collection.id === SUPERUSERS_COLLECTION_ID, info };
}

/** The same caller in another rule context (e.g. `expand`). */
export function withContext(caller: Caller, context: RequestInfo['context']): Caller {
  return { ...caller, info: deriveRequest(caller.info, { context }) };
}

/** Basalt acting on its own behalf: past every rule (server-side lookups and system writes). */
export function superuserCaller(): Caller {
  return { auth: null, isSuperuser: true, info: { context: 'default', method: 'GET', headers: {}, query: {}, body: {}, auth: null } };
}
