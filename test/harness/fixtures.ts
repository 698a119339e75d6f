/**
 * Readable builders for test data, going through the same services the API uses (never raw
 * SQL), so fixtures are valid records on every engine.
 */
import { systemCaller } from '../../src/core/records/caller.js';
import type { RecordModel } from '../../src/core/model/record-model.js';
import type { TestApp } from './test-app.js';
import { HookBindings } from '../../src/core/hooks/hook-bindings.js';
import type { HooksApi } from '../../src/core/hooks/hooks-api.js';

export async function createCollection(t: TestApp, definition: Record<string, unknown>): Promise<Record<string, any>> {
  return (await t.app.collections.create(definition)) as unknown as Record<string, any>;
}

export async function createRecord(t: TestApp, collection: string, data: Record<string, unknown>): Promise<RecordModel> {
  const c = t.app.registry.find(collection);
  if (!c) throw new Error(`no collection ${collection}`);
  return t.app.records.writer.create(c, { data }, systemCaller());
}

/** Creates an auth record and returns it with a valid auth token. */
export async function createAuthRecord(t: TestApp, collection: string, data: Record<string, unknown>): Promise<{ record: RecordModel; id: string; token: string }> {
  const password = String(data.password ?? 'password123');
  const record = await createRecord(t, collection, { password, passwordConfirm: password, ...data });
  const token = await t.app.auth.issueToken(record);
  return { record, id: String(record.values.id), token };
}

export async function createSuperuser(t: TestApp, email = 'admin@example.com', password = 'password123') {
  return createAuthRecord(t, '_superusers', { email, password });
}

/** Registers hooks, routes… on the app in code, as framework mode does (they stay for the app's life). */
export function addHooks(t: TestApp, setup: (api: HooksApi) => void): void {
  const bindings = new HookBindings();
  setup(t.app.hooksApi(bindings, 'test'));
  t.app.hooks.add(bindings);
}
