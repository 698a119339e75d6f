import type { RecordModel } from './record.js';
import { deriveRequest, type RequestInfo } from '../rules/request-info.js';
import { SUPERUSERS_COLLECTION_ID } from '../collections/types.js';

/** Who is asking, and what rules may read about their request. */
export interface Caller {
  auth: RecordModel | null;
  isSuperuser: boolean;
  info: RequestInfo;
}

export function callerFor(info: RequestInfo): Caller {
  const auth = info.auth;
  return { auth, isSuperuser: auth?.collection.id === SUPERUSERS_COLLECTION_ID, info };
}

/** The same caller in another rule context (e.g. `expand`). */
export function withContext(caller: Caller, context: RequestInfo['context']): Caller {
  return { ...caller, info: deriveRequest(caller.info, { context }) };
}
