/**
 * Realtime over Server-Sent Events (spec §1.6): `GET /api/realtime` opens the stream (the first
 * message is `PB_CONNECT`), `POST /api/realtime` binds the caller's auth and replaces the
 * client's subscriptions. A connection that falls too far behind is dropped rather than
 * buffered without bound; the SDK reconnects and subscribes again.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import type { RealtimeChannel } from '../../core/realtime/realtime-client.js';
import { readBody } from '../body.js';
import { clientIpOf } from '../client-ip.js';
import { callerOf } from '../context.js';
import { refuseApiKeys } from './guards.js';

/** Bytes a connection may have waiting to be sent before it is considered dead or too slow. */
export const MAX_BUFFERED_BYTES = 1 << 20;

export function registerRealtimeRoutes(server: FastifyInstance, app: App): void {
  const { hub } = app.realtime;

  // Open streams would keep a graceful close waiting forever: end them first.
  server.addHook('preClose', (done) => {
    hub.closeAll();
    done();
  });

  server.get('/api/realtime', async (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    request.raw.socket.setNoDelay(true);
    let overloaded = false;
    const channel: RealtimeChannel = {
      write(frame) {
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          overloaded = true;
          return false;
        }
        res.write(frame);
        return true;
      },
      close() {
        // A slow reader would keep a graceful end waiting on the same backlog: cut it.
        if (overloaded) res.destroy();
        else res.end();
      },
    };
    const client = hub.connect(channel, clientIpOf(app, request));
    res.once('close', () => client.close());
  });

  server.post('/api/realtime', { preHandler: refuseApiKeys }, async (request, reply) => {
    const { data } = await readBody(request);
    const caller = callerOf(request);
    hub.subscribe(data, caller.principal, clientIpOf(app, request));
    return reply.code(204).send();
  });
}
