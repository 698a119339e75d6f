/**
 * `POST /api/sql` (superusers, PocketBase 0.39's SQL console): `{query}` in,
 * `{execTime, affectedRows, columns: [{name, type, nullable}], rows: [[…]]}` out, every value
 * as text. Read-only unless the `sqlConsole.allowWrites` setting is on; one statement, the
 * query deadline, 1,000 rows at most (core/sql-console/sql-console.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { callerOf } from '../context.js';
import { superusersOnly } from './guards.js';

export function registerSqlRoutes(server: FastifyInstance, app: App): void {
  server.post('/api/sql', superusersOnly, async (request) => app.sqlConsole.run(request.body, String(callerOf(request).auth?.values.id ?? '')));
}
