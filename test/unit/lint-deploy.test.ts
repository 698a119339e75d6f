/**
 * `npm run lint:deploy` (scripts/lint-deploy/): the repository's deployment files pass, and each
 * kind of mistake in a copy of them is reported — a checker that cannot fail proves nothing.
 * Copies live under .tmp/ in the repository, so the manifests' type check resolves kubernetes-models.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintCompose } from '../../scripts/lint-deploy/compose.js';
import { lintDockerfile } from '../../scripts/lint-deploy/dockerfile.js';
import { lintKubernetes } from '../../scripts/lint-deploy/kubernetes.js';
import { lintComposeNginx } from '../../scripts/lint-deploy/nginx.js';

const ROOT = resolve(import.meta.dirname, '../..');
const copies: string[] = [];
afterAll(() => copies.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the deployment files (and stand-ins for what the Dockerfile copies) with `edit` applied to `file`. */
function copyWith(file: string, edit: (text: string) => string): string {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  const root = mkdtempSync(join(ROOT, '.tmp', 'lint-deploy-'));
  copies.push(root);
  cpSync(join(ROOT, 'deploy'), join(root, 'deploy'), { recursive: true });
  cpSync(join(ROOT, 'examples/nginx'), join(root, 'examples/nginx'), { recursive: true });
  cpSync(join(ROOT, '.dockerignore'), join(root, '.dockerignore'));
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) writeFileSync(join(root, f), '{}');
  for (const d of ['src', 'bin', 'runtime']) mkdirSync(join(root, d));
  const before = readFileSync(join(root, file), 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`the edit of ${file} changed nothing`);
  writeFileSync(join(root, file), after);
  return root;
}

/** The check that reads `file` (the type check of the manifests costs about half a second). */
const checkOf = (file: string, root: string): string[] | Promise<string[]> =>
  file.startsWith('deploy/kubernetes/')
    ? lintKubernetes(root, 'deploy/kubernetes')
    : file === 'deploy/compose.yaml'
      ? lintCompose(root, file, true)
      : file === 'deploy/compose/nginx.conf'
        ? lintComposeNginx(root)
        : lintDockerfile(root, 'deploy/Dockerfile');

const all = async (root: string) => [
  ...lintDockerfile(root, 'deploy/Dockerfile'),
  ...lintCompose(root, 'deploy/compose.yaml', true),
  ...lintComposeNginx(root),
  ...(await lintKubernetes(root, 'deploy/kubernetes')),
];

describe('lint:deploy', () => {
  it("passes the repository's deployment files", async () => {
    expect(await all(ROOT)).toEqual([]);
  });

  it.each([
    ['deploy/Dockerfile', (t: string) => t.replace('USER 1000:1000', 'USER root'), /final stage runs as root/],
    ['deploy/Dockerfile', (t: string) => t.replace(/^USER .*$/m, ''), /no USER/],
    ['deploy/Dockerfile', (t: string) => t.replace('--interval=10s', '--interval=10x'), /unknown unit x/],
    ['deploy/Dockerfile', (t: string) => t.replace(/^CMD .*$/m, 'CMD node bin/basalt.js serve'), /shell form/],
    ['deploy/Dockerfile', (t: string) => t.replace(/^ARG NODE_IMAGE=.*$/m, 'ARG NODE_IMAGE=node:latest'), /pinned to latest/],
    ['deploy/Dockerfile', (t: string) => t.replace(' --no-install-recommends', ''), /--no-install-recommends/],
    ['.dockerignore', (t: string) => t.replace('!runtime/\n', ''), /COPY source "runtime" is excluded by .dockerignore/],
    ['deploy/compose.yaml', (t: string) => t.replace('restart: unless-stopped', 'restarts: unless-stopped'), /schema: .*additional properties \(restarts\)/],
    ['deploy/compose.yaml', (t: string) => t.replace(/^ {4}redis:\n {6}condition/m, '    rediss:\n      condition'), /depends_on "rediss", which is not a service/],
    ['deploy/compose.yaml', (t: string) => t.replace('${BASALT_METRICS_TOKEN:-CHANGE-ME-metrics-token-0000}', '${BASALT_METRICS_TOKEN}'), /BASALT_METRICS_TOKEN\} has no default/],
    ['deploy/compose.yaml', (t: string) => t.replace('- basalt3:/data', '- basalt4:/data'), /volume "basalt4" is not declared/],
    ['deploy/compose/nginx.conf', (t: string) => t.replace('proxy_buffering off;', ''), /differs from examples\/nginx\/basalt.conf/],
    ['deploy/kubernetes/deployment.yaml', (t: string) => t.replace('periodSeconds: 10', 'periodSecond: 10'), /'"periodSecond"' does not exist/],
    ['deploy/kubernetes/deployment.yaml', (t: string) => t.replace('containerPort: 8090', 'containerPort: "8090"'), /containerPort must be integer/],
    ['deploy/kubernetes/deployment.yaml', (t: string) => t.replace('key: redis-url', 'key: redis-uri'), /Secret basalt key redis-uri, which no manifest defines/],
    ['deploy/kubernetes/deployment.yaml', (t: string) => t.replace('readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false'), /readOnlyRootFilesystem is not true/],
    ['deploy/kubernetes/deployment.yaml', (t: string) => t.replace('path: /api/health/live, port: http }\n            periodSeconds: 10', 'path: /api/health/ready, port: http }\n            periodSeconds: 10'), /livenessProbe must be \/api\/health\/live/],
    ['deploy/kubernetes/pdb.yaml', (t: string) => t.replace('component: server', 'component: srv'), /PodDisruptionBudget\/basalt: its selector matches no Deployment/],
    ['deploy/kubernetes/ingress.yaml', (t: string) => t.replace('port: { name: http }', 'port: { name: web }'), /service basalt has no port web/],
  ])('reports a broken %s (%#)', async (file, edit, message) => {
    const problems = await checkOf(file, copyWith(file, edit));
    expect(problems.join('\n')).toMatch(message);
  });
});
