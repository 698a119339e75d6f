// `prepare` hook (and `npm run build`, with --force): compiles src/ to dist/ and builds the admin
// dashboard (dashboard/) into dist/dashboard/, each unless its output is already newer than
// every one of its sources. npm runs `prepare` on `npm ci` and again when `npx basalt` links the
// project: the second run should cost nothing (a walk of two small trees, no build).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const force = process.argv.includes('--force');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const mtime = (file) => statSync(join(root, file)).mtimeMs;

/** Runs `build` unless `stamp` is newer than `sources` (a time in ms); then writes the stamp. */
function buildIfStale(name, stamp, sources, build) {
  if (!force && existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  console.log(`basalt: building ${name}`);
  build();
  writeFileSync(stamp, new Date().toISOString() + '\n');
}

const node = (script, args) => execFileSync(process.execPath, [join(root, 'node_modules', ...script), ...args], { stdio: 'inherit', cwd: root });

buildIfStale('the server (dist/)', join(root, 'dist', '.buildstamp'), Math.max(newest(join(root, 'src')), mtime('tsconfig.build.json'), mtime('tsconfig.json')), () =>
  node(['typescript', 'bin', 'tsc'], ['-p', join(root, 'tsconfig.build.json')]),
);

// The bundle holds the SDK and Svelte: a changed lock file (a new version of either) rebuilds it too.
// NB: the stamp is written inside dist/dashboard/ after Vite emptied it; Basalt never serves dot files.
buildIfStale('the dashboard (dist/dashboard/)', join(root, 'dist', 'dashboard', '.buildstamp'), Math.max(newest(join(root, 'dashboard')), mtime('package-lock.json')), () =>
  node(['vite', 'bin', 'vite.js'], ['build', '--config', join(root, 'dashboard', 'vite.config.ts'), '--logLevel', 'warn']),
);
