/**
 * The `basalt` package: framework mode (`createBasalt`), `defineHooks` for hook files, the errors
 * and route middlewares hook code uses, and their types.
 */
export * from './public-api.js';
export type { Basalt, BasaltOptions } from './cli/create-basalt.js';
export type { HooksApi, HooksSetup, JobsApi, WebhooksApi } from './core/hooks/hooks-api.js';
export type { WebhookEvent, ReceivedEvent } from './core/webhooks/webhook-event.js';
export type { ReceiverOptions, VerifySpec, HmacVerify } from './core/webhooks/webhook-receiver.js';
export type { HookApp, HookRecords, ListOptions, ViewOptions, WriteOptions, ActAs, JsonRecord } from './core/hooks/hook-app.js';
export type { HookRecord } from './core/hooks/hook-record.js';
export type { RecordEvent, RecordRequestEvent, RecordErrorEvent, RecordTransitionEvent, TransitionInfo, RouteEvent, LifecycleEvent, HookRequestInfo } from './core/hooks/hook-events.js';
export type { HookHandler } from './core/hooks/hook.js';
export type { RouteMiddleware } from './core/hooks/route-table.js';
export type { Config } from './core/config.js';
