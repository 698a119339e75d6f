/** `/api/settings` (superusers): read and change the runtime settings, send a test email, test an S3 bucket. */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { sendTestEmail } from '../../core/mail/test-email.js';
import { redactSettings, type Settings } from '../../core/settings/settings.js';
import { readBody } from '../body.js';
import { clientIpUnder } from '../client-ip.js';
import { superusersOnly } from './guards.js';

export function registerSettingsRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/settings', superusersOnly, async () => redactSettings(app.settings.get()));

  server.patch('/api/settings', superusersOnly, async (request) => {
    const { data } = await readBody(request);
    // The caller's address under the new trusted-proxy settings: a change that would shut them
    // out of the admin API (superuserIPs) is refused.
    const callerIp = (next: Settings) => clientIpUnder(request, app.config.trustProxy, next.trustedProxy);
    return redactSettings(await app.settings.update(data, { callerIp }));
  });

  server.post('/api/settings/test/s3', superusersOnly, async (request, reply) => {
    const { data } = await readBody(request);
    await app.s3Probe.test(data);
    return reply.code(204).send();
  });

  server.post('/api/settings/test/email', superusersOnly, async (request, reply) => {
    const { data } = await readBody(request);
    await sendTestEmail(app, data);
    return reply.code(204).send();
  });
}
