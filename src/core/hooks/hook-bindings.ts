/**
 * What a set of hook files (or framework code) registers — hook handlers, routes, crons, jobs —
 * recorded first and applied in one synchronous step. A reload in `--dev` loads every file into
 * new bindings; only when all of them loaded does it replace the previous set, so requests see
 * either the old hooks or the new ones, never a mix or a half-loaded file.
 */
import type { HookHandler, HookEvent, Hook } from './hook.js';
import type { HookRegistry } from './hook-registry.js';
import type { CustomRoute } from './route-table.js';
import type { HookApp } from './hook-app.js';
import type { JobContext } from '../jobs/job-types.js';

export type HookName = {
  [K in keyof HookRegistry]: HookRegistry[K] extends Hook<any> ? K : never;
}[keyof HookRegistry];

export interface CronBinding {
  id: string;
  expression: string;
  handler: (run: { id: string; tick: number | null; signal: AbortSignal; app: HookApp }) => unknown;
  options: { timezone?: string; catchUp?: boolean };
  source: string;
}

export interface JobBinding {
  name: string;
  handler: (job: JobContext<any> & { app: HookApp }) => unknown;
  options: Record<string, unknown>;
  source: string;
}

export class HookBindings {
  readonly hooks: { name: HookName; handler: HookHandler<HookEvent>; tags: string[]; source: string }[] = [];
  readonly routes: CustomRoute[] = [];
  readonly crons: CronBinding[] = [];
  readonly jobs: JobBinding[] = [];
}

/** The handles of applied bindings, to take them back out. */
export interface AppliedBindings {
  unbind(): void;
}

export function bindHooks(registry: HookRegistry, bindings: HookBindings): AppliedBindings {
  const bound: { hook: Hook<any>; id: number }[] = [];
  for (const b of bindings.hooks) {
    const hook = registry[b.name] as Hook<any>;
    bound.push({ hook, id: hook.bind(b.handler, b.tags) });
  }
  return {
    unbind() {
      for (const { hook, id } of bound) hook.unbind(id);
    },
  };
}
