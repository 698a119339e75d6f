/**
 * Where hooks meet schema changes: the collection service calls these around creating, updating
 * and deleting a collection (inside the schema change's transaction) and after the commit.
 */
import type { Collection } from '../model/collection-types.js';
import type { Tx } from '../events/transaction.js';

export type CollectionAction = 'create' | 'update' | 'delete';

export interface CollectionWriteHooks {
  /** `onCollectionCreate` / `onCollectionUpdate` / `onCollectionDelete` around the change. */
  change(action: CollectionAction, collection: Collection, tx: Tx, next: () => Promise<void>): Promise<void>;
  /** `onCollectionAfter…Success`, once committed; failures are logged. */
  afterSuccess(action: CollectionAction, collection: Collection): Promise<void>;
}

export const NO_COLLECTION_HOOKS: CollectionWriteHooks = {
  change: (_a, _c, _tx, next) => next(),
  afterSuccess: async () => {},
};
