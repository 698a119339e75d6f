/**
 * The application's name and accent colour as the layout shows them (settings `meta.appName`,
 * `meta.accentColor`), read once per session and replaced when the settings screen saves, so a
 * change shows at once. The accent colours the dashboard as PocketBase's does (its buttons,
 * links, focus rings, selection), with a text colour on it chosen for contrast.
 */
import { pb } from './sdk';
import { accentTextOn, isHexColor } from './accent';

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
  if (accent) {
    style.setProperty('--accent', accent);
    style.setProperty('--focus', accent);
    style.setProperty('--accent-text', accentTextOn(accent));
  } else {
    // The theme's own accent (app.css).
    for (const name of ['--accent', '--focus', '--accent-text']) style.removeProperty(name);
  }
}
