/**
 * Backup keys: plain file names in the backup store, never paths. PocketBase's rule for a name a
 * superuser chooses is `^[a-z0-9_-]+\.zip$` (1–150 characters); automatic backups are named
 * `@auto_pb_backup_…` and uploaded ones keep their file name, so the other routes accept a little
 * more: letters of either case, digits, `_ - @ .`, no leading dot, `.zip` at the end.
 */

export const BACKUP_KEY_MAX_LENGTH = 150;

/** PocketBase's pattern for the name given to `POST /api/backups`. */
export const BACKUP_NAME_PATTERN = /^[a-z0-9_-]+\.zip$/;

const BACKUP_KEY_PATTERN = /^[A-Za-z0-9_@-][A-Za-z0-9_@.-]*\.zip$/;

/** PocketBase's prefix of the backups its cron makes (core/base_backup.go), the only ones `cronMaxKeep` prunes. */
export const AUTO_BACKUP_PREFIX = '@auto_pb_backup_';
/** The prefix of a backup made on request without a name. */
export const MANUAL_BACKUP_PREFIX = 'pb_backup_';

/** Whether `key` may name a stored backup: one safe file name ending in `.zip`. */
export function isBackupKey(key: unknown): key is string {
  return typeof key === 'string' && key.length <= BACKUP_KEY_MAX_LENGTH && BACKUP_KEY_PATTERN.test(key);
}

/** PocketBase's generated name: `<prefix><app_name_in_snake_case, 50 max>_<YYYYMMDDhhmmss UTC>.zip`. */
export function generateBackupName(prefix: string, appName: string, nowMs: number): string {
  const app = appName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 50);
  const stamp = new Date(nowMs).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${prefix}${app}_${stamp}.zip`;
}
