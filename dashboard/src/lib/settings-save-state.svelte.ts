/**
 * The state of one settings form's save, shared by every settings section: busy while the PATCH
 * runs, then either the server's message and field errors by path, or a success note (and the
 * saved settings handed to `onsaved`).
 */
import { saveSettings } from './settings-save';
import type { SettingsShown } from './settings-types';

export class SettingsSaveState {
  errors: Record<string, string> = $state({});
  error = $state('');
  done = $state('');
  busy = $state(false);

  constructor(private readonly onsaved: (settings: SettingsShown) => void) {}

  /** Sends `patch`; true when it was saved (the form may then clear what it sends once, a secret). */
  async save(patch: Record<string, unknown>): Promise<boolean> {
    this.busy = true;
    this.done = '';
    const result = await saveSettings(patch);
    this.busy = false;
    if (!result.ok) {
      this.errors = result.errors;
      this.error = result.message;
      return false;
    }
    this.errors = {};
    this.error = '';
    this.done = 'Settings saved.';
    this.onsaved(result.settings);
    return true;
  }
}
