/**
 * deploy/Dockerfile: dockerfile-utils (the validator behind VS Code's Dockerfile support: syntax,
 * instruction arguments, flags, durations, signals) plus the rules this project's image must keep
 * (hadolint does not install offline): several stages, base images pinned, a non-root user, a
 * health check, a volume, an exec-form entrypoint, apt-get hygiene, and no COPY source that
 * .dockerignore leaves out of the build context.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';

interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

/** Logical instructions: comments dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (pending === null && line.trim() === '')) return;
    const part = line.endsWith('\\') ? line.slice(0, -1) : line;
    pending = pending ? { line: pending.line, text: `${pending.text} ${part.trim()}` } : { line: i + 1, text: part.trim() };
    if (!line.endsWith('\\')) {
      const m = /^(\S+)\s*(.*)$/.exec(pending.text)!;
      out.push({ line: pending.line, keyword: m[1]!.toUpperCase(), args: m[2]! });
      pending = null;
    }
  });
  return out;
}

/** A .dockerignore matcher (Go filepath.Match syntax, `!` re-includes, the last match wins). */
export function dockerignored(patterns: string[], path: string): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/\/+$/, '')
        .split('**')
        .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
        .join('.*')}(/.*)?$`,
    );
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+/, '');
    if (toRegex(pattern).test(path)) ignored = !negate;
  }
  return ignored;
}

function readDockerignore(root: string): string[] {
  const file = join(root, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** `${NAME}` and `$NAME` replaced by the ARG defaults declared before the first FROM. */
function expand(value: string, args: Map<string, string>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? all);
}

export function lintDockerfile(root: string, relPath: string): string[] {
  const file = join(root, relPath);
  if (!existsSync(file)) return [`${relPath}: missing`];
  const text = readFileSync(file, 'utf8');
  // Everything dockerfile-utils reports counts, warnings included (deprecated MAINTAINER, casing…).
  // Severity 1 is an LSP error, 2 a warning.
  const problems = validate(text).map((d) => `${relPath}:${d.range.start.line + 1}: ${d.severity === 1 ? 'error' : 'warning'}: ${d.message}`);
  const instructions = parseDockerfile(text);
  const at = (i: Instruction, message: string) => problems.push(`${relPath}:${i.line}: ${message}`);

  const globalArgs = new Map<string, string>();
  for (const i of instructions) {
    if (i.keyword === 'FROM') break;
    const m = /^(\w+)=(\S+)$/.exec(i.args);
    if (i.keyword === 'ARG' && m) globalArgs.set(m[1]!, m[2]!.replace(/^"|"$/g, ''));
  }
  const froms = instructions.filter((i) => i.keyword === 'FROM');
  if (froms.length < 2) problems.push(`${relPath}: not multi-stage (one FROM): build tools would ship in the image`);
  const stageNames = new Set<string>();
  for (const from of froms) {
    const words = from.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    const image = expand(words[0] ?? '', globalArgs);
    if (words[1]?.toUpperCase() === 'AS' && words[2]) stageNames.add(words[2].toLowerCase());
    if (stageNames.has(image.toLowerCase()) || image === 'scratch') continue;
    if (/\$/.test(image)) at(from, `base image "${words[0]}" uses an ARG without a default`);
    else if (!/:[^/]+$/.test(image) && !image.includes('@sha256:')) at(from, `base image "${image}" has no tag: pin it (e.g. node:20-bookworm-slim)`);
    else if (/:latest$/.test(image)) at(from, `base image "${image}" is pinned to latest: pin a version`);
  }

  const lastFrom = froms.at(-1);
  const final = lastFrom ? instructions.filter((i) => i.line > lastFrom.line) : [];
  const user = final.filter((i) => i.keyword === 'USER').at(-1);
  if (!user) problems.push(`${relPath}: the final stage has no USER: the server would run as root`);
  else if (/^(root|0)(:|$)/.test(user.args.trim())) at(user, 'the final stage runs as root');
  const health = final.filter((i) => i.keyword === 'HEALTHCHECK');
  if (health.length === 0) problems.push(`${relPath}: the final stage has no HEALTHCHECK`);
  for (const h of health) if (!/\/api\/health\/(live|ready)/.test(h.args)) at(h, 'the HEALTHCHECK does not probe /api/health/live or /api/health/ready');
  if (!final.some((i) => i.keyword === 'VOLUME')) problems.push(`${relPath}: the final stage declares no VOLUME for the data directory`);
  if (!final.some((i) => i.keyword === 'EXPOSE')) problems.push(`${relPath}: the final stage EXPOSEs no port`);
  const entry = final.filter((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD');
  if (entry.length === 0) problems.push(`${relPath}: the final stage has no ENTRYPOINT or CMD`);
  // Shell form runs under /bin/sh -c, which does not pass SIGTERM on: no graceful stop.
  for (const e of entry) if (!e.args.trim().startsWith('[')) at(e, `${e.keyword} in shell form: use the exec (JSON) form so the server receives SIGTERM`);

  for (const i of instructions) {
    if (i.keyword === 'ADD' && !/https?:\/\//.test(i.args)) at(i, 'ADD of local files: use COPY');
    if (i.keyword !== 'RUN') continue;
    if (/apt-get\s+(-\S+\s+)*install/.test(i.args)) {
      if (!/--no-install-recommends/.test(i.args)) at(i, 'apt-get install without --no-install-recommends');
      if (!/\s-y\b|--yes|--assume-yes/.test(i.args)) at(i, 'apt-get install without -y');
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(i.args)) at(i, 'apt-get lists left in the layer: rm -rf /var/lib/apt/lists/*');
    }
    if (/\bsudo\b/.test(i.args)) at(i, 'sudo in RUN');
    if (/\bnpm (install|i)\b/.test(i.args) && !/--omit=dev|--production/.test(i.args)) at(i, 'npm install in a build: use npm ci (the lockfile)');
  }

  const ignore = readDockerignore(root);
  for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))) {
    const words = copy.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    for (const src of words.slice(0, -1)) {
      const path = src.replace(/^\.\//, '').replace(/\/+$/, '');
      if (!existsSync(join(root, path))) at(copy, `COPY source "${src}" does not exist in the build context`);
      else if (dockerignored(ignore, path)) at(copy, `COPY source "${src}" is excluded by .dockerignore`);
    }
  }
  return problems;
}
