/**
 * The dashboard's build (`npm run build:dashboard`, run by `npm run build` and `npm ci`):
 * into `dist/dashboard/`, which Basalt serves at `/_/`. Relative asset URLs (`base: './'`)
 * keep it working wherever `/_/` is mounted, behind a proxy's sub-path too.
 *
 * `vite dev` (npm run dev:dashboard) serves it at http://127.0.0.1:5173/_/ and forwards `/api`
 * to a running Basalt (BASALT_URL, default http://127.0.0.1:8090).
 */
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(({ command }) => ({
  root,
  base: command === 'build' ? './' : '/_/',
  plugins: [svelte()],
  // Nothing from the environment reaches the bundle: the dashboard finds its server from its own URL.
  envPrefix: 'BASALT_DASHBOARD_',
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Inlined assets would be data: URLs in CSS/JS; the CSP allows data: images only, so keep files.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: process.env.BASALT_URL ?? 'http://127.0.0.1:8090', changeOrigin: false } },
  },
}));
