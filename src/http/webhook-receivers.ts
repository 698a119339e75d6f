/**
 * Serves inbound webhook receivers (core/webhooks): their body is read raw — the exact bytes the
 * sender signed — before Fastify's content-type parsers see it, bounded by the receiver's limit
 * (413 beyond). The parsers then get an empty stream, so a malformed body cannot be refused as
 * malformed (400) before its signature is checked (401).
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';
import type { App } from '../core/app.js';
import { ApiError, MESSAGES } from '../core/errors.js';
import { receiveWebhook } from '../core/webhooks/webhook-inbox.js';
import type { WebhookReceiver } from '../core/webhooks/webhook-receiver.js';
import { parseJsonText } from './body.js';
import { originOf, sendHookResponse } from './request-origin.js';

/** A delivery read by the preParsing hook: the receiver it was read for and its bytes. */
export interface ReceivedDelivery {
  receiver: WebhookReceiver;
  raw: Buffer;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for a POST to a webhook receiver once its body was read. */
    webhookDelivery: ReceivedDelivery | null;
  }
}

const tooLarge = () => new ApiError(413, MESSAGES.bodyTooLarge);

/** The receiver a request is for, if any (the custom route table's lookup). */
export type FindReceiver = (request: FastifyRequest) => WebhookReceiver | null;

/** The preParsing hook of the not-found context: reads a receiver's body raw, passes anything else through. */
export function readReceiverBodies(app: App, find: FindReceiver): preParsingHookHandler {
  return (request, _reply, payload, done) => {
    const receiver = request.method === 'POST' ? find(request) : null;
    if (!receiver) return done(null, payload);
    const limit = Math.min(receiver.bodyLimit, app.config.bodyLimit);
    if (Number(request.headers['content-length']) > limit) return done(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', settle);
      if (err) return done(err);
      request.webhookDelivery = { receiver, raw: Buffer.concat(chunks, size) };
      // What the body parsers read instead: nothing, but as long as what was received, so their
      // Content-Length check holds (Fastify's documented contract for preParsing streams).
      const rest = Readable.from([]) as Readable & { receivedEncodedLength: number };
      rest.receivedEncodedLength = size;
      done(null, rest);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > limit) return settle(tooLarge());
      chunks.push(bytes);
    };
    const onEnd = () => settle(null);
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', settle);
  };
}

/** Answers a delivery the preParsing hook read. */
export async function runReceiver(app: App, delivery: ReceivedDelivery, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const origin = originOf(app, request, {});
  const answer = await receiveWebhook(
    { db: app.db, clock: app.clock, logger: app.logger, hookApp: (tx) => app.hookApp(tx), parseJson: parseJsonText },
    delivery.receiver,
    delivery.raw,
    origin,
  );
  if (answer === null) {
    sendHookResponse(origin, reply);
    return reply;
  }
  reply.code(answer.status);
  if (answer.body === undefined) return reply.send();
  return answer.body;
}
