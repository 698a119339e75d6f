/**
 * Every hook of an app, and the glue that runs them around the write pipeline (RecordWriteHooks).
 * Events are built only when a handler applies to the collection: a write with no hooks for its
 * collection costs one scan of an empty list per wrapped step.
 */
import type { Tx } from '../events/transaction.js';
import type { Logger, MailMessage } from '../ports.js';
import type { WriteAction, WriteContext } from '../records/write/write-context.js';
import { Hook } from './hook.js';
import type { HookApp } from './hook-app.js';
import { CollectionEvent, EnrichedRecord, LifecycleEvent, MailerEvent, RecordAuthEvent, RecordEnrichEvent, RecordErrorEvent, RecordEvent, RecordRequestEvent, RecordTransitionEvent, type HookRequestInfo } from './hook-events.js';
import type { Caller } from '../records/caller.js';
import type { SchemaView } from '../model/collection-model.js';
import { HookRecord } from './hook-record.js';
import type { RecordWriteHooks } from './record-write-hooks.js';
import type { CollectionWriteHooks } from './collection-write-hooks.js';
import type { RequestOrigin } from './request-origin.js';

type ByAction<T> = Record<WriteAction, T>;

const tagsOf = (w: WriteContext) => [w.collection.id, w.collection.name];

export class HookRegistry implements RecordWriteHooks {
  readonly onRecordCreate = new Hook<RecordEvent>();
  readonly onRecordUpdate = new Hook<RecordEvent>();
  readonly onRecordDelete = new Hook<RecordEvent>();
  readonly onRecordValidate = new Hook<RecordEvent>();
  readonly onRecordCreateRequest = new Hook<RecordRequestEvent>();
  readonly onRecordUpdateRequest = new Hook<RecordRequestEvent>();
  readonly onRecordDeleteRequest = new Hook<RecordRequestEvent>();
  readonly onRecordAfterCreateSuccess = new Hook<RecordEvent>();
  readonly onRecordAfterUpdateSuccess = new Hook<RecordEvent>();
  readonly onRecordAfterDeleteSuccess = new Hook<RecordEvent>();
  readonly onRecordAfterCreateError = new Hook<RecordErrorEvent>();
  readonly onRecordAfterUpdateError = new Hook<RecordErrorEvent>();
  readonly onRecordAfterDeleteError = new Hook<RecordErrorEvent>();
  readonly onRecordTransition = new Hook<RecordTransitionEvent>();
  readonly onRecordAfterTransitionSuccess = new Hook<RecordTransitionEvent>();
  readonly onRecordEnrich = new Hook<RecordEnrichEvent>();
  readonly onRecordAuthRequest = new Hook<RecordAuthEvent>();
  readonly onMailerSend = new Hook<MailerEvent>();
  readonly onCollectionCreate = new Hook<CollectionEvent>();
  readonly onCollectionUpdate = new Hook<CollectionEvent>();
  readonly onCollectionDelete = new Hook<CollectionEvent>();
  readonly onCollectionAfterCreateSuccess = new Hook<CollectionEvent>();
  readonly onCollectionAfterUpdateSuccess = new Hook<CollectionEvent>();
  readonly onCollectionAfterDeleteSuccess = new Hook<CollectionEvent>();
  readonly onBootstrap = new Hook<LifecycleEvent>();
  readonly onServe = new Hook<LifecycleEvent>();
  readonly onTerminate = new Hook<LifecycleEvent>();

  private readonly models: ByAction<Hook<RecordEvent>> = { create: this.onRecordCreate, update: this.onRecordUpdate, delete: this.onRecordDelete };
  private readonly requests: ByAction<Hook<RecordRequestEvent>> = { create: this.onRecordCreateRequest, update: this.onRecordUpdateRequest, delete: this.onRecordDeleteRequest };
  private readonly success: ByAction<Hook<RecordEvent>> = { create: this.onRecordAfterCreateSuccess, update: this.onRecordAfterUpdateSuccess, delete: this.onRecordAfterDeleteSuccess };
  private readonly failure: ByAction<Hook<RecordErrorEvent>> = { create: this.onRecordAfterCreateError, update: this.onRecordAfterUpdateError, delete: this.onRecordAfterDeleteError };

  constructor(
    /** The app hook code receives, bound to a transaction or not. */
    private readonly appFor: (tx: Tx | null) => HookApp,
    private readonly logger: Logger,
    private readonly schema: () => SchemaView,
  ) {}

  private recordOf(w: WriteContext): HookRecord {
    return new HookRecord(w.record, { isNew: w.action === 'create', touched: w.touched, errors: w.errors }, w.previous);
  }

  async request(w: WriteContext, next: () => Promise<void>): Promise<void> {
    const hook = this.requests[w.action];
    const tags = tagsOf(w);
    if (!w.origin || !hook.handles(tags)) return next();
    const event = new RecordRequestEvent(this.appFor(w.tx), w.origin as RequestOrigin, this.recordOf(w));
    await hook.trigger(event, () => next(), tags);
  }

  async model(w: WriteContext, next: () => Promise<void>): Promise<void> {
    const hook = this.models[w.action];
    const tags = tagsOf(w);
    if (!hook.handles(tags)) return next();
    await hook.trigger(new RecordEvent(this.appFor(w.tx), this.recordOf(w)), () => next(), tags);
  }

  async validate(w: WriteContext, next: () => Promise<void>): Promise<void> {
    const tags = tagsOf(w);
    if (!this.onRecordValidate.handles(tags)) return next();
    await this.onRecordValidate.trigger(new RecordEvent(this.appFor(w.tx), this.recordOf(w)), () => next(), tags);
  }

  async afterSuccess(w: WriteContext): Promise<void> {
    const hook = this.success[w.action];
    const tags = tagsOf(w);
    if (!hook.handles(tags)) return;
    // After the commit: the app is no longer bound to the write's transaction.
    await this.guarded(`onRecordAfter${capital(w.action)}Success`, () => hook.trigger(new RecordEvent(this.appFor(null), new HookRecord(w.record, null, w.previous)), async () => {}, tags));
  }

  async afterError(w: WriteContext, error: unknown): Promise<void> {
    const hook = this.failure[w.action];
    const tags = tagsOf(w);
    if (!hook.handles(tags)) return;
    await this.guarded(`onRecordAfter${capital(w.action)}Error`, () => hook.trigger(new RecordErrorEvent(this.appFor(null), new HookRecord(w.record, null, w.previous), error), async () => {}, tags));
  }

  async transition(w: WriteContext, next: () => Promise<void>): Promise<void> {
    const tags = tagsOf(w);
    if (!w.transition || !this.onRecordTransition.handles(tags)) return next();
    const event = new RecordTransitionEvent(this.appFor(w.tx), this.recordOf(w), { ...w.transition });
    await this.onRecordTransition.trigger(event, () => next(), tags);
  }

  async afterTransition(w: WriteContext): Promise<void> {
    const tags = tagsOf(w);
    if (!w.transition || !this.onRecordAfterTransitionSuccess.handles(tags)) return;
    const event = new RecordTransitionEvent(this.appFor(null), new HookRecord(w.record, null, w.previous), { ...w.transition });
    await this.guarded('onRecordAfterTransitionSuccess', () => this.onRecordAfterTransitionSuccess.trigger(event, async () => {}, tags));
  }

  /**
   * The onRecordEnrich hooks over records as exported for `caller` (and the records they expand).
   * With no handler it returns at once: reads pay nothing for the hook's existence.
   */
  async enrich(records: Record<string, unknown>[], caller: Caller): Promise<void> {
    if (this.onRecordEnrich.size === 0) return;
    const info = caller.info;
    const requestInfo: HookRequestInfo = {
      auth: info.auth ? new HookRecord(info.auth) : null,
      body: info.body,
      query: info.query,
      headers: info.headers,
      method: info.method,
      context: info.context,
    };
    const app = this.appFor(null);
    const visit = async (json: Record<string, unknown>): Promise<void> => {
      const collection = this.schema().find(String(json.collectionId ?? ''));
      if (collection) {
        const tags = [collection.id, collection.name];
        if (this.onRecordEnrich.handles(tags)) await this.onRecordEnrich.trigger(new RecordEnrichEvent(app, new EnrichedRecord(json, collection.data), requestInfo), async () => {}, tags);
      }
      const expand = json.expand;
      if (expand && typeof expand === 'object') {
        for (const value of Object.values(expand as Record<string, unknown>)) {
          for (const child of Array.isArray(value) ? value : [value]) if (child && typeof child === 'object') await visit(child as Record<string, unknown>);
        }
      }
    };
    for (const json of records) await visit(json);
  }

  /** The collection hooks, as the collection service calls them (CollectionWriteHooks). */
  readonly collections: CollectionWriteHooks = {
    change: async (action, collection, tx, next) => {
      const hook = { create: this.onCollectionCreate, update: this.onCollectionUpdate, delete: this.onCollectionDelete }[action];
      const tags = [collection.id, collection.name];
      if (!hook.handles(tags)) return next();
      await hook.trigger(new CollectionEvent(this.appFor(tx), collection), () => next(), tags);
    },
    afterSuccess: async (action, collection) => {
      const hook = { create: this.onCollectionAfterCreateSuccess, update: this.onCollectionAfterUpdateSuccess, delete: this.onCollectionAfterDeleteSuccess }[action];
      const tags = [collection.id, collection.name];
      if (!hook.handles(tags)) return;
      await this.guarded(`onCollectionAfter${capital(action)}Success`, () => hook.trigger(new CollectionEvent(this.appFor(null), collection), async () => {}, tags));
    },
  };

  /** The onMailerSend hooks around one send (the app binds this to its mail service). */
  async mailerSend(message: MailMessage, send: (message: MailMessage) => Promise<void>): Promise<void> {
    if (this.onMailerSend.size === 0) return send(message);
    const event = new MailerEvent(this.appFor(null), message);
    await this.onMailerSend.trigger(event, (e) => send(e.message));
  }

  /** Runs a lifecycle hook around `action`. */
  lifecycle(hook: Hook<LifecycleEvent>, action: () => Promise<void> = async () => {}): Promise<void> {
    return hook.trigger(new LifecycleEvent(this.appFor(null)), action);
  }

  /** A hook whose failure cannot change the outcome (the write already committed or failed): logged. */
  private async guarded(name: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      this.logger.error({ err, hook: name }, 'hook handler failed');
    }
  }
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
