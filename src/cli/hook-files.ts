/**
 * Loads the hook files of a directory (`*.ts`, `*.mts`, `*.js`, `*.mjs`; TypeScript without a
 * build step, through tsx) into one set of bindings, and applies the set only if every file
 * loaded. Each file's default export is called with the hooks API
 * (`export default defineHooks((app) => { … })`). `import … from 'basalt'` in a hook file
 * resolves to the running Basalt (runtime/basalt-facade.mjs); other imports resolve as usual, from
 * the app's own node_modules. In `--dev` the directory is watched and reloaded on change; a file
 * that fails keeps the previous set in force and is reported with its file, line and message.
 */
import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { createRequire, register as registerModuleHooks } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { App } from '../core/app.js';
import { HookBindings } from '../core/hooks/hook-bindings.js';
import * as publicApi from '../public-api.js';

const HOOK_FILE = /^(?!.*\.d\.[cm]?ts$)[^.].*\.(ts|mts|js|mjs)$/;
const RUNTIME = Symbol.for('basalt.runtime');

/** A hook file that failed to load: its path, the line when known, and the reason. */
export class HookFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly reason: string,
  ) {
    super(`hook file ${file}${line ? `:${line}` : ''}: ${reason}`);
  }
}

let resolverInstalled = false;

/** `import 'basalt'` → the facade over the running Basalt (installed once per process). */
const cjsFacade = fileURLToPath(new URL('../../runtime/basalt-facade.cjs', import.meta.url));

function installBasaltResolver(): void {
  (globalThis as Record<symbol, unknown>)[RUNTIME] = publicApi;
  // The CommonJS facade is evaluated again for each load (the ES one gets one instance per load).
  const require = createRequire(import.meta.url);
  delete require.cache[cjsFacade];
  // Stack traces of hook code point at its TypeScript lines (tsx writes inline source maps).
  process.setSourceMapsEnabled(true);
  if (resolverInstalled) return;
  // A .ts file outside a "type": "module" package runs as CommonJS: its imports become require().
  const Module = createRequire(import.meta.url)('node:module') as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'basalt' ? cjsFacade : resolveFilename.call(this, request, ...rest);
  };
  resolverInstalled = true;
}

export function hookFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => HOOK_FILE.test(name) && statSync(join(dir, name)).isFile())
    .sort()
    .map((name) => join(dir, name));
}

/** The line in `file` a load error points at (a syntax error's location, or the first stack frame in the file). */
function errorOf(file: string, shown: string, err: unknown): HookFileError {
  const e = err as { message?: string; stack?: string; errors?: { text?: string; location?: { line?: number } }[] };
  const esbuild = e.errors?.[0];
  if (esbuild?.location?.line) return new HookFileError(shown, esbuild.location.line, esbuild.text ?? String(e.message));
  const href = pathToFileURL(file).href;
  let line: number | null = null;
  for (const frame of String(e.stack ?? '').split('\n')) {
    // ESM frames name the file by URL, CommonJS ones by path.
    const name = frame.includes(href) ? href : frame.includes(file) ? file : null;
    if (!name) continue;
    const m = /:(\d+):\d+\)?\s*$/.exec(frame.slice(frame.indexOf(name) + name.length));
    if (m) {
      line = Number(m[1]);
      break;
    }
  }
  const syntax = /^(?:.*?):(\d+):\d+: ERROR: (.*)$/m.exec(String(e.message ?? ''));
  if (syntax) return new HookFileError(shown, Number(syntax[1]), syntax[2]!);
  let reason = (e.message ?? String(err)).split('\n')[0]!;
  // A .ts file outside a "type": "module" package runs as CommonJS, compiled without a source map.
  if (line === null && String(e.stack ?? '').includes('data:text/javascript')) reason += ' (for line numbers, make hook files ES modules: "type": "module" in the package.json above them, or the .mts extension)';
  return new HookFileError(shown, line, reason);
}

let generation = 0;

/** Loads every hook file of `dir` into new bindings; throws HookFileError for the first that fails. */
async function loadAll(app: App, dir: string): Promise<HookBindings> {
  installBasaltResolver();
  const { register } = await import('tsx/esm/api');
  // One namespace per load: a reload imports fresh modules (hook files and the helpers they share).
  const api = register({ namespace: `basalt-hooks-${process.pid}-${++generation}` });
  // Registered after tsx's hooks, so it runs before them: a bare 'basalt' must never resolve to an
  // installed copy (or to the package itself, by self-reference) instead of the running server.
  // One more (tiny) hook per load: Node has no way to remove one.
  const runtimeDir = new URL('../../runtime/', import.meta.url);
  registerModuleHooks(new URL('basalt-resolve.mjs', runtimeDir).href, { data: { facadeUrl: new URL('basalt-facade.mjs', runtimeDir).href } });
  const bindings = new HookBindings();
  try {
    for (const file of hookFilesIn(dir)) {
      const shown = relative(process.cwd(), file) || file;
      let setup: unknown;
      try {
        const mod = (await api.import(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
        setup = mod.default;
        // A file run as CommonJS (outside a "type": "module" package) arrives as { default: exports }.
        if (setup && typeof setup === 'object' && typeof (setup as { default?: unknown }).default === 'function') setup = (setup as { default: unknown }).default;
      } catch (err) {
        throw errorOf(file, shown, err);
      }
      if (typeof setup !== 'function') throw new HookFileError(shown, null, 'the file must `export default defineHooks((app) => { … })`');
      try {
        await setup(app.hooksApi(bindings, shown));
      } catch (err) {
        throw errorOf(file, shown, err);
      }
    }
  } finally {
    await api.unregister();
  }
  return bindings;
}

export interface HookFiles {
  /** Stops watching (`--dev`). */
  close(): void;
}

/**
 * Loads `dir` and applies it; without `dev` a failure throws (start-up fails with the message);
 * with `dev` the directory is watched, and each change reloads the whole set.
 */
export async function loadHookFiles(app: App, dir: string, options: { dev: boolean; onReload?: (error: HookFileError | Error | null) => void }): Promise<HookFiles> {
  const absolute = resolve(dir);
  const apply = async () => {
    const bindings = await loadAll(app, absolute);
    app.hooks.replaceFileSet(bindings);
  };
  await apply();
  if (!options.dev) return { close() {} };

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const reload = () => {
    running = running.then(async () => {
      try {
        await apply();
        app.logger.info({ dir }, 'hook files reloaded');
        options.onReload?.(null);
      } catch (err) {
        // The previous set stays in force.
        app.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'hook files not reloaded');
        options.onReload?.(err as Error);
      }
    });
  };
  const watcher: FSWatcher = watch(absolute, { recursive: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 100);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/** `--hooks`, or `<dataDir>/../basalt_hooks` when that exists (PocketBase's pb_hooks convention); '' for none. */
export function defaultHooksDir(dataDir: string): string {
  const candidate = resolve(dataDir, '..', 'basalt_hooks');
  return existsSync(candidate) ? candidate : '';
}

export const facadeFile = fileURLToPath(new URL('../../runtime/basalt-facade.mjs', import.meta.url));
