/**
 * Owns what is registered on an app: the hook registry, the custom routes, and the crons and jobs
 * hook code declares. Framework code adds bindings once; hook files form one replaceable set (a
 * `--dev` reload swaps it whole). Crons and jobs are applied through the services that run them.
 */
import type { AppliedBindings, CronBinding, HookBindings, JobBinding } from './hook-bindings.js';
import { bindHooks } from './hook-bindings.js';
import type { HookRegistry } from './hook-registry.js';
import type { CustomRoute } from './route-table.js';

/** Registers crons or jobs with the service that runs them; returns how to take them back out. */
export interface BindingAppliers {
  crons?: (crons: CronBinding[]) => () => void;
  jobs?: (jobs: JobBinding[]) => () => void;
}

export class HookHost {
  private codeRoutes: CustomRoute[] = [];
  private fileRoutes: CustomRoute[] = [];
  private fileSet: AppliedBindings | null = null;
  private fileBindings: HookBindings | null = null;
  private appliers: BindingAppliers = {};
  /** Checks routes against the built-in ones (set by the HTTP server once it knows them). */
  private routeGuard: ((routes: readonly CustomRoute[]) => void) | null = null;
  /** Bumped on every change of the route table (the HTTP layer rebuilds its router then). */
  routesVersion = 0;

  constructor(readonly registry: HookRegistry) {}

  setAppliers(appliers: BindingAppliers): void {
    this.appliers = { ...this.appliers, ...appliers };
  }

  setRouteGuard(guard: (routes: readonly CustomRoute[]) => void): void {
    this.routeGuard = guard;
    guard(this.routes);
  }

  get routes(): readonly CustomRoute[] {
    return [...this.codeRoutes, ...this.fileRoutes];
  }

  private checkRoutes(routes: readonly CustomRoute[]): void {
    const seen = new Map<string, CustomRoute>();
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      const other = seen.get(key);
      if (other) throw new Error(`routerAdd: ${key} is registered twice (${other.source} and ${r.source})`);
      seen.set(key, r);
    }
    this.routeGuard?.(routes);
  }

  private apply(bindings: HookBindings): AppliedBindings {
    const undo: (() => void)[] = [];
    try {
      if (bindings.crons.length > 0) {
        if (!this.appliers.crons) throw new Error('cronAdd: this app has no cron scheduler');
        undo.push(this.appliers.crons(bindings.crons));
      }
      if (bindings.jobs.length > 0) {
        if (!this.appliers.jobs) throw new Error('jobs.define: this app has no job queue');
        undo.push(this.appliers.jobs(bindings.jobs));
      }
    } catch (err) {
      for (const u of undo.reverse()) u();
      throw err;
    }
    const hooks = bindHooks(this.registry, bindings);
    undo.push(() => hooks.unbind());
    return { unbind: () => undo.reverse().forEach((u) => u()) };
  }

  /** Adds bindings for good (framework code). */
  add(bindings: HookBindings): void {
    const routes = [...this.codeRoutes, ...bindings.routes];
    this.checkRoutes([...routes, ...this.fileRoutes]);
    this.apply(bindings);
    this.codeRoutes = routes;
    this.routesVersion++;
  }

  /**
   * Replaces the hook files' bindings with `bindings`, all at once; if the new set cannot be
   * applied (a route collides, a cron is malformed), the previous set stays and the error is thrown.
   */
  replaceFileSet(bindings: HookBindings): void {
    this.checkRoutes([...this.codeRoutes, ...bindings.routes]);
    this.fileSet?.unbind();
    try {
      this.fileSet = this.apply(bindings);
    } catch (err) {
      // Put the previous set back as it was.
      this.fileSet = this.fileBindings ? this.apply(this.fileBindings) : null;
      throw err;
    }
    this.fileBindings = bindings;
    this.fileRoutes = bindings.routes;
    this.routesVersion++;
  }
}
