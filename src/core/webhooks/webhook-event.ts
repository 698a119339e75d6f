/**
 * What a receiver's handler gets: the verified delivery (`e.body`, `e.rawBody`, `e.headers`,
 * `e.event`), `e.app` bound to the transaction that also stores the event, and the answers of a
 * custom route (`e.json()`, `e.string()`, `e.noContent()`…; default 200 `{"received": true}`).
 */
import type { HookApp } from '../hooks/hook-app.js';
import { RequestEventBase } from '../hooks/hook-events.js';
import type { RequestOrigin } from '../hooks/request-origin.js';

export interface ReceivedEvent {
  /** The sender's event id: `webhook-id`, Stripe's `id`, `X-GitHub-Delivery`, or the hmac receiver's choice. */
  id: string;
  /** Stripe's `type`, `X-GitHub-Event`, a Standard Webhooks body's `type`; '' when the delivery names none. */
  type: string;
}

export class WebhookEvent extends RequestEventBase {
  constructor(
    app: HookApp,
    origin: RequestOrigin,
    /** The parsed JSON when the content type is JSON, else the body as text. */
    readonly body: unknown,
    /** The exact bytes received (what the signature covers). */
    readonly rawBody: Buffer,
    readonly event: ReceivedEvent,
  ) {
    super(app, origin);
  }

  /** The request headers (lower-case names). */
  get headers(): Readonly<Record<string, string | string[] | undefined>> {
    return this.origin.headers;
  }

  /** One header's value ('' when absent; the first when repeated). */
  header(name: string): string {
    return this.request.header(name);
  }
}
