/** `basalt superuser upsert EMAIL PASSWORD` and `basalt superuser delete EMAIL`. */
import { sql } from 'kysely';
import { systemCaller } from '../core/records/caller.js';
import { SUPERUSERS_COLLECTION_ID } from '../core/model/collection-types.js';
import { isApiError } from '../core/errors.js';
import { buildConfig, readOptions, UsageError } from './config-from-args.js';
import { createLogger, openApp } from './open-app.js';

function describe(err: unknown): string {
  if (isApiError(err)) {
    const details = Object.entries(err.data)
      .map(([field, e]) => `${field}: ${(e as { message?: string }).message ?? ''}`)
      .join('; ');
    return details ? `${err.message} ${details}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export async function superuser(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = readOptions(rest, env, ['dir', 'db', 'log-level']);
  const config = buildConfig({ ...values, 'log-level': values['log-level'] ?? 'warn' });
  if (action !== 'upsert' && action !== 'delete') throw new UsageError('usage: basalt superuser upsert EMAIL PASSWORD | basalt superuser delete EMAIL');
  const [email, password] = positionals;
  if (!email || (action === 'upsert' && !password)) {
    throw new UsageError(action === 'upsert' ? 'usage: basalt superuser upsert EMAIL PASSWORD' : 'usage: basalt superuser delete EMAIL');
  }
  const app = await openApp(config, createLogger(config));
  try {
    const collection = app.registry.find(SUPERUSERS_COLLECTION_ID)!;
    const rows = await app.db.rows<{ id: string }>(
      sql`SELECT ${sql.id('id')} FROM ${sql.id(collection.table)} WHERE ${app.db.filter.equalsIgnoreCase(sql.id('email'), app.db.filter.param(email, 'text'))}`,
    );
    const caller = systemCaller();
    if (action === 'delete') {
      if (rows.length === 0) {
        console.log(`No superuser with email ${email}.`);
        return 0;
      }
      await app.records.writer.delete(collection, rows[0].id, caller);
      console.log(`Deleted superuser ${email}.`);
      return 0;
    }
    const data = { email, password, passwordConfirm: password };
    if (rows.length > 0) {
      await app.records.writer.update(collection, rows[0].id, { data }, caller);
      console.log(`Updated superuser ${email}.`);
    } else {
      await app.records.writer.create(collection, { data }, caller);
      console.log(`Created superuser ${email}.`);
    }
    return 0;
  } catch (err) {
    throw new UsageError(`cannot ${action} superuser: ${describe(err)}`);
  } finally {
    await app.close();
  }
}
