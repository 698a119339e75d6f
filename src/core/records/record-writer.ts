/**
 * Record writes (spec §1.2): create, update and delete, each a pipeline of named steps over one
 * WriteContext (records/write/): normalise the body → auth fields → files → rule → validate →
 * persist → after commit. Hooks wrap the steps (the `…Request` hooks the whole write, the model
 * hooks validation and persistence, `onRecordValidate` validation) and run inside the write's
 * transaction; after-success hooks run once it has committed. Every record write goes through
 * here: HTTP, batch, auth flows, cascades, truncate, hooks and jobs.
 */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { SUPERUSERS_COLLECTION_ID } from '../model/collection-types.js';
import { badRequest, forbidden, MESSAGES, notFound } from '../errors.js';
import { transact, type Tx } from '../events/transaction.js';
import type { Database } from '../ports.js';
import { nowText } from '../clock.js';
import type { Field } from '../model/collection-types.js';
import type { RecordModel } from '../model/record-model.js';
import { NO_UPLOADS } from '../files/upload-plan.js';
import { NO_RECORD_HOOKS, type RecordWriteHooks } from '../hooks/record-write-hooks.js';
import { asSystem, assertScope, createsFirstSuperuser, systemCaller, type Caller } from './caller.js';
import { CascadeEffects, deleteWithCascade, type CascadeChange, type CascadeWrites } from './cascade.js';
import { codecOf } from './record-codec.js';
import { findRecord } from './record-reader.js';
import { ROOT, ruleAllows } from './record-query.js';
import { checkOldPassword, finalizePasswords, prehashPasswords } from './write/auth-fields-step.js';
import { commitFiles, planFiles, stageFiles } from './write/files-step.js';
import { normaliseBody, zeroValues } from './write/normalise-step.js';
import { deleteRow, insertRecord, updateRecord } from './write/persist-step.js';
import { checkWriteRule } from './write/rule-step.js';
import { validateWrite } from './write/validate-step.js';
import { announceAfterCommit } from './write/announce-step.js';
import { enterState, startState } from './write/workflow-step.js';
import type { RequestOrigin } from '../hooks/request-origin.js';
import type { WriteAction, WriteContext, WriteInput, WriteOrigin, WriterDeps } from './write/write-context.js';

export type { WriteInput, WriterDeps, WriteOrigin } from './write/write-context.js';

/**
 * What can be refused before anything is read or looked up: a view collection, an API key out
 * of scope, a superusers-only rule. The routes call it before reading a body, so a guest cannot
 * make the server take in a large upload that was never going to be accepted.
 */
export function assertMayWrite(collection: CollectionModel, action: WriteAction, caller: Caller): void {
  if (collection.isView) throw badRequest(MESSAGES.unsupportedCollectionType);
  assertScope(caller, collection, action);
  const rule = action === 'create' ? collection.rules.create : action === 'update' ? collection.rules.update : collection.rules.delete;
  if (!caller.can.bypassesRules && rule.kind === 'locked' && !createsFirstSuperuser(collection, action, caller)) throw forbidden(MESSAGES.superusersOnly);
}

const FAIL_MESSAGES: Record<WriteAction, string> = { create: MESSAGES.createFailed, update: MESSAGES.updateFailed, delete: MESSAGES.deleteFailed };

/** A fresh context; the steps fill it in. */
function newContext(action: WriteAction, collection: CollectionModel, caller: Caller, input: WriteInput, origin: WriteOrigin | undefined, record: RecordModel): WriteContext {
  return {
    action,
    collection,
    caller,
    input,
    origin,
    tx: undefined as unknown as Tx,
    record,
    previous: null,
    errors: {},
    touched: new Set(),
    extras: {},
    bodyForRules: {},
    canManage: caller.can.bypassesRules,
    oldPasswordHash: null,
    hashes: new Map(),
    uploads: NO_UPLOADS,
    staged: null,
    failMessage: FAIL_MESSAGES[action],
    transition: action === 'update' ? (input.transition ?? null) : null,
  };
}

/** Thrown inside a write transaction when the collection changed since the write started. */
const STALE_MODEL = Symbol('stale collection model');

export class RecordWriter {
  constructor(private readonly deps: WriterDeps) {}

  private hooks(): RecordWriteHooks {
    return this.deps.hooks?.() ?? NO_RECORD_HOOKS;
  }

  private ctx(db: Database) {
    return { db, schema: this.deps.schema, clock: this.deps.clock };
  }

  /** Does the caller satisfy the manageRule of `record` (auth collections)? */
  private async canManage(db: Database, record: RecordModel, caller: Caller): Promise<boolean> {
    if (caller.can.bypassesRules) return true;
    const c = record.collection;
    // An empty manageRule does not open management to everyone: only superusers manage then.
    if (!c.isAuth || c.rules.manage.kind !== 'filter' || !caller.auth) return false;
    return ruleAllows(this.ctx(db), c, String(record.values.id), c.rules.manage, caller);
  }

  /**
   * Runs a write with the collection as it is now. A write queued behind a schema change must not
   * use the definition it was called with: inside the transaction (after the schema lock) the
   * model is checked against the catalogue, and the write starts over on the new one.
   */
  private async withCurrentModel<T>(collection: CollectionModel, write: (model: CollectionModel) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const model = this.deps.schema.find(collection.id);
      if (!model) throw notFound(MESSAGES.missingCollection);
      try {
        return await write(model);
      } catch (err) {
        if (err !== STALE_MODEL || attempt >= 2) throw err === STALE_MODEL ? new Error('the collection kept changing during the write') : err;
      }
    }
  }

  /** The transaction's first statements: the shared schema lock, and the model still current under it. */
  private async begin(w: WriteContext, tx: Tx): Promise<void> {
    w.tx = tx;
    await tx.db.lockSchemaShared();
    if (this.deps.schema.find(w.collection.id) !== w.collection) throw STALE_MODEL;
    (w.origin as RequestOrigin | undefined)?.joinTransaction?.(tx);
  }

  /**
   * The write inside its transaction, with the after-error hooks when it fails and the staged
   * uploads removed when it fails on its own (a shared transaction's rollback does otherwise).
   */
  private async run<T>(w: WriteContext, outer: Tx | undefined, body: (tx: Tx) => Promise<T>): Promise<T> {
    const hooks = this.hooks();
    try {
      return await transact(this.deps.db, body, outer, this.deps.logger);
    } catch (err) {
      if (!outer) await w.staged?.discard();
      if (err !== STALE_MODEL) await hooks.afterError(w, err);
      throw err;
    }
  }

  /** Runs the row's statement, with the stored list totals evaluated around it (count-deltas.ts). */
  private async persisting(w: WriteContext, write: () => Promise<void>): Promise<void> {
    const deltas = this.deps.countDeltas;
    if (!deltas) return write();
    w.rowWritten = false;
    await deltas.around(w.tx, w.collection, String(w.action === 'create' ? w.record.values.id : w.previous!.values.id), w.action, async () => {
      await write();
      return w.rowWritten === true;
    });
  }

  /** Validation and persistence of a create or update, wrapped in the model and validate hooks. */
  private async save(w: WriteContext, hooks: RecordWriteHooks): Promise<void> {
    await hooks.model(w, async () => {
      await hooks.validate(w, () => validateWrite(w, this.deps));
      await finalizePasswords(w);
      commitFiles(w, this.deps);
      // The webhook deliveries ride on the row's own statement where the engine allows it.
      const announce = this.deps.outbox?.prepare(w.action as 'create' | 'update', w.record, w.previous, w.transition ?? undefined) ?? null;
      let carried = false;
      await this.persisting(w, async () => {
        carried = w.action === 'create' ? await insertRecord(w, announce?.companion) : await updateRecord(w, announce?.companion);
      });
      await announce?.finish(w.tx, carried);
      await enterState(w, this.deps);
      announceAfterCommit(w, this.deps, hooks);
    });
  }

  async create(collection: CollectionModel, input: WriteInput, caller: Caller, outer?: Tx, origin?: WriteOrigin): Promise<RecordModel> {
    return this.withCurrentModel(collection, (model) => this.createWith(model, input, caller, outer, origin));
  }

  private async createWith(collection: CollectionModel, input: WriteInput, caller: Caller, outer?: Tx, origin?: WriteOrigin): Promise<RecordModel> {
    assertMayWrite(collection, 'create', caller);
    const w = newContext('create', collection, caller, input, origin, { collection, values: {} });
    await planFiles(w);
    normaliseBody(w, this.deps, zeroValues(w));
    startState(w);
    await prehashPasswords(w);
    await stageFiles(w, this.deps, String(w.record.values.id), outer);
    const hooks = this.hooks();
    return this.run(w, outer, async (tx) => {
      await this.begin(w, tx);
      await checkWriteRule(w, this.deps);
      await hooks.request(w, () => this.save(w, hooks));
      return w.record;
    });
  }

  async update(collection: CollectionModel, id: string, input: WriteInput, caller: Caller, outer?: Tx, origin?: WriteOrigin): Promise<RecordModel> {
    return this.withCurrentModel(collection, (model) => this.updateWith(model, id, input, caller, outer, origin));
  }

  private async updateWith(collection: CollectionModel, id: string, input: WriteInput, caller: Caller, outer?: Tx, origin?: WriteOrigin): Promise<RecordModel> {
    assertMayWrite(collection, 'update', caller);
    const w = newContext('update', collection, caller, input, origin, { collection, values: { id } });
    if (outer) w.tx = outer;
    await checkOldPassword(w, this.deps, id);
    await prehashPasswords(w);
    await planFiles(w);
    await stageFiles(w, this.deps, id, outer);
    const hooks = this.hooks();
    return this.run(w, outer, async (tx) => {
      await this.begin(w, tx);
      // Found past the rule (the lock comes first); the update rule is checked with the new body.
      const existing = await findRecord(this.ctx(tx.db), collection, id, asSystem(caller), collection.rules.update, true);
      if (!existing) throw notFound();
      w.previous = existing;
      w.canManage = await this.canManage(tx.db, existing, caller);
      normaliseBody(w, this.deps, existing.values);
      await checkWriteRule(w, this.deps);
      const write = () => hooks.request(w, () => this.save(w, hooks));
      // A transition's own hooks (onRecordTransition) wrap the update it is.
      if (w.transition) await hooks.transition(w, write);
      else await write();
      return w.record;
    });
  }

  async delete(collection: CollectionModel, id: string, caller: Caller, outer?: Tx, origin?: WriteOrigin): Promise<void> {
    await this.withCurrentModel(collection, (model) => this.deleteWith(model, id, caller, outer, origin));
  }

  private async deleteWith(collection: CollectionModel, id: string, caller: Caller, outer?: Tx, origin?: WriteOrigin): Promise<void> {
    assertMayWrite(collection, 'delete', caller);
    const w = newContext('delete', collection, caller, { data: {} }, origin, { collection, values: { id } });
    const hooks = this.hooks();
    await this.run(w, outer, async (tx) => {
      await this.begin(w, tx);
      const record = await findRecord(this.ctx(tx.db), collection, id, caller, collection.rules.delete);
      if (!record) throw notFound();
      w.record = record;
      w.previous = record;
      if (collection.id === SUPERUSERS_COLLECTION_ID) await assertNotLastSuperuser(tx.db, collection);
      await hooks.request(w, () => hooks.model(w, () => this.deleteCascading(w, tx, hooks)));
    });
  }

  /** Deletes `w.record` and what its relations take with it; each change announced after the commit. */
  private async deleteCascading(w: WriteContext, tx: Tx, hooks: RecordWriteHooks): Promise<void> {
    const effects = new CascadeEffects(nowText(this.deps.clock), this.deps.maxCascadeRecords);
    await deleteWithCascade(tx.db, this.deps.schema, w.record, effects, this.cascadeWrites(w, tx, hooks), new Set());
    this.deps.files.deleteRecordsAfterCommit(tx, effects.deleted);
    this.announceCascade(w, tx, hooks, effects);
  }

  /**
   * The rows a cascade deletes or rewrites, as writes of the system principal: each in its model
   * hooks (`onRecordDelete`, `onRecordUpdate`), as PocketBase runs them for cascades.
   */
  private cascadeWrites(root: WriteContext | null, tx: Tx, hooks: RecordWriteHooks): CascadeWrites {
    return {
      deleteRow: async (record, depth) => {
        // Before the row goes: an endpoint's filter is checked against it.
        await this.deps.outbox?.recordWritten(tx, 'delete', record, null);
        if (depth === 0 && root) return this.persisting(root, () => deleteRow(root));
        const w = this.systemContext({ type: 'delete', record }, tx);
        await hooks.model(w, async () => {
          await tx.db.kysely.deleteFrom(record.collection.table).where('id', '=', String(record.values.id)).execute();
        });
      },
      updateRow: async (record, previous, changed: Field[]) => {
        const w = this.systemContext({ type: 'update', record, previous }, tx);
        await hooks.model(w, async () => {
          const values = w.record.values;
          await tx.db.kysely.updateTable(record.collection.table).set(codecOf(record.collection).encode(values, changed)).where('id', '=', String(previous.values.id)).execute();
          await this.deps.outbox?.recordWritten(tx, 'update', w.record, previous);
        });
      },
    };
  }

  private systemContext(change: CascadeChange, tx: Tx): WriteContext {
    const w = newContext(change.type, change.record.collection, systemCaller(), { data: {} }, undefined, change.record);
    w.tx = tx;
    w.previous = change.type === 'update' ? change.previous : change.record;
    return w;
  }

  private announceCascade(root: WriteContext | null, tx: Tx, hooks: RecordWriteHooks, effects: CascadeEffects): void {
    effects.changes.forEach((change, i) => announceAfterCommit(i === 0 && root ? root : this.systemContext(change, tx), this.deps, hooks));
  }

  /** Deletes every record of a collection through the cascade logic (collection truncate). */
  async truncate(tx: Tx, collection: CollectionModel): Promise<void> {
    const codec = codecOf(collection);
    const hooks = this.hooks();
    // One prefix delete for the collection's own files; cascaded records elsewhere go one by one.
    this.deps.files.deleteCollectionAfterCommit(tx, collection.id);
    for (;;) {
      const rows = await tx.db.rows<Record<string, unknown>>(sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} LIMIT 200`);
      if (rows.length === 0) return;
      // NB: bounded per record (its cascade), not per truncate: every record's events wait for the commit.
      for (const row of rows) {
        const effects = new CascadeEffects(nowText(this.deps.clock), this.deps.maxCascadeRecords);
        await deleteWithCascade(tx.db, this.deps.schema, codec.decode(row), effects, this.cascadeWrites(null, tx, hooks));
        this.deps.files.deleteRecordsAfterCommit(tx, effects.deleted, collection.id);
        this.announceCascade(null, tx, hooks, effects);
      }
    }
  }
}

/** The last superuser cannot be deleted: nobody could use the admin API afterwards. */
async function assertNotLastSuperuser(db: Database, collection: CollectionModel): Promise<void> {
  // Locking every superuser row serialises concurrent deletes: the second one counts after the first commits.
  const rows = await db.rows<{ id: string }>(sql`SELECT ${sql.id('id')} FROM ${sql.id(collection.table)} ${db.filter.forUpdate()}`);
  if (rows.length <= 1) throw badRequest("You can't delete the only existing superuser.");
}
