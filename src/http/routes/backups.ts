/**
 * `/api/backups` (superusers, PocketBase's apis/backup*.go and shapes): list `[{key, size,
 * modified}]`, create (`{name}`, optional), upload (multipart `file`, a zip), download (`GET
 * /api/backups/{key}?token=` with a superuser's file token, no Authorization header), delete and
 * restore. Create, upload, delete and restore answer 204. The work is in core/backups.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { formatDate } from '../../core/time.js';
import { forbidden, notFound } from '../../core/errors.js';
import { SUPERUSERS_COLLECTION_ID } from '../../core/model/collection-types.js';
import { isBackupKey } from '../../core/backups/backup-key.js';
import { readBody } from '../body.js';
import { superuserIpAllowed } from '../superuser-ips.js';
import { streamUploadedFile } from '../upload-stream.js';
import { superusersOnly } from './guards.js';

type Params = { key: string };

/** How long a restore waits for the requests in flight before it gives up (and changes nothing). */
const DRAIN_TIMEOUT_MS = 30_000;

const FORBIDDEN_DOWNLOAD = 'Insufficient permissions to access the resource.';

export function registerBackupRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/backups', superusersOnly, async () =>
    (await app.backups.list()).map((b) => ({ key: b.key, size: b.size, modified: formatDate(b.modified) })),
  );

  server.post('/api/backups', superusersOnly, async (request, reply) => {
    const { data } = await readBody(request);
    await app.backups.create(data.name);
    return reply.code(204).send();
  });

  // No body limit: a backup is as large as the data (streamed to disk, never held in memory).
  server.post('/api/backups/upload', superusersOnly, async (request, reply) => {
    const upload = await streamUploadedFile(request, 'file');
    await app.backups.upload(upload?.filename ?? null, upload?.stream ?? null);
    return reply.code(204).send();
  });

  // Links work without an Authorization header: a superuser's file token (`POST /api/files/token`) in `?token=`.
  server.get<{ Params: Params; Querystring: { token?: unknown } }>('/api/backups/:key', async (request, reply) => {
    const token = request.query.token;
    const found = typeof token === 'string' && token !== '' ? await app.auth.findByToken(token, 'file') : null;
    if (!found || found.record.collection.id !== SUPERUSERS_COLLECTION_ID || !superuserIpAllowed(app, request)) throw forbidden(FORBIDDEN_DOWNLOAD);
    const key = request.params.key;
    const file = isBackupKey(key) ? await app.backups.download(key) : null;
    if (!file) throw notFound();
    return reply
      .header('content-type', 'application/zip')
      .header('content-length', String(file.size))
      .header('content-disposition', `attachment; filename="${key}"`)
      .header('cache-control', 'no-store')
      .send(file.stream);
  });

  server.delete<{ Params: Params }>('/api/backups/:key', superusersOnly, async (request, reply) => {
    await app.backups.delete(request.params.key);
    return reply.code(204).send();
  });

  server.post<{ Params: Params }>('/api/backups/:key/restore', superusersOnly, async (request, reply) => {
    // The other requests in flight finish first; this one is among the running handlers.
    await app.backups.restore(request.params.key, { drain: () => server.inFlight.idle(DRAIN_TIMEOUT_MS, 1) });
    return reply.code(204).send();
  });
}
