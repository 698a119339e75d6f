/** The files API, spec §1.7: downloads (with thumbs, protected files) and file tokens. */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { forbidden, MESSAGES, unauthorized } from '../../core/errors.js';
import { issueFileToken } from '../../core/files/file-token.js';
import { callerOf, queryOf } from '../context.js';
import { isForcedDownload, sendStoredFile } from '../file-response.js';
import { superuserIpAllowed } from '../superuser-ips.js';

type Params = { collection: string; record: string; filename: string };

export function registerFileRoutes(server: FastifyInstance, app: App): void {
  // GET and HEAD in one route: Fastify's automatic HEAD route would replace the Content-Length
  // of a body-less answer with 0.
  server.route<{ Params: Params }>({
    method: ['GET', 'HEAD'],
    url: '/api/files/:collection/:record/:filename',
    // The record lookup may be served by a read replica (README "Read replicas").
    config: { rateLimit: ['file'], replicaReads: true },
    handler: async (request, reply) => {
      const query = queryOf(request);
      const file = await app.downloads.resolve({
        collection: request.params.collection,
        recordId: request.params.record,
        filename: request.params.filename,
        thumb: query.thumb ?? '',
        token: query.token ?? '',
        info: callerOf(request).info,
        superuserAllowed: superuserIpAllowed(app, request),
      });
      return sendStoredFile(request, reply, app.files, file, isForcedDownload(query.download));
    },
  });

  server.post('/api/files/token', async (request) => {
    if (request.basaltApiKey) throw forbidden(MESSAGES.fileTokenApiKey);
    const auth = callerOf(request).auth;
    if (!auth) throw unauthorized(MESSAGES.fileTokenRequiresAuth);
    return { token: await issueFileToken(app.clock, auth) };
  });
}
