/** Saving a part of the settings: the server's answer, or its message and field errors by path. */
import { errorMessage } from './errors';
import { nestedFieldErrors } from './nested-errors';
import { pb } from './sdk';
import type { SettingsShown } from './settings-types';

export type SaveResult = { ok: true; settings: SettingsShown } | { ok: false; message: string; errors: Record<string, string> };

export async function saveSettings(patch: Record<string, unknown>): Promise<SaveResult> {
  try {
    const settings = (await pb.settings.update(patch, { requestKey: null })) as unknown as SettingsShown;
    return { ok: true, settings };
  } catch (err) {
    return { ok: false, message: errorMessage(err), errors: nestedFieldErrors(err) };
  }
}

/** An element id for a field path (`rateLimits.rules.0.label` → `set-rateLimits-rules-0-label`). */
export const idOf = (path: string) => `set-${path.replace(/\./g, '-')}`;
