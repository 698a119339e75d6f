/**
 * One delivery attempt, as the job `basalt:webhook` runs it: signs the message (Standard
 * Webhooks: `webhook-id`, `webhook-timestamp` of this attempt, `webhook-signature` with every
 * secret in force), POSTs it through the guarded transport, logs the attempt, and tells the job
 * queue what comes next: nothing on a 2xx; another attempt on a timeout, a connection error, a
 * 408, 429 or 5xx (after `Retry-After` when given, else the retry schedule); no more attempts on
 * any other answer, a redirect, or a refused target. It also keeps the endpoint's health: failing
 * since the first failure after a success, disabled once failing for `disableAfterMs`.
 */
import type { WebhooksConfig } from '../config.js';
import type { JobContext } from '../jobs/job-types.js';
import { FailJobNow, RetryJobLater } from '../jobs/job-errors.js';
import type { Clock, Logger, OutgoingResponse, WebhookTransport } from '../ports.js';
import { newId } from '../ids.js';
import { noMetrics, type Metrics } from '../metrics/metrics.js';
import { formatDate } from '../time.js';
import type { DeliveryJob } from './webhook-outbox.js';
import { standardHeaders } from './signatures.js';
import type { WebhookEndpoint } from './webhook-endpoint.js';
import type { WebhookRegistry } from './webhook-registry.js';
import type { DeliveryRow, DeliveryState, WebhookStore } from './webhook-store.js';
import { classifyStatus, parseRetryAfter, retryDelay } from './retry-schedule.js';

export const USER_AGENT = 'Basalt-Webhooks/1';
const MAX_ERROR = 1000;

export interface DeliveryDeps {
  store: WebhookStore;
  registry: WebhookRegistry;
  transport: WebhookTransport;
  clock: Clock;
  logger: Logger;
  config: WebhooksConfig;
  /** Counts attempts by result. @default noMetrics */
  metrics?: Metrics;
}

/** The secrets that sign now: the current one, and the previous one until its grace period ends. */
export function signingSecrets(endpoint: WebhookEndpoint, nowText: string): string[] {
  return endpoint.previousSecret && endpoint.previousSecretExpires > nowText ? [endpoint.secret, endpoint.previousSecret] : [endpoint.secret];
}

export class WebhookDelivery {
  constructor(private readonly deps: DeliveryDeps) {}

  /** The job handler. */
  async attempt(job: JobContext<DeliveryJob>): Promise<void> {
    const { store, registry, transport, clock } = this.deps;
    const p = job.payload;
    const endpoint = registry.get(p.w) ?? (await registry.reload().then(() => registry.get(p.w)));
    // Deleted with its log: nothing left to deliver to or to record.
    if (!endpoint) return;
    const number = (p.a0 ?? 0) + job.attempt;
    const body = typeof p.b === 'string' ? p.b : JSON.stringify(p.b);
    const startMs = clock.now();
    const now = formatDate(new Date(startMs));
    const delivery: DeliveryRow = { id: p.m, webhook: p.w, type: p.t, collectionRef: p.c, recordRef: p.r, payload: body, state: 'pending', attempts: number - 1, lastStatus: 0, lastError: '', nextAttempt: '', created: p.at, updated: now };
    if (!endpoint.enabled) {
      await store.setDeliveryState({ ...delivery, state: 'skipped', lastError: 'the endpoint is disabled' });
      return;
    }
    const headers = {
      ...endpoint.headers,
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...standardHeaders(signingSecrets(endpoint, now), p.m, Math.floor(startMs / 1000), body),
    };
    let response: OutgoingResponse | null = null;
    let error = '';
    let refused = false;
    try {
      response = await transport.post(endpoint.url, headers, body, job.signal);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      refused = e.name === 'OutgoingRequestRefused' || (e.cause as Error | undefined)?.name === 'OutgoingRequestRefused' || e.cause?.code === 'EREFUSED_PRIVATE';
      error = describeError(e);
    }
    const endMs = clock.now();
    let outcome: 'succeeded' | 'retry' | 'failed' = response ? classifyStatus(response.status) : refused ? 'failed' : 'retry';
    if (response && response.status >= 300 && response.status < 400) error = `redirect (${response.status}) not followed: point the endpoint at the final URL`;
    else if (response && outcome !== 'succeeded') error = `HTTP ${response.status}`;
    let delay: number | null = null;
    if (outcome === 'retry') {
      // The schedule counts this job's attempts: a replay gets the whole schedule again.
      const scheduled = retryDelay(this.deps.config.retryScheduleMs, job.attempt);
      if (scheduled === null) outcome = 'failed';
      else delay = (response ? parseRetryAfter(response.headers['retry-after'], endMs) : null) ?? scheduled;
    }
    const state: DeliveryState = outcome === 'retry' ? 'retrying' : outcome;
    await store.recordAttempt(
      { ...delivery, state, attempts: number, lastStatus: response?.status ?? 0, lastError: error.slice(0, MAX_ERROR), nextAttempt: outcome === 'retry' ? formatDate(new Date(endMs + delay!)) : '', updated: formatDate(new Date(endMs)) },
      {
        id: newId(),
        delivery: p.m,
        webhook: p.w,
        attempt: number,
        started: now,
        durationMs: Math.max(0, Math.round(endMs - startMs)),
        status: response?.status ?? 0,
        responseHeaders: JSON.stringify(response?.headers ?? {}) as never,
        responseBody: response?.body ?? '',
        error: error.slice(0, MAX_ERROR),
      },
    );
    (this.deps.metrics ?? noMetrics).webhookDelivery(outcome);
    await this.keepHealth(endpoint, outcome === 'succeeded', endMs);
    if (outcome === 'retry') throw new RetryJobLater(`webhook ${p.w}: ${error}`, delay!);
    if (outcome === 'failed') throw new FailJobNow(`webhook ${p.w}: ${error}`);
  }

  /** Failing since the first failure after a success; disabled after failing for `disableAfterMs`. */
  private async keepHealth(endpoint: WebhookEndpoint, ok: boolean, nowMs: number): Promise<void> {
    const { store, registry, logger, config } = this.deps;
    if (ok) {
      if (endpoint.failingSince === '') return;
      await store.update(endpoint.id, { failingSince: '' });
      await registry.changed();
      return;
    }
    if (endpoint.failingSince === '') {
      await store.markFailing(endpoint.id, formatDate(new Date(nowMs)));
      await registry.changed();
      return;
    }
    const since = Date.parse(endpoint.failingSince.replace(' ', 'T'));
    if (Number.isNaN(since) || nowMs - since < config.disableAfterMs) return;
    const reason = `disabled automatically: every delivery failed since ${endpoint.failingSince}`;
    if (await store.update(endpoint.id, { enabled: false as never, disabledReason: reason, updated: formatDate(new Date(nowMs)) })) {
      logger.warn({ webhook: endpoint.id, url: endpoint.url, failingSince: endpoint.failingSince }, 'webhooks: endpoint disabled after failing too long; fix the receiver, then enable it again (PATCH enabled: true) and replay what it missed');
      await registry.changed();
    }
  }
}

/** A connection error as the log shows it: the cause's code and message, without stack or secrets. */
function describeError(err: Error & { cause?: { code?: string; message?: string } }): string {
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  const cause = err.cause;
  const text = cause?.message && cause.message !== err.message ? `${err.message}: ${cause.code ? `${cause.code} ` : ''}${cause.message}` : err.message;
  return text || 'connection failed';
}
