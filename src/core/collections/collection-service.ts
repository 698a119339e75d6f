/**
 * Collection management (the superuser API of spec §1.4): create, update, delete, truncate and
 * import, each as one transaction that changes the schema and the stored definitions together.
 * The in-memory registry is reloaded after the commit.
 */
import { badRequest, fieldError, MESSAGES, notFound, type ErrorData } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { NO_COLLECTION_HOOKS, type CollectionAction, type CollectionWriteHooks } from '../hooks/collection-write-hooks.js';
import { transact, type Tx } from '../events/transaction.js';
import type { Clock, Database, Logger } from '../ports.js';
import { nowText } from '../clock.js';
import { isPlainObject } from './fields/coerce.js';
import type { CollectionRegistry } from './collection-registry.js';
import { deleteCollectionRow, ensureSystemTables, insertCollection, loadCollections, updateCollection } from './collection-store.js';
import { prepareCollection } from './collection-validator.js';
import { detectRenames, hasRenames, renameInCollectionRules, renameInIndexes, renameInRule, type Renames } from './rename-references.js';
import { authSystemIndexes, scaffoldCollection, systemCollections } from './scaffolds.js';
import { createViews, dropViews, syncCollectionTable, upgradeCollectionTables, ViewRebuildError } from './schema-sync.js';
import { authFieldErrors } from './rule-check.js';
import { SUPERUSERS_COLLECTION_ID, type Collection, type CollectionType } from '../model/collection-types.js';
import { randomString } from '../ids.js';
import { ensureInternalTables } from '../internal-tables.js';
import { deleteAuthData, deleteWorkflowData } from '../records/cascade.js';
import type { RecordFiles } from '../files/record-files.js';

/** Empties a collection through the record engine (so cascades and file cleanup apply). */
export type TruncateRecords = (tx: Tx, collection: Collection) => Promise<void>;

export interface CollectionServiceDeps {
  db: Database;
  registry: CollectionRegistry;
  clock: Clock;
  events: EventBus;
  logger: Logger;
  /** Deletes the files of deleted collections after the commit. */
  files: RecordFiles;
  /** The collection hooks in force. @default none */
  hooks?: () => CollectionWriteHooks;
}

/** Thrown at the end of a dry run so that its transaction rolls back (never leaves the service). */
class DryRunRollback extends Error {}

const RULE_KEYS = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'authRule', 'manageRule'] as const;

export class CollectionService {
  private truncateRecords: TruncateRecords | null = null;

  constructor(private readonly deps: CollectionServiceDeps) {}

  /** Wired by the app once the record engine exists. */
  setTruncate(fn: TruncateRecords): void {
    this.truncateRecords = fn;
  }

  get registry(): CollectionRegistry {
    return this.deps.registry;
  }

  /** First start: system tables and system collections, then the catalogue. */
  async bootstrap(): Promise<void> {
    const { db, registry } = this.deps;
    await transact(db, async ({ db: tx }) => {
      await tx.lockSchema();
      const created = await ensureSystemTables(tx);
      await ensureInternalTables(tx);
      if (!created) {
        await upgradeCollectionTables(tx, await loadCollections(tx));
        return;
      }
      for (const c of systemCollections(nowText(this.deps.clock))) {
        await syncCollectionTable(tx, null, c);
        await insertCollection(tx, c);
      }
    });
    await registry.reload(db);
  }

  find(idOrName: string): Collection {
    const model = this.deps.registry.find(idOrName);
    if (!model) throw notFound();
    return model.data;
  }

  /**
   * PocketBase's `GET /api/collections/meta/scaffolds` (apis/collection.go): each type built with
   * a random 10-character id that names the auth indexes (`idx_email_<random>` ON ``), then the
   * id cleared; no dates, as a collection never saved has none.
   */
  scaffolds(): Record<string, Collection> {
    const randomId = randomString(10, '0123456789abcdefghijklmnopqrstuvwxyz');
    const scaffold = (type: CollectionType): Collection => {
      const c = scaffoldCollection(type, '', randomId);
      if (type === 'auth') c.indexes = authSystemIndexes(randomId, '');
      return { ...c, id: '', created: '', updated: '' };
    };
    return { base: scaffold('base'), auth: scaffold('auth'), view: scaffold('view') };
  }

  /**
   * Runs a schema change under the cluster-wide schema lock, with a fresh catalogue. A dry run
   * goes as far as the commit, then rolls back and returns nothing (hence `void` only).
   */
  private async change<T>(fn: (tx: Tx) => Promise<T>, failMessage?: string): Promise<T>;
  private async change(fn: (tx: Tx) => Promise<void>, failMessage: string, dryRun: true): Promise<void>;
  private async change<T>(fn: (tx: Tx) => Promise<T>, failMessage: string = MESSAGES.collectionUpdateFailed, dryRun = false): Promise<T | void> {
    const before = new Map(this.deps.registry.all().map((m) => [m.id, m.data.updated]));
    const { db, registry, events, logger } = this.deps;
    try {
      return await transact(
        db,
        async (tx) => {
          await tx.db.lockSchema(dryRun ? { keepDeadline: true } : undefined);
          await registry.reload(tx.db);
          const result = await fn(tx);
          // NB: a dry run stops here, before the reload below would show other requests a schema
          // that is about to be rolled back.
          if (dryRun) throw new DryRunRollback();
          // Updated before the lock is released: a write waiting on it then sees the new schema.
          await registry.reload(tx.db);
          tx.afterCommit(async () => {
            // The ids whose definitions changed: what another node's catalogue must reload.
            const after = registry.all();
            const ids = after.filter((m) => before.get(m.id) !== m.data.updated).map((m) => m.id);
            for (const id of before.keys()) if (!after.some((m) => m.id === id)) ids.push(id);
            await events.emit('collectionsChanged', { ids });
          });
          return result;
        },
        undefined,
        logger,
      );
    } catch (err) {
      if (err instanceof DryRunRollback) return;
      if (err instanceof ViewRebuildError) {
        throw badRequest(failMessage, { viewQuery: fieldError('validation_invalid_view_query', err.message + '.') });
      }
      // The database refused the DDL (e.g. a UNIQUE index over duplicate values): nothing was
      // applied, and the superuser gets the reason rather than a 500.
      const failure = db.classifyError(err);
      if (failure?.kind === 'unique') {
        throw badRequest(failMessage, {
          indexes: fieldError('validation_unique_index_failed', 'Existing records have duplicate values for a UNIQUE index.'),
        });
      }
      // Superusers only: the engine's reason is the useful answer. Outages stay 500s.
      if (failure?.kind === 'refused') throw badRequest(`${failMessage} The database refused the change: ${failure.message}`);
      throw err;
    } finally {
      // The catalogue reflects whatever is committed now (the change, or the state before it).
      await registry.reload(db);
    }
  }

  /** Applies prepared changes (tables, views, stored rows) inside `tx`. */
  private async apply(tx: Tx, changes: { prev: Collection | null; next: Collection | null }[]): Promise<void> {
    const db = tx.db;
    this.assertOtherRulesHold(changes);
    const before = this.deps.registry.all().map((m) => m.data);
    const views = before.filter((c) => c.type === 'view');
    await dropViews(db, views);
    for (const { prev, next } of changes) await syncCollectionTable(db, prev, next);
    for (const { prev, next } of changes) {
      if (prev && !next) {
        await deleteCollectionRow(db, prev.id);
        // The table is gone with the commit; its files go after it (never before: it may roll back).
        this.deps.files.deleteCollectionAfterCommit(tx, prev.id);
      }
      else if (!prev && next) await insertCollection(db, next);
      else if (next) await updateCollection(db, next);
    }
    // The views as they are after the change, in their stored order.
    const after = new Map(before.map((c) => [c.id, c]));
    for (const { prev, next } of changes) {
      if (prev) after.delete(prev.id);
      if (next) after.set(next.id, next);
    }
    await createViews(db, [...after.values()].filter((c) => c.type === 'view'));
  }

  /**
   * A change must not make another collection's rule fail open: an `@request.auth.<field>` that
   * no auth collection has any more reads as NULL, so `@request.auth.banned != true` would hold
   * for everyone. Refuse the change and say where. (Other broken paths fail closed.)
   */
  private assertOtherRulesHold(changes: { prev: Collection | null; next: Collection | null }[]): void {
    const removed = changes.filter((c) => c.prev && !c.next).map((c) => c.prev!.id);
    const schema = this.deps.registry.overlay(changes.flatMap((c) => (c.next ? [c.next] : [])), removed);
    const broken: ErrorData = {};
    for (const model of schema.all()) {
      const errors = authFieldErrors(model, schema);
      for (const [rule, error] of Object.entries(errors)) {
        broken[`${model.name}.${rule}`] = fieldError('validation_breaks_rule', `The ${rule} of "${model.name}" would stop working: ${(error as { message: string }).message}`);
      }
    }
    if (Object.keys(broken).length > 0) throw badRequest('The change would break the rules of other collections.', broken);
  }

  /** A create, update or delete inside its hooks; the after-success hooks once it commits. */
  private async hooked(action: CollectionAction, collection: Collection, tx: Tx, apply: () => Promise<void>): Promise<void> {
    const hooks = this.deps.hooks?.() ?? NO_COLLECTION_HOOKS;
    await hooks.change(action, collection, tx, apply);
    tx.afterCommit(() => hooks.afterSuccess(action, collection));
  }

  async create(input: unknown): Promise<Collection> {
    return this.change((tx) => this.createIn(tx, input, false), MESSAGES.collectionCreateFailed);
  }

  async update(idOrName: string, input: unknown): Promise<Collection> {
    return this.change((tx) => this.updateIn(tx, idOrName, input, false), MESSAGES.collectionUpdateFailed);
  }

  /**
   * `POST /api/collections/meta/validate` (a Basalt addition): the create or update that saving
   * `input` would be, run in full (the same preparation, rule checks, DDL and view rebuilds) in a
   * transaction that is always rolled back, so its answer cannot differ from a real save's. An
   * `id` naming an existing collection validates an update of it (`PATCH`); anything else, a
   * create (`POST`), whose custom id is then checked as a create checks it.
   */
  async validate(input: unknown): Promise<void> {
    const id = isPlainObject(input) && typeof input.id === 'string' ? input.id : '';
    const existing = id === '' ? undefined : this.deps.registry.find(id);
    if (existing && existing.id === id) {
      await this.change(async (tx) => void (await this.updateIn(tx, id, input, true)), MESSAGES.collectionUpdateFailed, true);
    } else {
      await this.change(async (tx) => void (await this.createIn(tx, input, true)), MESSAGES.collectionCreateFailed, true);
    }
  }

  /**
   * A dry run applies the change without the hooks: a hook may act outside the database (send a
   * mail, call a URL), which no rollback undoes.
   */
  private hookedUnlessDry(dryRun: boolean, action: CollectionAction, collection: Collection, tx: Tx, apply: () => Promise<void>): Promise<void> {
    return dryRun ? apply() : this.hooked(action, collection, tx, apply);
  }

  private async createIn(tx: Tx, input: unknown, dryRun: boolean): Promise<Collection> {
    const next = await prepareCollection(input, undefined, { registry: this.deps.registry, db: tx.db, clock: this.deps.clock });
    await this.hookedUnlessDry(dryRun, 'create', next, tx, () => this.apply(tx, [{ prev: null, next }]));
    return next;
  }

  private async updateIn(tx: Tx, idOrName: string, input: unknown, dryRun: boolean): Promise<Collection> {
    const prev = this.find(idOrName);
    const registry = this.deps.registry;
    const body = isPlainObject(input) ? { ...input } : input;
    // Rules and indexes sent with old names are rewritten before validation.
    const draft = isPlainObject(body) ? renamesOf(prev, body) : null;
    if (draft && hasRenames(draft) && isPlainObject(body)) {
      const find = (id: string) => registry.find(id)?.data;
      for (const key of RULE_KEYS) {
        const rule = body[key] !== undefined ? body[key] : prev[key];
        if (typeof rule === 'string') body[key] = renameInRule(rule, prev, find, draft, authOf(registry, prev));
      }
      const indexes = Array.isArray(body.indexes) ? (body.indexes as string[]) : prev.indexes;
      body.indexes = renameInIndexes(indexes.filter((s) => typeof s === 'string'), prev, draft);
    }
    const next = await prepareCollection(body, prev, { registry, db: tx.db, clock: this.deps.clock });
    const changes: { prev: Collection | null; next: Collection | null }[] = [{ prev, next }];
    const renames = detectRenames(prev, next);
    if (hasRenames(renames)) {
      const find = (id: string) => (id === prev.id || id.toLowerCase() === prev.name.toLowerCase() ? prev : registry.find(id)?.data);
      for (const other of registry.all()) {
        if (other.id === prev.id) continue;
        const renamed = renameInCollectionRules(other.data, find, renames, authOf(registry, prev));
        if (renamed) changes.push({ prev: other.data, next: renamed });
      }
    }
    await this.hookedUnlessDry(dryRun, 'update', next, tx, () => this.apply(tx, changes));
    return next;
  }

  async delete(idOrName: string): Promise<void> {
    await this.change(async (tx) => {
      const c = this.find(idOrName);
      if (c.system) throw badRequest(MESSAGES.collectionDeleteFailed, { system: fieldError('validation_system_collection', 'System collections cannot be deleted.') });
      const referencing = this.deps.registry
        .all()
        .filter((m) => m.id !== c.id && m.fields.some((f) => f.type === 'relation' && f.collectionId === c.id));
      if (referencing.length > 0) {
        throw badRequest(MESSAGES.collectionDeleteFailed, {
          collection: fieldError('validation_collection_referenced', `Referenced by ${referencing.map((m) => m.name).join(', ')}.`),
        });
      }
      await this.hooked('delete', c, tx, async () => {
        await this.apply(tx, [{ prev: c, next: null }]);
        if (c.type === 'auth') await deleteAuthData(tx.db, this.deps.registry, c.id);
        await deleteWorkflowData(tx.db, c.id);
      });
    }, MESSAGES.collectionDeleteFailed);
  }

  async truncate(idOrName: string): Promise<void> {
    const c = this.find(idOrName);
    if (c.type === 'view') throw badRequest('View collections cannot be truncated.');
    // Truncating the superusers would lock everyone out of the admin API.
    if (c.id === SUPERUSERS_COLLECTION_ID) throw badRequest('The superusers collection cannot be truncated.');
    if (!this.truncateRecords) throw new Error('truncate is not wired');
    const truncate = this.truncateRecords;
    await transact(this.deps.db, (tx) => truncate(tx, c), undefined, this.deps.logger);
  }

  /** `PUT /api/collections/import`: create or update each collection, optionally delete the rest. */
  async import(input: unknown): Promise<void> {
    if (!isPlainObject(input) || !Array.isArray(input.collections) || input.collections.length === 0) {
      throw badRequest('Failed to import collections.', { collections: fieldError('validation_required', 'Provide a non-empty list of collections.') });
    }
    const items = input.collections as unknown[];
    const deleteMissing = input.deleteMissing === true;
    await this.change(async (tx) => {
      const registry = this.deps.registry;
      const errors: ErrorData = {};
      const prepared: { prev: Collection | null; next: Collection }[] = [];
      // Placeholders let relations point at collections created by the same import.
      const placeholders: Collection[] = items.filter(isPlainObject).map((raw) => ({
        ...scaffoldCollection((['base', 'auth', 'view'].includes(String(raw.type)) ? raw.type : 'base') as Collection['type']),
        id: String(raw.id ?? ''),
        name: String(raw.name ?? ''),
        fields: Array.isArray(raw.fields) ? (raw.fields as Collection['fields']) : [],
        indexes: [],
      }));
      for (let i = 0; i < items.length; i++) {
        const raw = items[i];
        const existing = isPlainObject(raw)
          ? (typeof raw.id === 'string' && registry.find(raw.id)?.id === raw.id ? registry.find(raw.id) : undefined) ??
            (typeof raw.name === 'string' ? registry.find(raw.name) : undefined)
          : undefined;
        try {
          const pending = [...prepared.map((p) => p.next), ...placeholders.slice(i + 1).filter((p) => p.id !== '')];
          const next = await prepareCollection(raw, existing?.data, { registry, db: tx.db, clock: this.deps.clock, pending });
          prepared.push({ prev: existing?.data ?? null, next });
        } catch (err) {
          const e = err as { status?: number; data?: ErrorData; message?: string };
          if (e.status !== 400) throw err;
          errors[String(i)] = { code: 'validation_collection_invalid', message: e.message ?? 'Invalid collection.', ...(e.data ? { data: e.data } : {}) } as any;
        }
      }
      if (Object.keys(errors).length > 0) throw badRequest('Failed to import collections.', { collections: errors });
      const changes: { prev: Collection | null; next: Collection | null }[] = [...prepared];
      if (deleteMissing) {
        const kept = new Set(prepared.map((p) => p.next.id));
        for (const m of registry.all()) if (!kept.has(m.id) && !m.data.system) changes.push({ prev: m.data, next: null });
      }
      const finalIds = new Set(changes.filter((c) => c.next).map((c) => c.next!.id));
      for (const m of registry.all()) if (!changes.some((c) => c.prev?.id === m.id)) finalIds.add(m.id);
      for (const { next } of changes) {
        const broken = next?.fields.find((f) => f.type === 'relation' && !finalIds.has(String(f.collectionId)));
        if (broken) {
          throw badRequest('Failed to import collections.', {
            collections: fieldError('validation_missing_relation_collection', `"${next!.name}.${broken.name}" relates to a collection that would be deleted.`),
          });
        }
      }
      await this.apply(tx, changes);
    }, 'Failed to import collections.');
  }
}

/** Field renames implied by a submitted update (fields sent with their ids and new names). */
function renamesOf(prev: Collection, body: Record<string, unknown>): Renames {
  const fields = new Map<string, string>();
  if (Array.isArray(body.fields)) {
    for (const raw of body.fields) {
      if (!isPlainObject(raw) || typeof raw.id !== 'string' || typeof raw.name !== 'string') continue;
      const old = prev.fields.find((f) => f.id === raw.id);
      if (old && old.name !== raw.name) fields.set(old.name.toLowerCase(), raw.name);
    }
  }
  const name = typeof body.name === 'string' && body.name !== prev.name ? body.name : null;
  return { collections: name ? new Map([[prev.id, name]]) : new Map(), fields: new Map([[prev.id, fields]]) };
}

/** The auth collections as they were before the change (`prev` replacing its stored version). */
function authOf(registry: CollectionRegistry, prev: Collection): Collection[] {
  return registry.all().map((m) => (m.id === prev.id ? prev : m.data)).filter((c) => c.type === 'auth');
}
