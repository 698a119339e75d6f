/**
 * The one context object a record write carries through its pipeline steps (normalise the body →
 * auth fields → files → rule → validate → persist → after-commit): which collection, who writes,
 * in which transaction, the values being written, the errors found so far. Hooks see the write
 * through it, and change `record.values` before the steps that follow them.
 */
import type { RawBuilder } from 'kysely';
import type { Caller } from '../caller.js';
import type { CollectionModel, SchemaView } from '../../model/collection-model.js';
import type { RecordModel } from '../../model/record-model.js';
import type { ErrorData } from '../../errors.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Tx } from '../../events/transaction.js';
import type { Clock, Database, Logger } from '../../ports.js';
import type { RecordFiles, StagedUploads } from '../../files/record-files.js';
import type { UploadedFile } from '../../files/uploaded-file.js';
import type { UploadPlan } from '../../files/upload-plan.js';
import type { RecordWriteHooks } from '../../hooks/record-write-hooks.js';
import type { CountDeltas } from '../count-deltas.js';

export type WriteAction = 'create' | 'update' | 'delete';

export interface WriteInput {
  data: Record<string, unknown>;
  /** Uploaded file parts, keyed by their form field name (`avatar`, `avatar+`, `+avatar`). */
  files?: UploadedFile[];
  /**
   * Set by the workflow engine only (never from a request body): this update is the transition
   * `name`, the one kind of write allowed to change the workflow's state field.
   */
  transition?: WriteTransition;
}

/** A workflow transition an update carries (`w.transition`): what other steps and hooks read about it. */
export interface WriteTransition {
  name: string;
  from: string;
  to: string;
  /** The caller's comment ('' when none). */
  comment: string;
  /** The auth record that took it; null for Basalt itself (a timer) or an API key. */
  by: { collectionId: string; id: string } | null;
}

/**
 * The workflow side of writes (core/workflows): history, approvals, timers and effects of a state
 * entered, in the write's transaction.
 */
export interface WorkflowWrites {
  /** A record entered a state: its create (the initial state) or a transition. Runs after the write's SQL. */
  entered(w: WriteContext): Promise<void>;
}

/**
 * The HTTP request a write answers, when it answers one (a record route or a batch
 * sub-request): what the `…Request` hooks see. Opaque to the pipeline.
 */
export type WriteOrigin = object;

export interface WriterDeps {
  db: Database;
  schema: SchemaView;
  clock: Clock;
  events: EventBus;
  logger: Logger;
  /** Stores uploads and deletes replaced files in step with the write transactions. */
  files: RecordFiles;
  /** Records one delete may change through its relations (deleted or unlinked), itself included. @default 10000 */
  maxCascadeRecords?: number;
  /** The record hooks in force (they change when hook files are reloaded). @default none */
  hooks?: () => RecordWriteHooks;
  /** Stored list totals carried across writes (count-deltas.ts). @default none */
  countDeltas?: CountDeltas;
  /** What entering a workflow state writes besides the record. @default nothing */
  workflows?: WorkflowWrites;
  /** Where committed writes are announced to other systems inside the transaction (the webhook outbox). @default none */
  outbox?: RecordOutbox;
}

/** Called inside the write's transaction for every record written: a create or update after its row is written, a delete before. */
export interface RecordOutbox {
  /** `transition`: the workflow transition an update is (docs/workflows.md), delivered with it. */
  recordWritten(tx: Tx, action: WriteAction, record: RecordModel, previous: RecordModel | null, transition?: WriteTransition): Promise<void>;
  /**
   * The announcements of a create or update, prepared just before its row is written (the record
   * is final by then); null when nothing listens. See OutboxWrite.
   */
  prepare(action: 'create' | 'update', record: RecordModel, previous: RecordModel | null, transition?: WriteTransition): OutboxWrite | null;
}

/**
 * A write's announcements, in two parts: `companion`, an INSERT the persist step may run as part
 * of the row's own statement (a data-modifying CTE, on engines that have them: on PostgreSQL one
 * round trip instead of two, each costing the node ~30 µs of system time), and `finish`, called
 * once the row is written, which does the rest — all of it when the companion was not carried,
 * and in any case the endpoints whose filter must see the written row.
 */
export interface OutboxWrite {
  readonly companion: (() => RawBuilder<unknown>) | null;
  finish(tx: Tx, carried: boolean): Promise<void>;
}

export interface WriteContext {
  readonly action: WriteAction;
  readonly collection: CollectionModel;
  readonly caller: Caller;
  readonly input: WriteInput;
  readonly origin: WriteOrigin | undefined;
  /** The transaction, once it has begun (every step after the body's normalisation runs in it). */
  tx: Tx;
  /** What is being written: the new record (create), the record with its new values (update), the record (delete). */
  record: RecordModel;
  /** The record as stored before the write (update, delete). */
  previous: RecordModel | null;
  /** Field errors found so far: any at the validate step refuses the write with all of them. */
  readonly errors: ErrorData;
  /** Fields whose value the body (or a hook) set. */
  touched: Set<string>;
  /** passwordConfirm / oldPassword, when submitted. */
  extras: Record<string, unknown>;
  /** `@request.body` as the rules see it. */
  bodyForRules: Record<string, unknown>;
  /** The caller may set the manager-only auth fields (email, verified) of this record. */
  canManage: boolean;
  /** The stored hash `oldPassword` matched before the transaction (null: it did not, or none given). */
  oldPasswordHash: string | null;
  /** Passwords hashed ahead of the transaction (bcrypt is slow: never under the write lock). */
  hashes: Map<string, string>;
  uploads: UploadPlan;
  staged: StagedUploads | null;
  /** The failure message of the action (`Failed to create record.`…). */
  readonly failMessage: string;
  /** The workflow transition this update is, or null for any other write. */
  readonly transition: WriteTransition | null;
  /** Whether the persist step ran the row's statement (an update that changes nothing runs none). */
  rowWritten?: boolean;
}
