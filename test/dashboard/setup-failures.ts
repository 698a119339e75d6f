/**
 * Every dashboard suite: a failed test prints the running servers' last output (dashboard-harness.ts),
 * next to the failure in the CI log.
 */
import { afterEach } from 'vitest';
import { printServerTails } from './dashboard-harness.js';

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') printServerTails(ctx.task.name);
});
