/**
 * Backups (`/api/backups`, PocketBase's apis/backup*.go and core/base_backup.go): one zip holds a
 * consistent copy of the database (the engine's own: `data.db` or `data.sql`, see
 * DatabaseBackups), every stored file under `storage/`, and a small manifest. Zips live in the
 * backup store: `<dataDir>/backups` or the S3 target of `settings.backups.s3`.
 *
 * A restore checks the zip completely (entry names, sizes, a database this engine can restore)
 * before it touches anything; then it closes the request gate (`restoring`: every request but
 * health gets a 503), waits for the requests in flight, replaces the database in one transaction,
 * replaces the stored files, reloads every cache, and opens the gate again. Clients see the old
 * data or the new, never a mix.
 *
 * One backup or restore runs at a time on a node (PocketBase's `@activeBackup` store key).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../clock.js';
import { badRequest, fieldError, isApiError, MESSAGES, type ErrorData } from '../errors.js';
import { detectFileType } from '../files/detect-file-type.js';
import { isSafeStorageKey } from '../files/storage-key.js';
import type { BackupFileInfo, BackupStore, BackupStoreFactory, Database, FileStorage, Logger } from '../ports.js';
import type { SettingsService } from '../settings/settings-service.js';
import { AUTO_BACKUP_PREFIX, BACKUP_KEY_MAX_LENGTH, BACKUP_NAME_PATTERN, generateBackupName, isBackupKey, MANUAL_BACKUP_PREFIX } from './backup-key.js';
import { underDir, writeZip, type ZipSource } from './backup-zip.js';
import { MANIFEST_FORMAT, MANIFEST_NAME, STORAGE_DIR, storedKeysUnder, unpackBackup } from './backup-unpack.js';



export interface BackupServiceDeps {
  db: Database;
  files: FileStorage;
  /** Absent: this server has no backup store (the routes answer 400). */
  stores: BackupStoreFactory | null;
  settings: SettingsService;
  clock: Clock;
  logger: Logger;
  /** Where zips are built and extracted (inside the data directory: renames stay on one disk). */
  tempDir: string;
  /** After a restore: every cache read from the database again (catalogue, settings, webhooks…). */
  reload: () => Promise<void>;
}

export interface RestoreOptions {
  /**
   * Waits for the requests in flight (other than the one asking for the restore) once the gate
   * is closed; false when they did not finish in time (the restore is then called off).
   */
  drain: () => Promise<boolean>;
}

const validation = (data: ErrorData) => badRequest(MESSAGES.validationFailed, data);

export class BackupService {
  /** The backup being made or restored (PocketBase's `@activeBackup`), or null. */
  private active: string | null = null;
  private gateClosed = false;

  constructor(private readonly deps: BackupServiceDeps) {}

  /** Whether a backup or a restore is running on this node (`canBackup` of `/api/health` is its negation). */
  get busy(): boolean {
    return this.active !== null;
  }

  /** Whether requests must be refused (503): a restore is replacing the data. */
  get restoring(): boolean {
    return this.gateClosed;
  }

  /**
   * Removes what an interrupted backup or restore left in the temporary folder (a process that
   * died mid-way never ran its clean-up). Called once at start-up, before any backup can run.
   */
  async clearLeftovers(): Promise<void> {
    await rm(this.deps.tempDir, { recursive: true, force: true });
  }

  async list(): Promise<BackupFileInfo[]> {
    const items = await this.withStore((store) => store.list(), 'Failed to retrieve backup items.');
    return items.filter((i) => isBackupKey(i.key)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** `POST /api/backups`: a new backup named `name` (PocketBase's rule), or a generated name. Returns its key. */
  async create(name: unknown): Promise<string> {
    if (this.active !== null) throw badRequest(MESSAGES.backupBusy);
    if (name !== undefined && name !== null && name !== '') {
      if (typeof name !== 'string') throw validation({ name: fieldError('validation_invalid_type', 'Must be a string.') });
      if (name.length > BACKUP_KEY_MAX_LENGTH) throw validation({ name: fieldError('validation_length_out_of_range', `The length must be between 1 and ${BACKUP_KEY_MAX_LENGTH}.`) });
      if (!BACKUP_NAME_PATTERN.test(name)) throw validation({ name: fieldError('validation_match_invalid', 'Must be in a valid format.') });
      if (await this.withStore((store) => store.stat(name), MESSAGES.backupCreateFailed)) {
        throw validation({ name: fieldError('validation_backup_name_exists', 'The backup file name is invalid or already exists.') });
      }
    }
    const key = typeof name === 'string' && name !== '' ? name : this.generatedName(MANUAL_BACKUP_PREFIX);
    // PocketBase's answer to any failure (an unreachable S3 target, a missing pg_dump): the cause is logged.
    await this.exclusive(key, () => this.withStore((store) => this.build(store, key), MESSAGES.backupCreateFailed));
    return key;
  }

  /**
   * The `__pbAutoBackup__` cron: a backup named `@auto_pb_backup_…`, then only the newest
   * `cronMaxKeep` automatic backups are kept (others are never touched).
   */
  async createAutomatic(): Promise<void> {
    const key = this.generatedName(AUTO_BACKUP_PREFIX);
    await this.exclusive(key, () => this.withStore((store) => this.build(store, key)));
    const keep = this.deps.settings.get().backups.cronMaxKeep;
    if (keep <= 0) return;
    await this.withStore(async (store) => {
      const autos = (await store.list()).filter((i) => i.key.startsWith(AUTO_BACKUP_PREFIX));
      autos.sort((a, b) => b.modified.getTime() - a.modified.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
      for (const old of autos.slice(keep)) {
        await store.delete(old.key).catch((err: unknown) => this.deps.logger.error({ err, key: old.key }, 'deleting an old automatic backup failed'));
      }
    });
  }

  /** `POST /api/backups/upload`: stores an uploaded zip as `filename`, streamed to disk first. */
  async upload(filename: string | null, content: Readable | null): Promise<void> {
    if (filename === null || content === null) throw validation({ file: fieldError('validation_required', 'Missing required value.') });
    if (!isBackupKey(filename)) {
      content.resume();
      throw validation({ file: fieldError('validation_invalid_backup_name', `The file name must end with .zip and use only letters, digits, "_", "-", "@" and "." (${BACKUP_KEY_MAX_LENGTH} characters at most).`) });
    }
    await this.inTemp('upload', async (dir) => {
      const path = join(dir, 'upload.zip');
      try {
        await pipeline(content, createWriteStream(path));
      } catch (err) {
        this.deps.logger.warn({ err }, 'backup upload failed');
        throw badRequest(MESSAGES.backupUploadFailed);
      }
      if (!(await looksLikeZip(path))) throw validation({ file: fieldError('validation_invalid_mime_type', 'The file must be a zip archive (application/zip).') });
      await this.withStore(async (store) => {
        if (await store.stat(filename)) throw validation({ file: fieldError('validation_backup_name_exists', 'Backup file with the specified name already exists.') });
        await store.save(filename, path);
      }, MESSAGES.backupUploadFailed);
    });
  }

  /** The zip of `key` for a download, or null when there is none. */
  async download(key: string): Promise<{ stream: Readable; size: number } | null> {
    if (!isBackupKey(key)) return null;
    const store = await this.openStore();
    try {
      const info = await store.stat(key);
      const stream = info ? await store.read(key) : null;
      if (!info || !stream) {
        await store.close();
        return null;
      }
      stream.once('close', () => void store.close().catch(() => {}));
      return { stream, size: info.size };
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    if (key === this.active) throw badRequest(MESSAGES.backupInUse);
    if (!isBackupKey(key)) throw badRequest(MESSAGES.backupMissingOrDeleted);
    const deleted = await this.withStore((store) => store.delete(key), MESSAGES.backupMissingOrDeleted);
    if (!deleted) throw badRequest(MESSAGES.backupMissingOrDeleted);
  }

  /**
   * `POST /api/backups/{key}/restore`. Everything that can refuse the zip runs before the gate
   * closes: a bad zip is a 400 with nothing changed.
   */
  async restore(key: string, options: RestoreOptions): Promise<void> {
    if (this.active !== null) throw badRequest(MESSAGES.backupBusy);
    if (!isBackupKey(key)) throw badRequest(MESSAGES.backupMissing);
    const backups = this.deps.db.backups;
    if (!backups || !this.deps.stores) throw badRequest(MESSAGES.backupUnavailable);
    await this.exclusive(key, () =>
      this.inTemp('restore', async (dir) => {
        const zipPath = await this.withStore(async (store) => ((await store.stat(key)) ? store.localCopy(key, join(dir, 'backup.zip')) : null), MESSAGES.backupMissing);
        if (!zipPath) throw badRequest(MESSAGES.backupMissing);
        const extracted = join(dir, 'extracted');
        await mkdir(extracted);
        const dbFile = await unpackBackup(zipPath, extracted, backups.fileName, this.deps.db.engine);
        const reason = await backups.check(dbFile);
        if (reason) throw badRequest(`Invalid backup file: ${reason}`);
        const keys = await storedKeysUnder(join(extracted, STORAGE_DIR));

        this.gateClosed = true;
        try {
          if (!(await options.drain())) throw badRequest(MESSAGES.backupStillRunning);
          try {
            await backups.restore(dbFile);
          } catch (err) {
            // One transaction: nothing was changed (the cause, a statement of the copy or a lock wait, is logged).
            this.deps.logger.error({ err, key }, 'restoring the database failed');
            throw badRequest(MESSAGES.backupRestoreFailed);
          }
          this.deps.logger.info({ key }, 'backup restored: database replaced');
          await this.replaceFiles(join(extracted, STORAGE_DIR), keys);
          await this.deps.reload();
          this.deps.logger.info({ key, files: keys.length }, 'backup restored');
        } finally {
          this.gateClosed = false;
        }
      }),
    );
  }

  /** Every stored file becomes the backup's: its files written, the others deleted. */
  private async replaceFiles(dir: string, keys: string[]): Promise<void> {
    const { files } = this.deps;
    const wanted = new Set(keys);
    for (const key of keys) {
      const data = await readFile(underDir(dir, key));
      await files.put(key, data, (await detectFileType(data)).mime);
    }
    for (const key of await files.list('')) if (!wanted.has(key)) await files.delete(key);
  }

  /** Builds the zip in the temporary folder, then hands it to the store. */
  private async build(store: BackupStore, key: string): Promise<void> {
    const backups = this.deps.db.backups;
    if (!backups) throw badRequest(MESSAGES.backupUnavailable);
    await this.inTemp('backup', async (dir) => {
      const dbFile = join(dir, backups.fileName);
      await backups.dump(dbFile);
      // Listed after the database copy: a file is stored before the write that references it
      // commits, so every file the copy references is listed (a file deleted since is not).
      const keys = (await this.deps.files.list('')).filter(isSafeStorageKey).sort();
      const manifest = { format: MANIFEST_FORMAT, version: 1, engine: this.deps.db.engine, created: new Date(this.deps.clock.now()).toISOString(), files: keys.length };
      const sources: ZipSource[] = [
        { name: MANIFEST_NAME, text: JSON.stringify(manifest, null, 2) },
        { name: backups.fileName, file: dbFile },
        ...keys.map((k): ZipSource => ({ name: `${STORAGE_DIR}/${k}`, open: () => this.deps.files.read(k) })),
      ];
      const zipPath = join(dir, 'backup.zip');
      await writeZip(zipPath, sources);
      await store.save(key, zipPath);
    });
    this.deps.logger.info({ key }, 'backup created');
  }

  private generatedName(prefix: string): string {
    return generateBackupName(prefix, this.deps.settings.get().meta.appName, this.deps.clock.now());
  }

  private async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    if (this.active !== null) throw badRequest(MESSAGES.backupBusy);
    this.active = key;
    try {
      return await work();
    } finally {
      this.active = null;
    }
  }

  private async openStore(): Promise<BackupStore> {
    const { stores, settings } = this.deps;
    if (!stores || !this.deps.db.backups) throw badRequest(MESSAGES.backupUnavailable);
    const s3 = settings.get().backups.s3;
    return stores(s3.enabled ? { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint, accessKey: s3.accessKey, secret: s3.secret, forcePathStyle: s3.forcePathStyle } : null);
  }

  /**
   * Runs `work` on the store in force. With `failure`, an error that is not an ApiError (an
   * unreachable S3 target, a full disk) is logged and answered as that 400, as PocketBase does.
   */
  private async withStore<T>(work: (store: BackupStore) => Promise<T>, failure?: string): Promise<T> {
    try {
      const store = await this.openStore();
      try {
        return await work(store);
      } finally {
        await store.close();
      }
    } catch (err) {
      if (!failure || isApiError(err)) throw err;
      this.deps.logger.error({ err }, failure);
      throw badRequest(failure);
    }
  }

  /** Runs `work` with a fresh folder under the temporary directory, removed afterwards. */
  private async inTemp<T>(label: string, work: (dir: string) => Promise<T>): Promise<T> {
    const dir = join(this.deps.tempDir, `${label}_${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** A zip starts with a local file header, or is empty (only the end-of-central-directory record). */
async function looksLikeZip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
  } finally {
    await handle.close();
  }
}
