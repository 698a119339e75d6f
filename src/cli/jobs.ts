/**
 * `basalt jobs list [--filter EXPR] [--limit N]`, `basalt jobs retry ID`, `basalt jobs cancel ID`
 * (with `--dir`/`--db` like every command): the job queue's operator API from a shell. The app
 * opened here defines no job, so it runs no worker; a server sharing the database picks up a
 * retried job at its next poll (PostgreSQL: at once, through NOTIFY).
 */
import { listJobs } from '../core/jobs/job-list.js';
import type { JobJson } from '../core/jobs/job-types.js';
import { isApiError } from '../core/errors.js';
import { systemCaller } from '../core/records/caller.js';
import { buildConfig, readOptions, UsageError } from './config-from-args.js';
import { createLogger, openApp } from './open-app.js';

const USAGE = 'usage: basalt jobs list [--filter EXPR] [--limit N] | basalt jobs retry ID | basalt jobs cancel ID  [--dir DIR --db URL]';

/** Takes `--name VALUE` / `--name=VALUE` out of `args` (options the shared parser does not know). */
function takeOption(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) {
      const value = args[i + 1];
      if (value === undefined) throw new UsageError(`--${name} needs a value\n${USAGE}`);
      args.splice(i, 2);
      return value;
    }
    if (args[i].startsWith(`--${name}=`)) {
      const value = args[i].slice(name.length + 3);
      args.splice(i, 1);
      return value;
    }
  }
  return undefined;
}

function line(job: JobJson): string {
  const error = job.lastError ? `  ${job.lastError.split('\n')[0].slice(0, 80)}` : '';
  return `${job.id}  ${job.state.padEnd(9)}  ${job.name.padEnd(20)}  attempts ${job.attempts}/${job.maxAttempts}  runAt ${job.runAt}${error}`;
}

export async function jobs(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'list' && action !== 'retry' && action !== 'cancel') throw new UsageError(USAGE);
  const filter = takeOption(rest, 'filter') ?? '';
  const limitText = takeOption(rest, 'limit') ?? '50';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be an integer between 1 and 1000\n${USAGE}`);
  const { values, positionals } = readOptions(rest, env, ['dir', 'db', 'log-level']);
  const id = positionals[0];
  if (action === 'list' ? positionals.length > 0 : positionals.length !== 1) throw new UsageError(USAGE);
  const config = buildConfig({ ...values, 'log-level': values['log-level'] ?? 'warn' });
  const app = await openApp(config, createLogger(config));
  try {
    if (action === 'list') {
      const result = await listJobs(app.query, { filter, perPage: String(limit), sort: '-created' }, systemCaller());
      for (const job of result.items) console.log(line(job));
      console.log(`${result.items.length} of ${result.totalItems} job(s)`);
      return 0;
    }
    const job = action === 'retry' ? await app.jobs.retry(id) : await app.jobs.cancel(id);
    console.log(`${action === 'retry' ? 'Queued again' : 'Cancelled'}: ${line(job)}`);
    return 0;
  } catch (err) {
    if (isApiError(err)) {
      const details = Object.values(err.data)
        .map((e) => (e as { message?: string }).message ?? '')
        .filter(Boolean)
        .join('; ');
      throw new UsageError(`cannot ${action}${id ? ` job ${id}` : ' jobs'}: ${err.status === 404 ? 'no such job' : err.message}${details ? ` ${details}` : ''}`);
    }
    throw err;
  } finally {
    await app.close();
  }
}
