/**
 * Writes to the system collections auth keeps (`_mfas`, `_otps`, `_authOrigins`,
 * `_externalAuths`) and to auth records themselves, done by Basalt on its own behalf: through
 * the record engine (validation, password hashing, after-commit events) but past the rules.
 */
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import type { Tx } from '../events/transaction.js';
import { systemCaller } from '../records/caller.js';
import type { RecordWriter } from '../records/record-writer.js';
import type { RecordModel } from '../model/record-model.js';
import { recordId } from '../model/record-model.js';

export class SystemRecords {
  constructor(
    private readonly schema: SchemaView,
    private readonly writer: RecordWriter,
  ) {}

  collection(name: string): CollectionModel {
    const c = this.schema.find(name);
    if (!c) throw new Error(`the system collection ${name} is missing`);
    return c;
  }

  create(collection: string | CollectionModel, data: Record<string, unknown>, tx?: Tx): Promise<RecordModel> {
    const c = typeof collection === 'string' ? this.collection(collection) : collection;
    return this.writer.create(c, { data }, systemCaller(), tx);
  }

  update(record: RecordModel, data: Record<string, unknown>, tx?: Tx): Promise<RecordModel> {
    return this.writer.update(record.collection, recordId(record), { data }, systemCaller(), tx);
  }

  /**
   * Deletes a single-use system record (an OTP, an MFA session) and says whether this call did:
   * of concurrent requests consuming the same one, exactly one gets true.
   */
  async claim(record: RecordModel): Promise<boolean> {
    try {
      // A delete that finds the row already gone is a 404: the other request won.
      await this.writer.delete(record.collection, recordId(record), systemCaller());
      return true;
    } catch (err) {
      if ((err as { status?: number }).status === 404) return false;
      throw err;
    }
  }

  /** Deletes the record; one already gone is not an error (two requests may race to clean up). */
  async delete(record: RecordModel, tx?: Tx): Promise<void> {
    try {
      await this.writer.delete(record.collection, recordId(record), systemCaller(), tx);
    } catch (err) {
      if ((err as { status?: number }).status !== 404) throw err;
    }
  }
}
