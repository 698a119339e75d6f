/**
 * The in-memory catalogue of collections every request reads. It is rebuilt from the database
 * after each committed schema change (and, with several nodes, when another node announces one),
 * so lookups never touch the database.
 */
import type { Database } from '../ports.js';
import { CollectionModel, type SchemaView } from '../model/collection-model.js';
import { loadCollections } from './collection-store.js';
import type { Collection } from '../model/collection-types.js';

export class CollectionRegistry implements SchemaView {
  private models: CollectionModel[] = [];
  private byId = new Map<string, CollectionModel>();
  private byName = new Map<string, CollectionModel>();
  private rebuilt = 0;

  /** Changes with every rebuild of the catalogue: what caches of compiled SQL key on. */
  get generation(): number {
    return this.rebuilt;
  }

  find(idOrName: string): CollectionModel | undefined {
    return this.byId.get(idOrName) ?? this.byName.get(idOrName.toLowerCase());
  }

  all(): readonly CollectionModel[] {
    return this.models;
  }

  /** Replaces the catalogue (definitions already validated). */
  replace(collections: Collection[]): void {
    const models = collections.map((c) => new CollectionModel(c));
    this.models = models;
    this.byId = new Map(models.map((m) => [m.id, m]));
    this.byName = new Map(models.map((m) => [m.name.toLowerCase(), m]));
    this.rebuilt++;
  }

  async reload(db: Database): Promise<void> {
    this.replace(await loadCollections(db));
  }

  /** A view of the catalogue with some collections replaced or added (for validating a change). */
  overlay(changed: Collection[], removedIds: string[] = []): SchemaView {
    const models = new Map(this.models.map((m) => [m.id, m]));
    for (const id of removedIds) models.delete(id);
    for (const c of changed) models.set(c.id, new CollectionModel(c));
    const list = [...models.values()];
    const byName = new Map(list.map((m) => [m.name.toLowerCase(), m]));
    return {
      find: (idOrName) => models.get(idOrName) ?? byName.get(idOrName.toLowerCase()),
      all: () => list,
    };
  }
}
