/**
 * Which storage uploaded files go to, following the `s3` settings section at runtime (as
 * PocketBase's `NewFilesystem` reads the settings on every use): enabled → that bucket, off →
 * the start-up storage (`<dataDir>/storage`). Every node applies it after each settings change,
 * its own or one announced by another node (ClusterBridge re-emits `settingsChanged`).
 *
 * Start-up flags (`--s3-*`) win: with them, the section can be saved but the storage stays the
 * flags' bucket. Files already stored are never copied between storages (PocketBase does not
 * either): the dashboard tells the superuser to move them with rclone or similar.
 */
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/event-bus.js';
import type { FileStorage, Logger, S3StorageFactory } from '../ports.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { S3Settings } from '../settings/settings.js';
import { SwitchableFileStorage } from './switchable-file-storage.js';

/**
 * How long a storage switched away from stays open: calls started on it (a large download
 * streaming from the bucket) finish before its connections are closed.
 */
const RETIRE_AFTER_MS = 5 * 60_000;

export interface FileStorageSwitchDeps {
  /** The storage opened at start-up: local disk, or the flags' bucket. */
  startup: FileStorage;
  /** True when `--s3-*` flags chose the storage: the settings section never replaces it. */
  flagsWin: boolean;
  openS3: S3StorageFactory;
  settings: SettingsService;
  events: EventBus;
  logger: Logger;
  clock: Clock;
}

export class FileStorageSwitch {
  /** What every consumer holds. */
  readonly storage: SwitchableFileStorage;
  /** The S3 section in force (JSON), or '' for the start-up storage. */
  private activeKey = '';
  /** With flags: the enabled section last warned about (JSON), so each save is said once. */
  private ignoredKey = '';
  private queue: Promise<void> = Promise.resolve();
  private readonly retired = new Set<FileStorage>();
  private readonly closing = new AbortController();

  constructor(private readonly deps: FileStorageSwitchDeps) {
    this.storage = new SwitchableFileStorage(deps.startup);
    deps.events.on('settingsChanged', () => this.apply());
  }

  /** Whether the settings section decides the storage (no `--s3-*` flags). */
  get followsSettings(): boolean {
    return !this.deps.flagsWin;
  }

  /**
   * Brings the storage in line with the settings in force. Changes are applied one at a time,
   * in order; a failure is logged and leaves the storage as it was (never fails the caller).
   */
  apply(): Promise<void> {
    this.queue = this.queue.then(() => this.applyNow()).catch((err) => this.deps.logger.error({ err }, 'switching the file storage failed'));
    return this.queue;
  }

  private async applyNow(): Promise<void> {
    if (this.closing.signal.aborted) return;
    const s3 = this.deps.settings.get().s3;
    if (this.deps.flagsWin) {
      // Said once per saved change, so an operator reading the log knows why nothing moved.
      const ignored = s3.enabled ? JSON.stringify(s3) : '';
      if (ignored !== this.ignoredKey && ignored !== '') this.deps.logger.warn({ bucket: s3.bucket }, 'the s3 settings section is enabled but the --s3-* flags choose the file storage: the flags win');
      this.ignoredKey = ignored;
      return;
    }
    const wanted: S3Settings | null = s3.enabled ? s3 : null;
    const key = wanted ? JSON.stringify(wanted) : '';
    if (key === this.activeKey) return;
    const next = wanted ? await this.deps.openS3(wanted) : this.deps.startup;
    const previous = this.storage.switchTo(next);
    this.activeKey = key;
    if (previous !== this.deps.startup) this.retire(previous);
    // Bucket and endpoint only: never the keys.
    if (wanted) this.deps.logger.info({ bucket: wanted.bucket, endpoint: wanted.endpoint }, 'file storage switched to the S3 bucket of the settings');
    else this.deps.logger.info({}, 'file storage switched back to the start-up storage');
  }

  private retire(storage: FileStorage): void {
    this.retired.add(storage);
    this.deps.clock
      .sleep(RETIRE_AFTER_MS, this.closing.signal)
      .catch(() => {})
      .then(() => {
        // At shutdown close() closes it.
        if (this.closing.signal.aborted || !this.retired.delete(storage)) return;
        return storage.close();
      })
      .catch((err) => this.deps.logger.warn({ err }, 'closing a retired file storage failed'));
  }

  /** Closes every storage this switch holds: the start-up one, the current one, the retired ones. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.queue;
    const all = new Set([this.deps.startup, this.storage.current, ...this.retired]);
    this.retired.clear();
    for (const storage of all) await storage.close().catch((err) => this.deps.logger.warn({ err }, 'closing a file storage failed'));
  }
}
