/**
 * `app.jobs.define` from hook code, applied to the job queue. A job name is defined on the queue
 * once per process, with a handler that runs the binding in force: a `--dev` reload swaps the
 * handler without redefining the job (its options keep their first values until a restart), and
 * a job whose binding went away fails its attempt with a clear message (and is retried).
 */
import type { JobQueue } from '../jobs/job-queue.js';
import type { JobContext, JobDefinitionOptions } from '../jobs/job-types.js';
import type { HookApp } from './hook-app.js';
import type { JobBinding } from './hook-bindings.js';

export class JobBindings {
  private readonly current = new Map<string, JobBinding>();

  constructor(
    private readonly jobs: JobQueue,
    private readonly app: () => HookApp,
  ) {}

  apply(bindings: JobBinding[]): () => void {
    for (const b of bindings) {
      if (this.current.has(b.name)) throw new Error(`${b.source}: jobs.define: the job "${b.name}" is already defined`);
    }
    const added: string[] = [];
    try {
      for (const b of bindings) {
        if (!this.jobs.isDefined(b.name)) {
          try {
            this.jobs.define(b.name, (job: JobContext) => this.run(b.name, job), b.options as JobDefinitionOptions);
          } catch (err) {
            throw new Error(`${b.source}: ${(err as Error).message}`);
          }
        }
        this.current.set(b.name, b);
        added.push(b.name);
      }
    } catch (err) {
      for (const name of added) this.current.delete(name);
      throw err;
    }
    return () => {
      for (const name of added) this.current.delete(name);
    };
  }

  private async run(name: string, job: JobContext): Promise<unknown> {
    const binding = this.current.get(name);
    if (!binding) throw new Error(`the job "${name}" is no longer defined by the hook files`);
    return binding.handler({ ...job, app: this.app() });
  }
}
