/**
 * The entry file of a worker thread written in TypeScript: the compiled `.js` next to the caller
 * in production. Run from the sources (vitest, tsx), the `.ts` entry is bundled once per process
 * with esbuild (tsx's own compiler) into node_modules/.cache, where its package imports (left
 * external) resolve. NB: registering tsx inside each worker instead cost ~700 ms per worker start
 * (Node 20 runs loader hooks on a thread of their own), which every test app paid.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundled = new Map<string, string>();

/**
 * The URL to start a worker of `name` (`./name.ts` / `./name.js` beside `callerUrl`, the caller's
 * `import.meta.url`), with `external` packages left to resolve from node_modules.
 */
export function workerEntry(callerUrl: string, name: string, external: string[]): URL {
  if (!callerUrl.endsWith('.ts')) return new URL(`./${name}.js`, callerUrl);
  const source = fileURLToPath(new URL(`./${name}.ts`, callerUrl));
  const known = bundled.get(source);
  if (known && existsSync(known)) return pathToFileURL(known);
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild') as { buildSync(options: Record<string, unknown>): { outputFiles: { contents: Uint8Array }[] } };
  const { outputFiles } = esbuild.buildSync({
    entryPoints: [source],
    write: false,
    bundle: true,
    external,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  const code = outputFiles[0].contents;
  // Named after its content: test processes running at once share one file, and edits make a new one.
  const cacheDir = join(dirname(dirname(require.resolve('esbuild/package.json'))), '.cache', 'basalt');
  const outfile = join(cacheDir, `${name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(outfile)) {
    mkdirSync(cacheDir, { recursive: true });
    const temp = `${outfile}.${process.pid}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, outfile);
  }
  bundled.set(source, outfile);
  return pathToFileURL(outfile);
}
