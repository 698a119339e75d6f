/**
 * `npm run lint:deploy`: static checks of the deployment files, offline (no container engine or
 * cluster runs in CI): deploy/Dockerfile and .dockerignore, deploy/compose.yaml and its nginx
 * config, deploy/kubernetes/*.yaml. Prints every problem and exits 1 when there is one.
 * `--fix` rewrites deploy/compose/nginx.conf from examples/nginx/basalt.conf first.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintCompose } from './lint-deploy/compose.js';
import { lintDockerfile, parseDockerfile } from './lint-deploy/dockerfile.js';
import { lintKubernetes } from './lint-deploy/kubernetes.js';
import { COMPOSE_NGINX, expectedComposeNginx, lintComposeNginx } from './lint-deploy/nginx.js';
import { readFileSync } from 'node:fs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCKERFILE = 'deploy/Dockerfile';

async function main(): Promise<number> {
  if (process.argv.includes('--fix')) writeFileSync(join(ROOT, COMPOSE_NGINX), expectedComposeNginx(ROOT));
  const dockerfileHealthcheck = parseDockerfile(readFileSync(join(ROOT, DOCKERFILE), 'utf8')).some((i) => i.keyword === 'HEALTHCHECK');
  const checks: [string, () => string[] | Promise<string[]>][] = [
    [DOCKERFILE, () => lintDockerfile(ROOT, DOCKERFILE)],
    ['deploy/compose.yaml', () => lintCompose(ROOT, 'deploy/compose.yaml', dockerfileHealthcheck)],
    [COMPOSE_NGINX, () => lintComposeNginx(ROOT)],
    ['deploy/kubernetes', () => lintKubernetes(ROOT, 'deploy/kubernetes')],
  ];
  let failed = 0;
  for (const [what, check] of checks) {
    const problems = await check();
    console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${what}${problems.length ? ` (${problems.length})` : ''}`);
    for (const p of problems) console.log(`  ${p}`);
    failed += problems.length;
  }
  console.log(failed === 0 ? 'deployment files: no problems' : `deployment files: ${failed} problem(s)`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 2;
  },
);
