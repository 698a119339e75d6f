/**
 * The nginx config of deploy/compose.yaml is examples/nginx/basalt.conf (the file the cluster
 * suite runs, test/cluster/) with only the upstream servers and the listen port changed: so the
 * topology in containers is the one proven on loopback. `--fix` rewrites it from the example.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const COMPOSE_NGINX = 'deploy/compose/nginx.conf';
export const COMPOSE_NODES = ['basalt1:8090', 'basalt2:8090', 'basalt3:8090'];
const HEADER = '# Generated from examples/nginx/basalt.conf by `npm run lint:deploy -- --fix`: edit that file.\n';

/** The example with `servers` in both upstreams and `listen` as the server's port. */
export function nginxForServers(example: string, servers: string[], listen: string): string {
  let blocks = 0;
  const withServers = example.replace(/((?:^ *server 127\.0\.0\.1:\d+ [^\n]*\n)+)/gm, (block) => {
    blocks++;
    const opts = block.split('\n')[0]!.replace(/^ *server 127\.0\.0\.1:\d+/, '');
    return servers.map((s) => `    server ${s}${opts}\n`).join('');
  });
  if (blocks !== 2) throw new Error(`examples/nginx/basalt.conf: expected 2 upstream server blocks, found ${blocks}`);
  const withListen = withServers.replace(/listen 127\.0\.0\.1:\d+;/, `listen ${listen};`);
  if (withListen === withServers) throw new Error('examples/nginx/basalt.conf: no listen line');
  return HEADER + withListen;
}

export function expectedComposeNginx(root: string): string {
  return nginxForServers(readFileSync(join(root, 'examples/nginx/basalt.conf'), 'utf8'), COMPOSE_NODES, '80');
}

export function lintComposeNginx(root: string): string[] {
  let actual: string;
  try {
    actual = readFileSync(join(root, COMPOSE_NGINX), 'utf8');
  } catch {
    return [`${COMPOSE_NGINX}: missing (npm run lint:deploy -- --fix writes it)`];
  }
  return actual === expectedComposeNginx(root) ? [] : [`${COMPOSE_NGINX}: differs from examples/nginx/basalt.conf with the compose nodes (npm run lint:deploy -- --fix rewrites it)`];
}
