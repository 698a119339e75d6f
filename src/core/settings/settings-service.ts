/**
 * The settings as every part of Basalt reads them: loaded from the `_params` row `settings`,
 * cached in memory, replaced after a committed change. `reload()` is what a cross-node
 * invalidation will call.
 */
import { transact } from '../events/transaction.js';
import { sql } from 'kysely';
import { PARAMS_TABLE } from '../collections/collection-store.js';
import type { Config } from '../config.js';
import { badRequest, fieldError, MESSAGES } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Database } from '../ports.js';
import { nowText, type Clock } from '../clock.js';
import { defaultSettings, type Settings } from './settings.js';
import { ipInList } from '../net/ip-list.js';
import { applySettingsPatch, overlaySettings, type StoredSettings } from './settings-patch.js';

const SETTINGS_ID = 'settings';

type Stored = StoredSettings;

export interface SettingsUpdateOptions {
  /**
   * The caller's client IP as it would be under the new settings (their trusted proxy may change
   * it). Given, a change that leaves `superuserIPs` without that address is refused: the caller
   * would lock themselves out of the admin API. Omitted (hook code, the CLI), nothing is checked.
   */
  callerIp?: (next: Settings) => string;
}

export class SettingsService {
  private current: Settings;
  private readonly defaults: Settings;

  constructor(
    private readonly db: Database,
    private readonly events: EventBus,
    config: Pick<Config, 'appName' | 'appUrl'>,
    private readonly clock: Clock,
  ) {
    this.defaults = defaultSettings(config);
    this.current = deepFreeze(structuredClone(this.defaults));
  }

  /** The current settings (frozen: copy before changing). */
  get(): Settings {
    return this.current;
  }

  async reload(): Promise<void> {
    this.current = deepFreeze(overlaySettings(this.defaults, await this.readStored(this.db)));
  }

  private async readStored(db: Database): Promise<Stored> {
    const rows = await db.rows<{ value: unknown }>(sql`SELECT ${sql.id('value')} FROM ${sql.id(PARAMS_TABLE)} WHERE ${sql.id('id')} = ${SETTINGS_ID}`);
    if (rows.length === 0 || rows[0].value === null) return {};
    const raw = rows[0].value;
    const parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Stored) : {};
  }

  /** Applies a PATCH body; 400 with field errors when it does not validate. */
  async update(patch: unknown, options: SettingsUpdateOptions = {}): Promise<Settings> {
    await transact(this.db, async ({ db: tx }) => {
      // Serialise settings writers across nodes (the same lock as schema changes: both are rare).
      await tx.lockSchema();
      const stored = await this.readStored(tx);
      const current = overlaySettings(this.defaults, stored);
      const result = applySettingsPatch(current, stored, patch);
      if ('errors' in result) throw badRequest(MESSAGES.validationFailed, result.errors);
      assertNoLockout(result.settings, options);
      const value = JSON.stringify(result.stored);
      const now = nowText(this.clock);
      const updated = await tx.kysely.updateTable(PARAMS_TABLE).set({ value, updated: now }).where('id', '=', SETTINGS_ID).executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        await tx.kysely.insertInto(PARAMS_TABLE).values({ id: SETTINGS_ID, value, created: now, updated: now }).execute();
      }
    });
    await this.reload();
    await this.events.emit('settingsChanged', {});
    return this.current;
  }
}

/**
 * PocketBase saves such a change and the superuser is shut out until someone edits the database;
 * Basalt refuses it (400) and says which address to add.
 */
function assertNoLockout(next: Settings, options: SettingsUpdateOptions): void {
  if (!options.callerIp || next.superuserIPs.length === 0) return;
  const ip = options.callerIp(next);
  if (ipInList(next.superuserIPs, ip)) return;
  throw badRequest(MESSAGES.validationFailed, {
    superuserIPs: fieldError(
      'validation_superuser_ip_lockout',
      `Your own address (${ip || 'unknown'}) would not be allowed: add it (or its subnet) to the list, or you would lock yourself out.`,
      { ip },
    ),
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
