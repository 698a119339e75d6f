/**
 * The application's name and accent colour as the layout shows them (settings `meta.appName`,
 * `meta.accentColor`), read once per session and replaced when the settings screen saves, so a
 * change shows at once. The accent colours the dashboard as PocketBase's does (its buttons,
 * links, focus rings), per theme: as chosen where it reads, else darkened (light theme) or
 * lightened (dark theme) until it does, with a text colour on it chosen for contrast.
 */
import { pb } from './sdk';
import { accentTextOn, isHexColor, readableAccent, THEME_SURFACES } from './accent';

class AppMeta {
  appName = $state('');
  accentColor = $state('');
}

export const appMeta = new AppMeta();

let loaded: Promise<void> | null = null;

export function loadAppMeta(): Promise<void> {
  loaded ??= pb.settings
    .getAll({ requestKey: 'app-meta' })
    .then((s) => setAppMeta((s as { meta?: { appName?: unknown; accentColor?: unknown } }).meta ?? {}))
    // Not worth an error on every screen: the layout falls back to "Basalt" (and may try again).
    .catch(() => {
      loaded = null;
    });
  return loaded;
}

/** After a save (or the first read): the name and accent the server now has. */
export function setAppMeta(meta: { appName?: unknown; accentColor?: unknown }): void {
  if (typeof meta.appName === 'string') appMeta.appName = meta.appName;
  const accent = typeof meta.accentColor === 'string' && isHexColor(meta.accentColor) ? meta.accentColor : '';
  appMeta.accentColor = accent;
  const style = document.documentElement.style;
  for (const theme of ['light', 'dark'] as const) {
    if (accent) {
      const drawn = readableAccent(accent, THEME_SURFACES[theme]);
      style.setProperty(`--user-accent-${theme}`, drawn);
      style.setProperty(`--user-accent-text-${theme}`, accentTextOn(drawn));
    } else {
      // The theme's own accent (app.css).
      style.removeProperty(`--user-accent-${theme}`);
      style.removeProperty(`--user-accent-text-${theme}`);
    }
  }
}
