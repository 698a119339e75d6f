/**
 * deploy/kubernetes/*.yaml, offline, in three passes:
 * 1. kubernetes-models' validators (the API's OpenAPI schemas compiled with ajv): types,
 *    required fields, enums, formats;
 * 2. its TypeScript types, with the manifests as object literals: the compiler's excess-property
 *    check catches unknown or misspelt fields (`periodSecond:`), which the schemas allow;
 * 3. references between the objects: selectors that match the pods, Secret keys that exist,
 *    Service ports and scale targets that exist, and the probes, limits and non-root security
 *    context every Basalt container must have.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { readYaml } from './compose.js';

type Obj = Record<string, any>;

/** The kinds these manifests use: apiVersion/kind → module and type of kubernetes-models. */
const KINDS: Record<string, { module: string; type: string }> = {
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'batch/v1/Job': { module: 'kubernetes-models/batch/v1/Job', type: 'IJob' },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
  'autoscaling/v2/HorizontalPodAutoscaler': { module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', type: 'IHorizontalPodAutoscaler' },
  'networking.k8s.io/v1/Ingress': { module: 'kubernetes-models/networking.k8s.io/v1/Ingress', type: 'IIngress' },
};

interface Manifest {
  file: string;
  key: string;
  name: string;
  obj: Obj;
}

const label = (m: Manifest) => `${m.file} ${m.obj.kind}/${m.name}`;

async function schemaPass(manifests: Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of manifests) {
    const mod = (await import(KINDS[m.key]!.module)) as Record<string, new (data: Obj) => { validate(): void }>;
    const Model = mod[m.obj.kind as string]!;
    try {
      new Model(m.obj).validate();
    } catch (err) {
      problems.push(`${label(m)}: schema: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** Type-checks `const x: IDeployment = {…}` for every manifest, in memory. */
function fieldsPass(root: string, manifests: Manifest[]): string[] {
  const fileName = join(root, '.tmp', 'lint-deploy-manifests.ts');
  const lines: string[] = [];
  const owner: Manifest[] = [];
  manifests.forEach((m, i) => lines.push(`import type { ${KINDS[m.key]!.type} as T${i} } from '${KINDS[m.key]!.module}';`));
  manifests.forEach((m, i) => {
    const body = `export const m${i}: T${i} = ${JSON.stringify(m.obj, null, 1)};`.split('\n');
    for (let k = 0; k < body.length; k++) owner[lines.length + k] = m;
    lines.push(...body);
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === fileName ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== fileName || d.start === undefined) return `kubernetes types: ${text}`;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    const m = owner[line];
    return `${m ? label(m) : 'manifests'}: field: ${text}`;
  });
}

function podSpecs(m: Manifest): Obj[] {
  if (m.obj.kind === 'Deployment' || m.obj.kind === 'Job') return [m.obj.spec?.template ?? {}];
  return [];
}

const matches = (selector: Obj | undefined, labels: Obj | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function referencesPass(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const of = (kind: string) => manifests.filter((m) => m.obj.kind === kind);
  const secrets = new Map(of('Secret').map((s) => [s.name, new Set(Object.keys({ ...s.obj.data, ...s.obj.stringData }))]));
  const deployments = of('Deployment');

  for (const m of manifests) {
    for (const template of podSpecs(m)) {
      const spec = template.spec ?? {};
      if (m.obj.kind === 'Deployment' && !matches(m.obj.spec?.selector?.matchLabels, template.metadata?.labels)) problems.push(`${label(m)}: spec.selector does not match the pod template's labels`);
      if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${label(m)}: the pod's securityContext lacks runAsNonRoot: true`);
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Obj[]) {
        const where = `${label(m)} container ${c.name}`;
        for (const e of (c.env ?? []) as Obj[]) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref && !ref.optional && !secrets.get(ref.name)?.has(ref.key)) problems.push(`${where}: env ${e.name} reads Secret ${ref.name} key ${ref.key}, which no manifest defines`);
        }
        const mounts = new Set(((spec.volumes ?? []) as Obj[]).map((v) => v.name));
        for (const vm of (c.volumeMounts ?? []) as Obj[]) if (!mounts.has(vm.name)) problems.push(`${where}: volumeMount ${vm.name} has no volume`);
        if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
        if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
        if (!c.resources?.requests?.memory || !c.resources?.limits?.memory) problems.push(`${where}: no memory request and limit`);
        if (m.obj.kind !== 'Deployment') continue;
        const ports = new Set(((c.ports ?? []) as Obj[]).flatMap((p) => [p.name, p.containerPort]));
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const get = c[probe]?.httpGet;
          if (!get) problems.push(`${where}: no ${probe} (httpGet)`);
          else if (!ports.has(get.port)) problems.push(`${where}: ${probe} port ${get.port} is not a container port`);
        }
        if (c.livenessProbe?.httpGet?.path !== '/api/health/live') problems.push(`${where}: livenessProbe must be /api/health/live (a database outage must not restart every pod)`);
        if (c.readinessProbe?.httpGet?.path !== '/api/health/ready') problems.push(`${where}: readinessProbe must be /api/health/ready`);
      }
    }
  }

  const podsOf = (selector: Obj | undefined) => deployments.filter((d) => matches(selector, d.obj.spec?.template?.metadata?.labels));
  for (const s of of('Service')) {
    const targets = podsOf(s.obj.spec?.selector);
    if (targets.length === 0) problems.push(`${label(s)}: its selector matches no Deployment's pods`);
    const containerPorts = new Set(targets.flatMap((d) => (d.obj.spec.template.spec.containers as Obj[]).flatMap((c) => ((c.ports ?? []) as Obj[]).flatMap((p) => [p.name, p.containerPort]))));
    for (const p of (s.obj.spec?.ports ?? []) as Obj[]) if (!containerPorts.has(p.targetPort ?? p.port)) problems.push(`${label(s)}: targetPort ${p.targetPort} is no port of its pods`);
  }
  for (const pdb of of('PodDisruptionBudget')) if (podsOf(pdb.obj.spec?.selector?.matchLabels).length === 0) problems.push(`${label(pdb)}: its selector matches no Deployment's pods`);
  for (const hpa of of('HorizontalPodAutoscaler')) {
    const t = hpa.obj.spec?.scaleTargetRef ?? {};
    const target = manifests.find((m) => m.obj.kind === t.kind && m.name === t.name && m.obj.apiVersion === t.apiVersion);
    if (!target) problems.push(`${label(hpa)}: scaleTargetRef ${t.apiVersion} ${t.kind}/${t.name} is not in the manifests`);
    const cpu = (hpa.obj.spec?.metrics ?? []).some((x: Obj) => x.resource?.name === 'cpu');
    const containers = (target?.obj.spec?.template?.spec?.containers ?? []) as Obj[];
    if (target && cpu && !containers.every((c) => c.resources?.requests?.cpu)) problems.push(`${label(hpa)}: CPU utilization needs a CPU request on every container`);
  }
  const services = new Map(of('Service').map((s) => [s.name, s]));
  for (const ing of of('Ingress')) {
    for (const rule of (ing.obj.spec?.rules ?? []) as Obj[]) {
      for (const path of (rule.http?.paths ?? []) as Obj[]) {
        const b = path.backend?.service;
        const svc = b && services.get(b.name);
        if (!svc) problems.push(`${label(ing)}: backend service ${b?.name} is not in the manifests`);
        else if (!(svc.obj.spec.ports as Obj[]).some((p) => (b.port.name !== undefined ? p.name === b.port.name : p.port === b.port.number))) problems.push(`${label(ing)}: service ${b.name} has no port ${b.port.name ?? b.port.number}`);
      }
    }
  }
  return problems;
}

export async function lintKubernetes(root: string, relDir: string): Promise<string[]> {
  const problems: string[] = [];
  const manifests: Manifest[] = [];
  const files = readdirSync(join(root, relDir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) return [`${relDir}: no manifests`];
  for (const f of files) {
    const file = `${relDir}/${f}`;
    const { docs, errors } = readYaml(join(root, file));
    problems.push(...errors.map((e) => `${file}: YAML: ${e}`));
    for (const obj of docs) {
      if (obj === null || obj === undefined) continue;
      const o = obj as Obj;
      const key = `${o.apiVersion}/${o.kind}`;
      const name = String(o.metadata?.name ?? '?');
      if (!KINDS[key]) problems.push(`${file}: ${key} is not a kind this check knows (add it to scripts/lint-deploy/kubernetes.ts)`);
      else manifests.push({ file, key, name, obj: o });
    }
  }
  problems.push(...(await schemaPass(manifests)));
  problems.push(...fieldsPass(root, manifests));
  problems.push(...referencesPass(manifests));
  const kinds = new Set(manifests.map((m) => m.obj.kind));
  for (const needed of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Secret']) if (!kinds.has(needed)) problems.push(`${relDir}: no ${needed}`);
  return problems;
}
