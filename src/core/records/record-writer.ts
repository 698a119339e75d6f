/**
 * Record writes (spec §1.2): create, update and delete, each validated, checked against the
 * collection rules with PocketBase's status mapping, and written atomically. Unique violations
 * become field errors; after-commit events announce what was written.
 */
import { deriveRequest } from '../rules/request-info.js';
import { sql } from 'kysely';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import { PasswordInput } from '../collections/fields/password-field.js';
import { autogenerateText } from '../collections/fields/text-field.js';
import { SUPERUSERS_COLLECTION_ID } from '../model/collection-types.js';
import { badRequest, fieldError, forbidden, MESSAGES, notFound, type ErrorData } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { transact, type Tx } from '../events/transaction.js';
import type { Clock, Database, Logger } from '../ports.js';
import { nowText } from '../clock.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { asSystem, assertScope, systemCaller, type Caller } from './caller.js';
import { CascadeEffects, deleteWithCascade } from './cascade.js';
import { passesCreateRule } from './create-rule-check.js';
import { applyBody } from './record-body.js';
import { codecOf } from './record-codec.js';
import { compiledTemplate } from '../compiled-query.js';
import { findRecord } from './record-reader.js';
import { ROOT, ruleAllows } from './record-query.js';
import { checkRelations, uniqueErrors, validateValues } from './record-validation.js';
import type { RecordModel, RecordValues } from '../model/record-model.js';
import type { UploadedFile } from '../files/uploaded-file.js';
import type { RecordFiles, StagedUploads } from '../files/record-files.js';
import { checkUploads, keptUploads, planUploads, type UploadPlan } from '../files/upload-plan.js';
import { valuesOf } from '../collections/fields/multi-value.js';

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
}

export interface WriteInput {
  data: Record<string, unknown>;
  /** Uploaded file parts, keyed by their form field name (`avatar`, `avatar+`, `+avatar`). */
  files?: UploadedFile[];
}

/**
 * What can be refused before anything is read or looked up: a view collection, an API key out
 * of scope, a superusers-only rule. The routes call it before reading a body, so a guest cannot
 * make the server take in a large upload that was never going to be accepted.
 */
export function assertMayWrite(collection: CollectionModel, action: 'create' | 'update', caller: Caller): void {
  assertWritable(collection);
  assertScope(caller, collection, action);
  const rule = action === 'create' ? collection.rules.create : collection.rules.update;
  if (!caller.can.bypassesRules && rule.kind === 'locked') throw forbidden(MESSAGES.superusersOnly);
}

function assertWritable(collection: CollectionModel): void {
  if (collection.isView) throw badRequest(MESSAGES.unsupportedCollectionType);
}

/** Errors of file parts that cannot be uploads join the body's errors (the body's win on the same key). */
function addPlanErrors(plan: UploadPlan, errors: ErrorData): void {
  for (const [key, error] of Object.entries(plan.errors)) errors[key] ??= error;
}

/** Filenames an update drops from the record: deleted once it commits. */
function droppedFiles(collection: CollectionModel, before: RecordValues, after: RecordValues): string[] {
  const dropped: string[] = [];
  for (const f of collection.fields) {
    if (f.type !== 'file') continue;
    const kept = new Set(valuesOf(after[f.name]));
    for (const name of valuesOf(before[f.name])) if (!kept.has(name)) dropped.push(name);
  }
  return dropped;
}

export class RecordWriter {
  constructor(private readonly deps: WriterDeps) {}

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

  /** Hashes submitted passwords; a password change also rotates tokenKey (revoking tokens). */
  /**
   * bcrypt takes tens of milliseconds: passwords are hashed before the write transaction opens,
   * so a sign-up never holds the write lock (SQLite) or a row lock (PostgreSQL) while hashing.
   * Values that fail validation are not hashed.
   */
  private async prehash(collection: CollectionModel, values: RecordValues): Promise<Map<PasswordInput, string>> {
    const hashes = new Map<PasswordInput, string>();
    for (const field of collection.fields) {
      const v = values[field.name];
      if (!(v instanceof PasswordInput) || v.plain === '') continue;
      if (fieldTypeOf(field.type).validate(field, v, { isNew: true, previous: undefined, collection: collection.data })) continue;
      hashes.set(v, await hashPassword(v.plain, Number(field.cost) || undefined));
    }
    return hashes;
  }

  /** Puts the precomputed hashes in place; a password change also rotates tokenKey (revoking tokens). */
  private finalizePasswords(collection: CollectionModel, values: RecordValues, isNew: boolean, hashes: Map<PasswordInput, string>): void {
    for (const field of collection.fields) {
      const v = values[field.name];
      if (!(v instanceof PasswordInput)) continue;
      values[field.name] = v.plain === '' ? '' : hashes.get(v) ?? '';
      if (collection.isAuth && field.name === 'password' && !isNew) {
        const tokenKey = collection.field('tokenKey');
        if (tokenKey) values.tokenKey = autogenerateText(tokenKey);
      }
    }
  }

  /**
   * The auth fields only a manager may set directly (email, verified), and the password change
   * protocol (passwordConfirm, oldPassword), with PocketBase's field codes. `oldPasswordHash` is
   * the stored hash `oldPassword` was checked against before the transaction (null: it did not
   * match or was not checked); it must still be the stored one.
   */
  private applyAuthRules(collection: CollectionModel, values: RecordValues, previous: RecordValues | null, extras: Record<string, unknown>, canManage: boolean, errors: ErrorData, oldPasswordHash: string | null): void {
    if (!collection.isAuth) return;
    // Superusers are trusted accounts: always verified (as in PocketBase).
    if (collection.id === SUPERUSERS_COLLECTION_ID) values.verified = true;
    const mismatch = () => fieldError('validation_values_mismatch', 'Only superusers and managers can change this field directly.');
    if (!canManage) {
      const storedVerified = previous ? previous.verified : false;
      if (values.verified !== storedVerified) errors.verified ??= mismatch();
      if (previous && values.email !== previous.email) errors.email ??= mismatch();
    }
    const password = values.password instanceof PasswordInput ? values.password : null;
    const confirm = typeof extras.passwordConfirm === 'string' ? extras.passwordConfirm : extras.passwordConfirm === undefined ? '' : String(extras.passwordConfirm);
    const old = typeof extras.oldPassword === 'string' ? extras.oldPassword : '';
    if (!password && (confirm !== '' || old !== '')) errors.password ??= fieldError('validation_required', 'Missing required value.');
    if (password) {
      if (confirm === '') errors.passwordConfirm ??= fieldError('validation_required', 'Missing required value.');
      else if (confirm !== password.plain) errors.passwordConfirm ??= fieldError('validation_values_mismatch', "Values don't match.");
      if (previous && !canManage) {
        if (old === '') errors.oldPassword ??= fieldError('validation_required', 'Missing required value.');
        else if (oldPasswordHash === null || oldPasswordHash !== String(previous.password ?? '')) {
          errors.oldPassword ??= fieldError('validation_invalid_old_password', 'Missing or invalid old password.');
        }
      }
    }
  }

  private async insertOrTranslate(tx: Tx, collection: CollectionModel, run: () => Promise<unknown>, failMessage: string): Promise<void> {
    try {
      await run();
    } catch (err) {
      const unique = uniqueErrors(collection, tx.db.classifyError(err));
      if (unique) throw badRequest(failMessage, unique);
      throw err;
    }
  }

  /**
   * Runs a write with the collection as it is now. A write queued behind a schema change must not
   * use the definition it was called with: inside the transaction (after the schema lock) the
   * model is checked against the catalogue, and the write starts over on the new one.
   */
  private async withCurrentModel<T>(collection: CollectionModel, outer: Tx | undefined, write: (model: CollectionModel) => Promise<T>): Promise<T> {
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

  private async begin(tx: Tx, model: CollectionModel): Promise<void> {
    await tx.db.lockSchemaShared();
    if (this.deps.schema.find(model.id) !== model) throw STALE_MODEL;
  }

  async create(collection: CollectionModel, input: WriteInput, caller: Caller, outer?: Tx): Promise<RecordModel> {
    return this.withCurrentModel(collection, outer, (model) => this.createWith(model, input, caller, outer));
  }

  private async createWith(collection: CollectionModel, input: WriteInput, caller: Caller, outer?: Tx): Promise<RecordModel> {
    assertWritable(collection);
    assertMayWrite(collection, 'create', caller);
    const zero: RecordValues = {};
    for (const f of collection.fields) zero[f.name] = fieldTypeOf(f.type).zero(f);
    const plan = await planUploads(collection, input.files ?? []);
    const applied = applyBody(collection, zero, input.data, { isNew: true, seesHidden: caller.can.seesHidden, canManage: caller.can.bypassesRules, uploads: plan.keys });
    addPlanErrors(plan, applied.errors);
    const { values, errors } = applied;
    const now = nowText(this.deps.clock);
    for (const f of collection.fields) {
      if (f.type === 'text' && values[f.name] === '' && f.autogeneratePattern) values[f.name] = autogenerateText(f);
      if (f.type === 'autodate' && f.onCreate) values[f.name] = now;
    }
    const info = deriveRequest(caller.info, { body: applied.bodyForRules });
    const ruleCaller: Caller = { ...caller, info };
    const hashes = await this.prehash(collection, values);
    const staged = await this.stage(collection, String(values.id), plan, errors, MESSAGES.createFailed, outer);

    return this.discardOnFailure(staged, outer, transact(this.deps.db, async (tx) => {
      await this.begin(tx, collection);
      const ctx = this.ctx(tx.db);
      if (!(await passesCreateRule(ctx, collection, values, ruleCaller))) throw badRequest(MESSAGES.createFailed);
      validateValues(collection, values, true, null, errors);
      const uploads = keptUploads(collection, values, plan);
      checkUploads(uploads, errors);
      this.applyAuthRules(collection, values, null, applied.extras, caller.can.bypassesRules, errors, null);
      await checkRelations(tx.db, this.deps.schema, collection, values, applied.touched, errors);
      if (Object.keys(errors).length > 0) throw badRequest(MESSAGES.createFailed, errors);
      this.finalizePasswords(collection, values, true, hashes);
      this.deps.files.keep(tx, staged, uploads);
      const record: RecordModel = { collection, values };
      const row = codecOf(collection).encode(values);
      const insert = compiledTemplate(tx.db, collection, 'insert', () =>
        sql`INSERT INTO ${sql.id(collection.table)} (${sql.join(collection.fields.map((f) => sql.id(f.name)))}) VALUES (${sql.join(collection.fields.map(() => sql`${null}`))})`,
      );
      await this.insertOrTranslate(tx, collection, () => tx.db.query(insert.text, collection.fields.map((f) => row[f.name])), MESSAGES.createFailed);
      tx.afterCommit(() => this.deps.events.emit('recordCreated', { record }));
      return record;
    }, outer, this.deps.logger));
  }

  /**
   * Stores the planned uploads ahead of the transaction (RecordFiles.stage); none when the body
   * already has errors, since the write will fail.
   */
  private async stage(collection: CollectionModel, recordId: string, plan: UploadPlan, errors: ErrorData, failMessage: string, outer?: Tx): Promise<StagedUploads> {
    const uploads = Object.keys(errors).length > 0 ? [] : plan.uploads.values();
    return this.deps.files.stage(collection.id, recordId, uploads, failMessage, outer);
  }

  /** A write that fails on its own removes what it staged (a shared transaction's rollback does otherwise). */
  private async discardOnFailure<T>(staged: StagedUploads, outer: Tx | undefined, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (err) {
      if (!outer) await staged.discard();
      throw err;
    }
  }

  async update(collection: CollectionModel, id: string, input: WriteInput, caller: Caller, outer?: Tx): Promise<RecordModel> {
    return this.withCurrentModel(collection, outer, (model) => this.updateWith(model, id, input, caller, outer));
  }

  /** Password work of an update, done before the transaction: the new hash and the oldPassword check. */
  private async prepareUpdatePasswords(collection: CollectionModel, id: string, data: Record<string, unknown>, outer?: Tx): Promise<{ oldPasswordHash: string | null }> {
    if (!collection.isAuth || typeof data.oldPassword !== 'string' || data.oldPassword === '') return { oldPasswordHash: null };
    // Inside a joined transaction (a batch) the record may have been written earlier in it.
    const stored = await findRecord(this.ctx(outer?.db ?? this.deps.db), collection, id, systemCaller(), collection.rules.update);
    const hash = String(stored?.values.password ?? '');
    return { oldPasswordHash: stored && (await verifyPassword(data.oldPassword, hash)) ? hash : null };
  }

  private async updateWith(collection: CollectionModel, id: string, input: WriteInput, caller: Caller, outer?: Tx): Promise<RecordModel> {
    assertWritable(collection);
    assertMayWrite(collection, 'update', caller);
    const rule = collection.rules.update;
    const { oldPasswordHash } = await this.prepareUpdatePasswords(collection, id, input.data, outer);
    const preview = applyBody(collection, {}, input.data, { isNew: false, seesHidden: caller.can.seesHidden, canManage: true });
    const hashes = await this.prehash(collection, preview.values);
    const plan = await planUploads(collection, input.files ?? []);
    const staged = await this.stage(collection, id, plan, plan.errors, MESSAGES.updateFailed, outer);
    return this.discardOnFailure(staged, outer, transact(this.deps.db, async (tx) => {
      await this.begin(tx, collection);
      const ctx = this.ctx(tx.db);
      // Found past the rule (the lock comes first); the update rule is checked below with the new body.
      const existing = await findRecord(ctx, collection, id, asSystem(caller), collection.rules.update, true);
      if (!existing) throw notFound();
      const canManage = await this.canManage(tx.db, existing, caller);
      const applied = applyBody(collection, existing.values, input.data, { isNew: false, seesHidden: caller.can.seesHidden, canManage, uploads: plan.keys });
      addPlanErrors(plan, applied.errors);
      const ruleCaller: Caller = { ...caller, info: deriveRequest(caller.info, { body: applied.bodyForRules }) };
      if (!caller.can.bypassesRules && rule.kind === 'filter' && !(await ruleAllows(ctx, collection, id, rule, ruleCaller))) throw notFound();
      const { values, errors } = applied;
      const now = nowText(this.deps.clock);
      for (const f of collection.fields) if (f.type === 'autodate' && f.onUpdate) values[f.name] = now;
      validateValues(collection, values, false, existing.values, errors);
      const uploads = keptUploads(collection, values, plan);
      checkUploads(uploads, errors);
      this.applyAuthRules(collection, values, existing.values, applied.extras, canManage, errors, oldPasswordHash);
      await checkRelations(tx.db, this.deps.schema, collection, values, applied.touched, errors);
      if (Object.keys(errors).length > 0) throw badRequest(MESSAGES.updateFailed, errors);
      this.finalizePasswords(collection, values, false, rehashWith(hashes, preview.values, values));
      this.deps.files.keep(tx, staged, uploads);
      const changed = collection.fields.filter((f) => values[f.name] !== existing.values[f.name] && (applied.touched.has(f.name) || f.type === 'autodate' || f.name === 'tokenKey'));
      const record: RecordModel = { collection, values };
      if (changed.length > 0) {
        const row = codecOf(collection).encode(values, changed);
        await this.insertOrTranslate(tx, collection, () => tx.db.kysely.updateTable(collection.table).set(row).where('id', '=', id).execute(), MESSAGES.updateFailed);
      }
      // The replaced and removed files go only once the new value is committed.
      this.deps.files.deleteAfterCommit(tx, collection.id, id, droppedFiles(collection, existing.values, values));
      tx.afterCommit(() => this.deps.events.emit('recordUpdated', { record, previous: existing }));
      return record;
    }, outer, this.deps.logger));
  }

  async delete(collection: CollectionModel, id: string, caller: Caller, outer?: Tx): Promise<void> {
    await this.withCurrentModel(collection, outer, (model) => this.deleteWith(model, id, caller, outer));
  }

  private async deleteWith(collection: CollectionModel, id: string, caller: Caller, outer?: Tx): Promise<void> {
    assertWritable(collection);
    assertScope(caller, collection, 'delete');
    const rule = collection.rules.delete;
    if (!caller.can.bypassesRules && rule.kind === 'locked') throw forbidden(MESSAGES.superusersOnly);
    await transact(this.deps.db, async (tx) => {
      await this.begin(tx, collection);
      const record = await findRecord(this.ctx(tx.db), collection, id, caller, rule);
      if (!record) throw notFound();
      if (collection.id === SUPERUSERS_COLLECTION_ID) await assertNotLastSuperuser(tx.db, collection);
      const effects = new CascadeEffects(nowText(this.deps.clock), this.deps.maxCascadeRecords);
      await deleteWithCascade(tx.db, this.deps.schema, record, effects);
      this.deps.files.deleteRecordsAfterCommit(tx, effects.deleted);
      effects.announceAfterCommit(tx, this.deps.events);
    }, outer, this.deps.logger);
  }

  /** Deletes every record of a collection through the cascade logic (collection truncate). */
  async truncate(tx: Tx, collection: CollectionModel): Promise<void> {
    const codec = codecOf(collection);
    // One prefix delete for the collection's own files; cascaded records elsewhere go one by one.
    this.deps.files.deleteCollectionAfterCommit(tx, collection.id);
    for (;;) {
      const rows = await tx.db.rows<Record<string, unknown>>(sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} LIMIT 200`);
      if (rows.length === 0) return;
      // NB: bounded per record (its cascade), not per truncate: every record's events wait for the commit.
      for (const row of rows) {
        const effects = new CascadeEffects(nowText(this.deps.clock), this.deps.maxCascadeRecords);
        await deleteWithCascade(tx.db, this.deps.schema, codec.decode(row), effects);
        this.deps.files.deleteRecordsAfterCommit(tx, effects.deleted, collection.id);
        effects.announceAfterCommit(tx, this.deps.events);
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

/** Thrown inside a write transaction when the collection changed since the write started. */
const STALE_MODEL = Symbol('stale collection model');


/**
 * The update's body is applied twice (a preview before the transaction, for hashing; the real
 * one inside it, on the locked record): map the preview's hashes onto the real password inputs.
 */
function rehashWith(hashes: Map<PasswordInput, string>, preview: RecordValues, values: RecordValues): Map<PasswordInput, string> {
  const out = new Map<PasswordInput, string>();
  for (const [name, v] of Object.entries(values)) {
    const p = preview[name];
    if (v instanceof PasswordInput && p instanceof PasswordInput && v.plain === p.plain && hashes.has(p)) out.set(v, hashes.get(p)!);
  }
  return out;
}
