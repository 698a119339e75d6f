/** The `basalt` command: the only composition root (reads flags and environment, builds the app). */
import { UsageError, SERVE_OPTIONS } from './config-from-args.js';
import { serve } from './serve.js';
import { superuser } from './superuser.js';
import { jobs } from './jobs.js';

const HELP = `Basalt — a back end for web and mobile apps (PocketBase SDK compatible)

Usage:
  basalt serve [options]                       start the HTTP server
  basalt superuser upsert EMAIL PASSWORD [--dir --db]
  basalt superuser delete EMAIL [--dir --db]
  basalt jobs list [--filter EXPR] [--limit N] [--dir --db]
  basalt jobs retry|cancel ID [--dir --db]     a failed/cancelled job back to queued; cancel a queued/running one

Options (each also from its environment variable):
${Object.entries(SERVE_OPTIONS)
  .map(([name, o]) => `  --${name.padEnd(12)} ${o.env.padEnd(20)} ${o.help}`)
  .join('\n')}
`;

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, env);
      case 'superuser':
        return await superuser(rest, env);
      case 'jobs':
        return await jobs(rest, env);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(HELP);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`basalt: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
