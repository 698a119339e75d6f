/**
 * Where hooks meet the write pipeline: the pipeline calls these around its named steps, the hook
 * registry (core/hooks/hook-registry.ts) implements them. Each wrapper runs `next` (the rest of
 * the write) unless a handler stops the chain; with no handler for the collection it is `next()`.
 */
import type { WriteContext } from '../records/write/write-context.js';

export interface RecordWriteHooks {
  /** The `onRecord…Request` hooks: around the whole write of a request, after its rule check. */
  request(w: WriteContext, next: () => Promise<void>): Promise<void>;
  /** `onRecordCreate` / `onRecordUpdate` / `onRecordDelete`: around validation and persistence, inside the transaction. */
  model(w: WriteContext, next: () => Promise<void>): Promise<void>;
  /** `onRecordValidate`: around the validation of a create or update. */
  validate(w: WriteContext, next: () => Promise<void>): Promise<void>;
  /** `onRecordAfter…Success`: once the transaction committed. Failures are logged, never thrown. */
  afterSuccess(w: WriteContext): Promise<void>;
  /** `onRecordAfter…Error`: the write failed (and rolled back). Failures are logged, never thrown. */
  afterError(w: WriteContext, error: unknown): Promise<void>;
  /** `onRecordTransition`: around the update a workflow transition is (`w.transition`), inside its transaction. */
  transition(w: WriteContext, next: () => Promise<void>): Promise<void>;
  /** `onRecordAfterTransitionSuccess`: once the transition committed. Failures are logged, never thrown. */
  afterTransition(w: WriteContext): Promise<void>;
}

const pass = (_w: WriteContext, next: () => Promise<void>) => next();
const nothing = async () => {};

/** No hooks: every wrapper is the step itself. */
export const NO_RECORD_HOOKS: RecordWriteHooks = { request: pass, model: pass, validate: pass, afterSuccess: nothing, afterError: nothing, transition: pass, afterTransition: nothing };
