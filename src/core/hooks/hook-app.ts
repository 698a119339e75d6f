/**
 * `e.app`: what hook, route and job code uses to read and write, bound to the transaction it runs
 * in (a before-hook's writes commit or roll back with the write that triggered it). Records are
 * read and written through the same services as the HTTP API — the pipeline, the rules when
 * acting as a user, the client-query gate — and returned as the API returns them.
 */
import type { Kysely } from 'kysely';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import type { RecordModel } from '../model/record-model.js';
import { notFound, MESSAGES } from '../errors.js';
import { transact, type Tx } from '../events/transaction.js';
import type { Clock, Database, Logger } from '../ports.js';
import { callerFor, systemCaller, type Caller } from '../records/caller.js';
import { RecordReader } from '../records/record-reader.js';
import type { RecordEnricher } from '../records/record-query.js';
import type { RecordWriter } from '../records/record-writer.js';
import { presentRecords } from '../records/record-presenter.js';
import { checkClientQuery } from '../records/client-query.js';
import type { ListResult } from '../records/record-reader.js';
import { guestRequest } from '../rules/request-info.js';
import type { UploadedFile } from '../files/uploaded-file.js';
import { bindFilterParams } from './filter-params.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { MailService, OutgoingMail } from '../mail/mail-service.js';
import type { EnqueueOptions, JobJson } from '../jobs/job-types.js';
import { HookRecord } from './hook-record.js';
import type { WorkflowService } from '../workflows/workflow-service.js';

export interface HookAppServices {
  db: Database;
  schema: SchemaView;
  clock: Clock;
  logger: Logger;
  writer: RecordWriter;
  jobs: JobQueue;
  mail: MailService;
  enrich?: RecordEnricher;
  /** Workflow transitions (`records(…).transition`). */
  workflows?: WorkflowService;
}

/** Who a read or write acts as: Basalt itself (the default: past every rule) or a signed-in record. */
export interface ActAs {
  /** Act as this auth record, with the collection's rules applying (null: a guest). @default Basalt itself */
  as?: HookRecord | RecordModel | null;
}

export type JsonRecord = Record<string, unknown>;

export interface ListOptions extends ActAs {
  filter?: string;
  /** Values for `{:name}` placeholders in `filter`. */
  params?: Record<string, unknown>;
  sort?: string;
  expand?: string;
  skipTotal?: boolean;
}

export interface ViewOptions extends ActAs {
  expand?: string;
}

export interface WriteOptions extends ViewOptions {
  files?: UploadedFile[];
}

function modelOf(auth: HookRecord | RecordModel): RecordModel {
  if (auth instanceof HookRecord) return { collection: auth.collectionModel, values: auth.toJSON() };
  return auth;
}

function callerOf(opts: ActAs | undefined): Caller {
  if (!opts || opts.as === undefined) return systemCaller();
  return callerFor(guestRequest({ auth: opts.as === null ? null : modelOf(opts.as) }));
}

/** One collection's records, as `e.app.records('orders')` gives them. */
export class HookRecords {
  constructor(
    private readonly app: HookApp,
    private readonly collection: CollectionModel,
  ) {}

  private get query() {
    return this.app.queryContext();
  }

  async getList(page = 1, perPage = 30, opts: ListOptions = {}): Promise<ListResult<JsonRecord>> {
    const query: Record<string, string> = { page: String(page), perPage: String(perPage) };
    if (opts.filter) query.filter = bindFilterParams(opts.filter, opts.params);
    if (opts.sort) query.sort = opts.sort;
    if (opts.expand) query.expand = opts.expand;
    if (opts.skipTotal) query.skipTotal = 'true';
    return new RecordReader(this.query).list(this.collection, query, callerOf(opts));
  }

  /** The first record matching `filter` (in `sort` order), or null. */
  async getFirst(filter: string, opts: Omit<ListOptions, 'filter'> = {}): Promise<JsonRecord | null> {
    const list = await this.getList(1, 1, { ...opts, filter, skipTotal: true });
    return list.items[0] ?? null;
  }

  /** The record, or a 404 ApiError (as the API answers). */
  async getOne(id: string, opts: ViewOptions = {}): Promise<JsonRecord> {
    const query: Record<string, string> = {};
    if (opts.expand) query.expand = opts.expand;
    return new RecordReader(this.query).view(this.collection, id, query, callerOf(opts));
  }

  async create(data: Record<string, unknown>, opts: WriteOptions = {}): Promise<JsonRecord> {
    const caller = callerOf(opts);
    const record = await this.app.services.writer.create(this.collection, { data, files: opts.files }, caller, this.app.tx ?? undefined);
    return this.present(record, caller, opts);
  }

  async update(id: string, data: Record<string, unknown>, opts: WriteOptions = {}): Promise<JsonRecord> {
    const caller = callerOf(opts);
    const record = await this.app.services.writer.update(this.collection, id, { data, files: opts.files }, caller, this.app.tx ?? undefined);
    return this.present(record, caller, opts);
  }

  /**
   * Takes the workflow transition `name` (docs/workflows.md) in this transaction. As Basalt
   * itself (the default) rules and approvals do not apply; `{ as }` takes it as that record.
   * `body`: an optional `comment` and the fields the transition sets.
   */
  async transition(id: string, name: string, body: Record<string, unknown> = {}, opts: ViewOptions = {}): Promise<JsonRecord> {
    const workflows = this.app.services.workflows;
    if (!workflows) throw new Error('workflows are not available here');
    const caller = callerOf(opts);
    const record = await workflows.transition(this.collection, id, name, body, caller, this.app.tx ?? undefined);
    return this.present(record, caller, opts);
  }

  async delete(id: string, opts: ActAs = {}): Promise<void> {
    await this.app.services.writer.delete(this.collection, id, callerOf(opts), this.app.tx ?? undefined);
  }

  private async present(record: RecordModel, caller: Caller, opts: ViewOptions): Promise<JsonRecord> {
    const query = checkClientQuery({ expand: opts.expand }, caller);
    const [json] = await presentRecords(this.query, [record], caller, query);
    return json!;
  }
}

export class HookApp {
  constructor(
    readonly services: HookAppServices,
    /** The transaction this code runs in, if any. */
    readonly tx: Tx | null,
  ) {}

  get logger(): Logger {
    return this.services.logger;
  }

  /** Kysely on the current transaction (or the database): typed raw SQL, parameterised. */
  get db(): Kysely<any> {
    return (this.tx?.db ?? this.services.db).kysely;
  }

  queryContext() {
    return { db: this.tx?.db ?? this.services.db, schema: this.services.schema, clock: this.services.clock, enrich: this.services.enrich };
  }

  /** The records of a collection (by name or id); an unknown collection is a 404. */
  records(collection: string): HookRecords {
    const model = this.services.schema.find(collection);
    if (!model) throw notFound(MESSAGES.missingCollection);
    return new HookRecords(this, model);
  }

  /** Runs `fn` in a transaction (joining the current one, if any): its writes commit or roll back together. */
  runInTransaction<T>(fn: (app: HookApp) => Promise<T>): Promise<T> {
    return transact(this.services.db, (tx) => fn(this.withTx(tx)), this.tx ?? undefined, this.services.logger);
  }

  /** The same app bound to `tx`. */
  withTx(tx: Tx): HookApp {
    return new HookApp(this.services, tx);
  }

  /**
   * The job queue. Inside a hook `e.app.jobs.enqueue(…)` writes the job in the hook's transaction:
   * it exists only if the write commits (and is not run before it does).
   */
  get jobs(): { enqueue(name: string, payload?: unknown, options?: EnqueueOptions): Promise<JobJson> } {
    return { enqueue: (name, payload, options) => this.services.jobs.enqueue(name, payload, options, this.tx ?? undefined) };
  }

  /** Sends an email through the SMTP settings (and the onMailerSend hooks); throws when SMTP is off or the server refuses. */
  sendMail(mail: OutgoingMail): Promise<void> {
    return this.services.mail.send(mail);
  }

  /** The current time of Basalt's clock, in milliseconds. */
  now(): number {
    return this.services.clock.now();
  }
}
