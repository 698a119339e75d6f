/**
 * The events hook handlers receive, named and shaped after PocketBase's JS hooks (`e.record`,
 * `e.auth`, `e.app`, `e.collection`, `e.request`, `e.requestInfo()`, `e.json()`,
 * `e.pathValue()`, `e.next()`), adapted to async.
 */
import type { Collection } from '../model/collection-types.js';
import type { MailMessage } from '../ports.js';
import type { HookEvent } from './hook.js';
import type { HookApp } from './hook-app.js';
import { HookRecord } from './hook-record.js';
import type { HookResponse, RequestOrigin } from './request-origin.js';

const notInChain = async () => {
  throw new Error('e.next() is only available inside a hook handler');
};

/** What every event has: the app (bound to the current transaction, if any) and `next()`. */
export class BaseEvent implements HookEvent {
  next: () => Promise<void> = notInChain;
  constructor(readonly app: HookApp) {}
}

/** What `e.requestInfo()` gives, as PocketBase's RequestInfo. */
export interface HookRequestInfo {
  auth: HookRecord | null;
  body: Record<string, unknown>;
  query: Record<string, string>;
  headers: Record<string, string>;
  method: string;
  context: string;
}

/** The request side shared by record request events and route events. */
export class RequestEventBase extends BaseEvent {
  constructor(
    app: HookApp,
    readonly origin: RequestOrigin,
  ) {
    super(app);
  }

  /** The signed-in record, or null for a guest (an API key or a superuser's record alike). */
  get auth(): HookRecord | null {
    return this.origin.auth ? new HookRecord(this.origin.auth) : null;
  }

  /** `method`, `url` (path and query), `ip`, and `headers` (lower-case names). */
  get request(): { method: string; url: string; ip: string; headers: Readonly<Record<string, string | string[] | undefined>>; header(name: string): string } {
    const o = this.origin;
    return {
      method: o.method,
      url: o.url,
      ip: o.ip,
      headers: o.headers,
      header: (name: string) => {
        const v = o.headers[name.toLowerCase()];
        return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
      },
    };
  }

  requestInfo(): HookRequestInfo {
    const info = this.origin.info;
    return { auth: this.auth, body: { ...info.body }, query: { ...info.query }, headers: { ...info.headers }, method: info.method, context: info.context };
  }

  pathValue(name: string): string {
    return this.origin.params[name] ?? '';
  }

  /** Answers with `status` and a JSON body, in place of the default answer. */
  json(status: number, body: unknown): void {
    this.respond({ status, body });
  }

  string(status: number, text: string): void {
    this.respond({ status, body: text, type: 'text/plain; charset=utf-8' });
  }

  html(status: number, html: string): void {
    this.respond({ status, body: html, type: 'text/html; charset=utf-8' });
  }

  /**
   * Streams the answer: `source` is any async iterable of strings or bytes (an async generator, a
   * file stream). For server-sent events use `text/event-stream` and yield `data: …\n\n` chunks.
   */
  stream(status: number, type: string, source: AsyncIterable<string | Uint8Array>, headers: Record<string, string> = {}): void {
    this.respond({ status, body: source, type, headers });
  }

  noContent(status = 204): void {
    this.respond({ status, body: undefined });
  }

  redirect(status: number, url: string): void {
    this.respond({ status, body: undefined, headers: { location: url } });
  }

  private respond(response: HookResponse): void {
    if (!Number.isInteger(response.status) || response.status < 100 || response.status > 599) throw new RangeError(`invalid HTTP status ${response.status}`);
    this.origin.response = response;
  }
}

/** `onRecordCreate`, `onRecordUpdate`, `onRecordDelete`, `onRecordValidate`, `onRecordAfter…Success`. */
export class RecordEvent extends BaseEvent {
  constructor(
    app: HookApp,
    public record: HookRecord,
  ) {
    super(app);
  }

  get collection(): Collection {
    return this.record.collection();
  }
}

/** What `e.transition` tells about a workflow transition. */
export interface TransitionInfo {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly comment: string;
  /** The auth record that took it (`{collectionId, id}`); null for a timer (Basalt itself) or an API key. */
  readonly by: { collectionId: string; id: string } | null;
}

/**
 * `onRecordTransition` (around the update a transition is, inside its transaction: set values on
 * `e.record`, or throw to refuse) and `onRecordAfterTransitionSuccess` (after the commit).
 */
export class RecordTransitionEvent extends RecordEvent {
  constructor(
    app: HookApp,
    record: HookRecord,
    readonly transition: TransitionInfo,
  ) {
    super(app, record);
  }
}

/** `onRecordAfterCreateError` and the like: the write failed and rolled back. */
export class RecordErrorEvent extends RecordEvent {
  constructor(
    app: HookApp,
    record: HookRecord,
    readonly error: unknown,
  ) {
    super(app, record);
  }
}

/** `onRecordCreateRequest`, `onRecordUpdateRequest`, `onRecordDeleteRequest`. */
export class RecordRequestEvent extends RequestEventBase {
  constructor(
    app: HookApp,
    origin: RequestOrigin,
    public record: HookRecord,
  ) {
    super(app, origin);
  }

  get collection(): Collection {
    return this.record.collection();
  }
}

/**
 * `onRecordAuthRequest`: the answer of every sign-in (password, OAuth2, OTP, authenticator app,
 * refresh, impersonation). A handler may change `e.token` or `e.meta`, answer itself, or refuse
 * by throwing; `e.authMethod` says which flow it was.
 */
export class RecordAuthEvent extends RequestEventBase {
  constructor(
    app: HookApp,
    origin: RequestOrigin,
    public record: HookRecord,
    public token: string,
    public meta: unknown,
    readonly authMethod: string,
  ) {
    super(app, origin);
  }

  get collection(): Collection {
    return this.record.collection();
  }
}

/** Custom routes (`routerAdd`). */
export class RouteEvent extends RequestEventBase {
  constructor(
    app: HookApp,
    origin: RequestOrigin,
    /** The parsed body: JSON, form fields, or multipart fields (files in `files`). */
    readonly body: unknown,
  ) {
    super(app, origin);
  }
}

/**
 * A record as a client is about to receive it (`onRecordEnrich`): `set` adds or replaces a
 * field of the answer, `hide` removes fields, `get` reads what the answer holds.
 */
export class EnrichedRecord {
  constructor(
    private readonly json: Record<string, unknown>,
    private readonly definition: Collection,
  ) {}

  get id(): string {
    return String(this.json.id ?? '');
  }

  collection(): Collection {
    return this.definition;
  }

  get(name: string): unknown {
    return this.json[name];
  }

  set(name: string, value: unknown): this {
    if (name === 'id' || name === 'collectionId' || name === 'collectionName') throw new Error(`onRecordEnrich: "${name}" cannot be changed`);
    this.json[name] = value;
    return this;
  }

  hide(...names: string[]): this {
    for (const name of names) if (name !== 'id' && name !== 'collectionId' && name !== 'collectionName') delete this.json[name];
    return this;
  }
}

/** `onRecordEnrich`: every record answered to a client (lists, views, writes, expands, realtime). */
export class RecordEnrichEvent extends BaseEvent {
  constructor(
    app: HookApp,
    readonly record: EnrichedRecord,
    private readonly info: HookRequestInfo,
  ) {
    super(app);
  }

  get collection(): Collection {
    return this.record.collection();
  }

  requestInfo(): HookRequestInfo {
    return this.info;
  }
}

/**
 * `onCollectionCreate`, `onCollectionUpdate`, `onCollectionDelete` (inside the schema change's
 * transaction; refuse by throwing) and their `onCollectionAfter…Success`. `e.collection` is the
 * definition as saved (as it was, for a delete); changing it has no effect.
 */
export class CollectionEvent extends BaseEvent {
  constructor(
    app: HookApp,
    readonly collection: Collection,
  ) {
    super(app);
  }
}

/** `onMailerSend`: every email Basalt sends; change `e.message`, or skip the send by not calling `e.next()`. */
export class MailerEvent extends BaseEvent {
  constructor(
    app: HookApp,
    public message: MailMessage,
  ) {
    super(app);
  }
}

/** `onBootstrap`, `onServe`, `onTerminate`. */
export class LifecycleEvent extends BaseEvent {}
