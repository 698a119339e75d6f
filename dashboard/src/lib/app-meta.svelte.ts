/**
 * The application's name as the layout shows it (settings `meta.appName`), read once per
 * session and replaced when the settings screen saves, so a rename shows at once.
 */
import { pb } from './sdk';

class AppMeta {
  appName = $state('');
}

export const appMeta = new AppMeta();

let loaded: Promise<void> | null = null;

export function loadAppMeta(): Promise<void> {
  loaded ??= pb.settings
    .getAll({ requestKey: 'app-meta' })
    .then((s) => {
      const meta = (s as { meta?: { appName?: unknown } }).meta;
      if (typeof meta?.appName === 'string') appMeta.appName = meta.appName;
    })
    // Not worth an error on every screen: the layout falls back to "Basalt" (and may try again).
    .catch(() => {
      loaded = null;
    });
  return loaded;
}

/** After a save: the name the server now has. */
export function setAppName(name: string): void {
  appMeta.appName = name;
}
