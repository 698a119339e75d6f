/** The request as hooks see it (core/hooks/request-origin.ts), and a hook's answer written back. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { RequestOrigin } from '../core/hooks/request-origin.js';
import type { App } from '../core/app.js';
import { clientIpOf } from './client-ip.js';
import { callerOf } from './context.js';

export function originOf(app: App, request: FastifyRequest, params: Record<string, string> = (request.params ?? {}) as Record<string, string>): RequestOrigin {
  const info = callerOf(request).info;
  return { method: request.method, url: request.url, ip: clientIpOf(app, request), headers: request.headers, params, info, auth: info.auth, response: null };
}

/** Sends what a hook answered (`e.json()`…); false when no hook did. */
export function sendHookResponse(origin: RequestOrigin, reply: FastifyReply): boolean {
  const r = origin.response;
  if (!r) return false;
  reply.code(r.status);
  for (const [name, value] of Object.entries(r.headers ?? {})) reply.header(name, value);
  if (r.body === undefined) {
    reply.send();
    return true;
  }
  if (r.type) reply.type(r.type);
  const body = r.body;
  // A streamed answer (SSE, a download): any async iterable of strings or bytes.
  if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && Symbol.asyncIterator in body && !(body instanceof Readable)) {
    reply.send(Readable.from(body as AsyncIterable<unknown>));
  } else {
    reply.send(body);
  }
  return true;
}
