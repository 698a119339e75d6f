/**
 * Automatic backups: PocketBase's `__pbAutoBackup__` cron, registered while `settings.backups.cron`
 * is set and removed when it is emptied (checked at start-up and after every settings change,
 * on every node: the cron fires once per cluster, core/cron).
 */
import type { CronScheduler } from '../cron/cron-scheduler.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../ports.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { BackupService } from './backup-service.js';

export const AUTO_BACKUP_CRON_ID = '__pbAutoBackup__';

export function scheduleAutoBackups(deps: { crons: CronScheduler; backups: BackupService; settings: SettingsService; events: EventBus; logger: Logger }): void {
  const { crons, backups, settings, logger } = deps;
  let current = '';
  const apply = () => {
    const expression = settings.get().backups.cron;
    if (expression === current) return;
    current = expression;
    if (expression === '') {
      crons.remove(AUTO_BACKUP_CRON_ID);
      return;
    }
    try {
      crons.add(AUTO_BACKUP_CRON_ID, expression, async () => {
        try {
          await backups.createAutomatic();
        } catch (err) {
          logger.error({ err }, 'automatic backup failed');
          throw err;
        }
      });
    } catch (err) {
      // The settings validate the expression; one stored by an older version may still be bad.
      logger.error({ err, expression }, 'automatic backups not scheduled: invalid cron expression');
    }
  };
  apply();
  deps.events.on('settingsChanged', apply);
}
