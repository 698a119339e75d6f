/**
 * The API hook files receive (`export default defineHooks((app) => { … })`) and framework code
 * uses, following PocketBase's JS hooks: `app.onRecordCreate(handler, ...collections)`,
 * `app.routerAdd(method, path, handler, ...middlewares)`, `app.cronAdd(id, expression, handler)`,
 * plus Basalt's `app.jobs`, and the data access of `e.app` (`records`, `db`, `runInTransaction`).
 * Registrations are recorded in HookBindings and take effect together once loading succeeded.
 */
import type { Kysely } from 'kysely';
import type { HookHandler } from './hook.js';
import type { HookApp, HookRecords } from './hook-app.js';
import type { HookBindings, HookName, JobBinding } from './hook-bindings.js';
import type { CollectionEvent, LifecycleEvent, MailerEvent, RecordAuthEvent, RecordEnrichEvent, RecordErrorEvent, RecordEvent, RecordRequestEvent, RecordTransitionEvent, RouteEvent } from './hook-events.js';
import { checkRoute, type RouteMiddleware } from './route-table.js';
import { defineReceiver, receiverRoute, type ReceiverOptions } from '../webhooks/webhook-receiver.js';
import type { WebhookEvent } from '../webhooks/webhook-event.js';
import type { Logger } from '../ports.js';

type Collections = string[];

export interface JobsApi {
  /** Declares a job kind and its handler (see docs/jobs.md). */
  define(name: string, handler: JobBinding['handler'], options?: Record<string, unknown>): void;
  /** Enqueues a job now (outside any transaction); inside a hook use `e.app.jobs.enqueue` to enqueue with the write. */
  enqueue(name: string, payload?: unknown, options?: Record<string, unknown>): Promise<unknown>;
}

export interface WebhooksApi {
  /**
   * An inbound webhook receiver (see docs/webhooks-inbound.md): POST deliveries to `path`
   * (`stripe` → `/api/hooks/stripe`; an absolute path as given) are verified on their raw bytes,
   * stored once per event id, and handed to `handler` in one transaction with what it writes.
   */
  receive(path: string, options: ReceiverOptions, handler: (e: WebhookEvent) => unknown): void;
}

export class HooksApi {
  constructor(
    private readonly bindings: HookBindings,
    /** The file (or "code") registering, for error messages. */
    private readonly source: string,
    /** Data access outside any transaction. */
    private readonly base: HookApp,
    private readonly enqueue: (name: string, payload: unknown, options: Record<string, unknown> | undefined) => Promise<unknown>,
  ) {}

  private add(name: HookName, handler: HookHandler<any>, collections: Collections): void {
    if (typeof handler !== 'function') throw new TypeError(`${name}: the first argument must be the handler function (PocketBase order: handler, then collection names)`);
    for (const c of collections) if (typeof c !== 'string' || c === '') throw new TypeError(`${name}: collection names must be non-empty strings`);
    this.bindings.hooks.push({ name, handler, tags: collections, source: this.source });
  }

  // Record model hooks: inside the write's transaction.
  onRecordCreate(handler: HookHandler<RecordEvent>, ...collections: Collections): void {
    this.add('onRecordCreate', handler, collections);
  }
  onRecordUpdate(handler: HookHandler<RecordEvent>, ...collections: Collections): void {
    this.add('onRecordUpdate', handler, collections);
  }
  onRecordDelete(handler: HookHandler<RecordEvent>, ...collections: Collections): void {
    this.add('onRecordDelete', handler, collections);
  }
  onRecordValidate(handler: HookHandler<RecordEvent>, ...collections: Collections): void {
    this.add('onRecordValidate', handler, collections);
  }
  // Request hooks: writes that answer an HTTP request (record routes and batch sub-requests).
  onRecordCreateRequest(handler: HookHandler<RecordRequestEvent>, ...collections: Collections): void {
    this.add('onRecordCreateRequest', handler, collections);
  }
  onRecordUpdateRequest(handler: HookHandler<RecordRequestEvent>, ...collections: Collections): void {
    this.add('onRecordUpdateRequest', handler, collections);
  }
  onRecordDeleteRequest(handler: HookHandler<RecordRequestEvent>, ...collections: Collections): void {
    this.add('onRecordDeleteRequest', handler, collections);
  }
  // After the commit (or the failure).
  onRecordAfterCreateSuccess(handler: HookHandler<RecordEvent>, ...collections: Collections): void {
    this.add('onRecordAfterCreateSuccess', handler, collections);
  }
  onRecordAfterUpdateSuccess(handler: HookHandler<RecordEvent>, ...collections: Collections): void {
    this.add('onRecordAfterUpdateSuccess', handler, collections);
  }
  onRecordAfterDeleteSuccess(handler: HookHandler<RecordEvent>, ...collections: Collections): void {
    this.add('onRecordAfterDeleteSuccess', handler, collections);
  }
  onRecordAfterCreateError(handler: HookHandler<RecordErrorEvent>, ...collections: Collections): void {
    this.add('onRecordAfterCreateError', handler, collections);
  }
  onRecordAfterUpdateError(handler: HookHandler<RecordErrorEvent>, ...collections: Collections): void {
    this.add('onRecordAfterUpdateError', handler, collections);
  }
  onRecordAfterDeleteError(handler: HookHandler<RecordErrorEvent>, ...collections: Collections): void {
    this.add('onRecordAfterDeleteError', handler, collections);
  }
  /**
   * Around a workflow transition (docs/workflows.md), inside its transaction: `e.transition`
   * ({name, from, to, comment, by}); set values on `e.record`, or throw to refuse.
   */
  onRecordTransition(handler: HookHandler<RecordTransitionEvent>, ...collections: Collections): void {
    this.add('onRecordTransition', handler, collections);
  }
  /** After a workflow transition committed (failures are logged). */
  onRecordAfterTransitionSuccess(handler: HookHandler<RecordTransitionEvent>, ...collections: Collections): void {
    this.add('onRecordAfterTransitionSuccess', handler, collections);
  }
  /** Changes every record a client receives: `e.record.set('computed', …)`, `e.record.hide('secret')`. */
  onRecordEnrich(handler: HookHandler<RecordEnrichEvent>, ...collections: Collections): void {
    this.add('onRecordEnrich', handler, collections);
  }
  /** Every sign-in's answer (`e.token`, `e.meta`, `e.authMethod`): change it, or refuse by throwing. */
  onRecordAuthRequest(handler: HookHandler<RecordAuthEvent>, ...collections: Collections): void {
    this.add('onRecordAuthRequest', handler, collections);
  }
  /** Every email Basalt sends (`e.message`: from, to, subject, html, text); skip it by not calling `e.next()`. */
  onMailerSend(handler: HookHandler<MailerEvent>): void {
    this.add('onMailerSend', handler, []);
  }
  /** Around creating, updating, deleting a collection (in the schema change's transaction; throw to refuse). */
  onCollectionCreate(handler: HookHandler<CollectionEvent>, ...collections: Collections): void {
    this.add('onCollectionCreate', handler, collections);
  }
  onCollectionUpdate(handler: HookHandler<CollectionEvent>, ...collections: Collections): void {
    this.add('onCollectionUpdate', handler, collections);
  }
  onCollectionDelete(handler: HookHandler<CollectionEvent>, ...collections: Collections): void {
    this.add('onCollectionDelete', handler, collections);
  }
  onCollectionAfterCreateSuccess(handler: HookHandler<CollectionEvent>, ...collections: Collections): void {
    this.add('onCollectionAfterCreateSuccess', handler, collections);
  }
  onCollectionAfterUpdateSuccess(handler: HookHandler<CollectionEvent>, ...collections: Collections): void {
    this.add('onCollectionAfterUpdateSuccess', handler, collections);
  }
  onCollectionAfterDeleteSuccess(handler: HookHandler<CollectionEvent>, ...collections: Collections): void {
    this.add('onCollectionAfterDeleteSuccess', handler, collections);
  }
  // Lifecycle.
  onBootstrap(handler: HookHandler<LifecycleEvent>): void {
    this.add('onBootstrap', handler, []);
  }
  onServe(handler: HookHandler<LifecycleEvent>): void {
    this.add('onServe', handler, []);
  }
  onTerminate(handler: HookHandler<LifecycleEvent>): void {
    this.add('onTerminate', handler, []);
  }

  /** A custom route, served next to `/api/…` (a path a built-in route already serves is refused). */
  routerAdd(method: string, path: string, handler: (e: RouteEvent) => unknown, ...middlewares: RouteMiddleware[]): void {
    const m = checkRoute(method, path);
    if (typeof handler !== 'function') throw new TypeError(`routerAdd ${m} ${path}: the handler must be a function`);
    for (const mw of middlewares) if (typeof mw !== 'function') throw new TypeError(`routerAdd ${m} ${path}: middlewares must be functions`);
    if (this.bindings.routes.some((r) => r.method === m && r.path === path)) throw new Error(`routerAdd: ${m} ${path} is registered twice`);
    this.bindings.routes.push({ method: m, path, handler, middlewares, source: this.source });
  }

  /** A scheduled job: 5- or 6-field cron expression or a macro (`@hourly`…); each tick runs once per cluster. */
  cronAdd(id: string, expression: string, handler: (run: { id: string; tick: number | null; signal: AbortSignal; app: HookApp }) => unknown, options: { timezone?: string; catchUp?: boolean } = {}): void {
    if (typeof id !== 'string' || id === '' || id.length > 200) throw new TypeError('cronAdd: the id must be a non-empty string (at most 200 characters)');
    if (typeof expression !== 'string' || expression.trim() === '') throw new TypeError(`cronAdd ${id}: the expression must be a non-empty string`);
    if (typeof handler !== 'function') throw new TypeError(`cronAdd ${id}: the handler must be a function`);
    if (this.bindings.crons.some((c) => c.id === id)) throw new Error(`cronAdd: the id "${id}" is registered twice`);
    this.bindings.crons.push({ id, expression, handler, options, source: this.source });
  }

  readonly jobs: JobsApi = {
    define: (name, handler, options = {}) => {
      if (typeof name !== 'string' || name === '' || name.length > 200) throw new TypeError('jobs.define: the name must be a non-empty string (at most 200 characters)');
      if (typeof handler !== 'function') throw new TypeError(`jobs.define ${name}: the handler must be a function`);
      if (this.bindings.jobs.some((j) => j.name === name)) throw new Error(`jobs.define: the job "${name}" is defined twice`);
      this.bindings.jobs.push({ name, handler, options, source: this.source });
    },
    enqueue: (name, payload, options) => this.enqueue(name, payload, options),
  };

  readonly webhooks: WebhooksApi = {
    receive: (path, options, handler) => {
      const receiver = defineReceiver(path, options, handler, this.source);
      if (this.bindings.routes.some((r) => r.method === 'POST' && r.path === receiver.path)) throw new Error(`webhooks.receive: POST ${receiver.path} is registered twice`);
      this.bindings.routes.push(receiverRoute(receiver));
    },
  };

  records(collection: string): HookRecords {
    return this.base.records(collection);
  }

  get db(): Kysely<any> {
    return this.base.db;
  }

  runInTransaction<T>(fn: (app: HookApp) => Promise<T>): Promise<T> {
    return this.base.runInTransaction(fn);
  }

  get logger(): Logger {
    return this.base.logger;
  }
}

/** What a hook file exports: `export default defineHooks((app) => { … })`. */
export type HooksSetup = (app: HooksApi) => void | Promise<void>;

export function defineHooks(setup: HooksSetup): HooksSetup {
  return setup;
}
