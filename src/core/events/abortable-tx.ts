/**
 * A view of a transaction that refuses every statement once `signal` is aborted. A batch that
 * runs out of time must not end its transaction while a sub-request is still running: on
 * PostgreSQL the connection would go back to the pool (and the straggler's next statement run
 * in autocommit, or in someone else's transaction); on SQLite it would run outside any
 * transaction on the writer. So the batch aborts, the straggler fails at its next statement,
 * and only then does the transaction roll back.
 */
import type { Kysely, KyselyPlugin } from 'kysely';
import type { Database } from '../ports.js';
import type { Tx } from './transaction.js';

class AbortableDatabase implements Database {
  readonly kysely: Kysely<any>;

  constructor(
    private readonly inner: Database,
    private readonly signal: AbortSignal,
  ) {
    const check = () => this.check();
    const plugin: KyselyPlugin = {
      transformQuery(args) {
        check();
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    this.kysely = inner.kysely.withPlugin(plugin);
  }

  private check(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  get engine() {
    return this.inner.engine;
  }
  get filter() {
    return this.inner.filter;
  }
  get schema() {
    return this.inner.schema;
  }
  get inTransaction() {
    return this.inner.inTransaction;
  }
  get console() {
    return this.inner.console;
  }
  get jobs() {
    return this.inner.jobs;
  }

  async transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    this.check();
    // Inside a transaction already: joining it is running `fn` on this same view.
    return fn(this);
  }

  async lockSchema(options?: { keepDeadline?: boolean }): Promise<void> {
    this.check();
    await this.inner.lockSchema(options);
  }

  async lockSchemaShared(): Promise<void> {
    this.check();
    await this.inner.lockSchemaShared();
  }

  classifyError(err: unknown) {
    return this.inner.classifyError(err);
  }

  async explain(query: Parameters<Database['rows']>[0]): Promise<string> {
    this.check();
    return this.inner.explain ? this.inner.explain(query) : '';
  }

  async versionSpan(key: string): Promise<{ from: number; to: number } | null> {
    return this.inner.versionSpan ? this.inner.versionSpan(key) : null;
  }

  async rows<T>(query: Parameters<Database['rows']>[0]): Promise<T[]> {
    this.check();
    return this.inner.rows<T>(query);
  }

  async query<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    this.check();
    return this.inner.query<T>(text, params);
  }

  async readCompiled<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    this.check();
    return this.inner.readCompiled<T>(text, params);
  }

  async close(): Promise<void> {
    throw new Error('a transaction view cannot close the database');
  }
}

/** `tx` with statements refused after `signal` aborts (they throw `signal.reason`). */
export function abortableTx(tx: Tx, signal: AbortSignal): Tx {
  if (!tx.db.inTransaction) throw new Error('abortableTx needs a transaction');
  return { db: new AbortableDatabase(tx.db, signal), beforeCommit: (fn) => tx.beforeCommit(fn), afterCommit: (fn) => tx.afterCommit(fn), onRollback: (fn) => tx.onRollback(fn) };
}
