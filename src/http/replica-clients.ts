/**
 * Who a request is for the read replicas' read-your-writes (README "Read replicas"): its
 * principal (an auth record, an API key) and its address. A write is remembered under every key
 * of the request that made it, and a read waits for a replica that has replayed the writes of
 * any of its keys: a browser loading an image (no Authorization header) right after its user's
 * upload is matched by its address.
 */
import type { FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { recordId } from '../core/model/record-model.js';
import { clientIpOf } from './client-ip.js';

export function replicaClientsOf(app: App, request: FastifyRequest): string[] {
  const keys: string[] = [];
  const auth = request.basaltAuth;
  if (auth) keys.push(`r:${auth.record.collection.id}:${recordId(auth.record)}`);
  const apiKey = request.basaltApiKey;
  if (apiKey) keys.push(`k:${apiKey.id}`);
  keys.push(`ip:${clientIpOf(app, request)}`);
  return keys;
}
