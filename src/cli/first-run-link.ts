/**
 * The first-run link `basalt serve` prints while no superuser exists (core/auth/first-run.ts):
 * the dashboard's installer page, `<base>/_/#/pbinstal/<token>`, as PocketBase prints it.
 */
import type { App } from '../core/app.js';
import { INSTALLER_TOKEN_SECONDS } from '../core/auth/first-run.js';

/**
 * Where the link points: `--app-url` when it was set (behind a proxy, under a sub-path), else
 * the address Basalt listens on, with a wildcard address (0.0.0.0, ::) made one a browser on
 * this machine can open.
 */
export function firstRunBaseUrl(app: App, listening: string): string {
  const { appUrl, http } = app.config;
  const host = http.host.includes(':') ? `[${http.host}]` : http.host;
  if (appUrl !== `http://${host}:${http.port}`) return appUrl.replace(/\/+$/, '');
  return listening.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

/** The lines to print, or null when a superuser exists. */
export async function firstRunNotice(app: App, listening: string): Promise<string | null> {
  if (!(await app.firstRun.needed())) return null;
  const cli = 'npx basalt superuser upsert EMAIL PASSWORD';
  if (app.config.dashboardDir === '') return `No superuser exists yet: create the first one with: ${cli}`;
  const link = `${firstRunBaseUrl(app, listening)}/_/#/pbinstal/${await app.firstRun.issueToken()}`;
  return [
    '',
    `(!) No superuser exists yet. Open this link in a browser within ${INSTALLER_TOKEN_SECONDS / 60} minutes to create the first one:`,
    link,
    `(or create one with: ${cli})`,
    '',
  ].join('\n');
}
