/**
 * Which stored file a download request gets (spec §1.7), following PocketBase v0.23+
 * (apis/file.go): the collection and the record must exist and the name must be a value of
 * one of the record's file fields, else 404. Files of ordinary fields are public to whoever
 * knows the URL — the viewRule is NOT checked, as in PocketBase. Protected fields need a file
 * token (`?token=`) whose record satisfies the viewRule with `@request.context =
 * "protectedFile"`; otherwise 404, not 403, so a protected file's existence does not leak.
 */
import type { AuthService } from '../auth/auth-service.js';
import type { CollectionModel } from '../model/collection-model.js';
import { valuesOf } from '../collections/fields/multi-value.js';
import type { Field } from '../model/collection-types.js';
import { ApiError, badRequest, fieldError, notFound } from '../errors.js';
import type { FileStorage, StoredFileInfo } from '../ports.js';
import { callerFor, systemCaller } from '../records/caller.js';
import { ruleAllows, type QueryContext } from '../records/record-query.js';
import { findRecord } from '../records/record-reader.js';
import type { RecordModel } from '../model/record-model.js';
import { deriveRequest, type RequestInfo } from '../rules/request-info.js';
import { ContentTypeCache } from './content-type-cache.js';
import { isThumbnailable } from './served-content-type.js';
import { isSafeStorageKey } from './storage-key.js';
import type { ThumbCache } from './thumb-cache.js';
import { allowedThumbSize, DEFAULT_THUMB_SIZES } from './thumb-size.js';

export interface DownloadRequest {
  /** Collection id or name. */
  collection: string;
  recordId: string;
  filename: string;
  /** `?thumb=`; empty for none. */
  thumb: string;
  /** `?token=`; empty for none. */
  token: string;
  /** The request as rules see it (headers, query…); auth and context are replaced. */
  info: RequestInfo;
  /** False when the client IP is outside settings `superuserIPs`: a superuser's token then counts as none. @default true */
  superuserAllowed?: boolean;
}

/**
 * A thumb size the field does not list is bad input (PocketBase quietly serves the original):
 * the answer says which sizes exist, so a typo in a URL is found rather than hidden.
 */
function thumbNotAllowed(field: Field): ApiError {
  const listed = Array.isArray(field.thumbs) ? (field.thumbs as string[]) : [];
  const allowed = [...new Set([...DEFAULT_THUMB_SIZES, ...listed])];
  return badRequest('Thumb size not allowed.', {
    thumb: fieldError('validation_invalid_thumb_size', `Allowed thumb sizes for ${field.name}: ${allowed.join(', ')}.`, { allowed }),
  });
}

/** The file to send: the original or a thumbnail of it. */
export interface ServedFile {
  key: string;
  /** The name the client sees (`<size>_<filename>` for a thumb). */
  name: string;
  info: StoredFileInfo;
  /** The type detected from the content (for Content-Disposition and Content-Type). */
  sniffedType: string;
}

export class FileDownloads {
  private readonly types: ContentTypeCache;

  constructor(
    private readonly ctx: QueryContext,
    private readonly storage: FileStorage,
    private readonly auth: AuthService,
    private readonly thumbs: ThumbCache,
  ) {
    this.types = new ContentTypeCache(storage);
  }

  async resolve(request: DownloadRequest): Promise<ServedFile> {
    const collection = this.ctx.schema.find(request.collection);
    if (!collection || request.recordId === '') throw notFound();
    const record = await findRecord(this.ctx, collection, request.recordId, systemCaller(), collection.rules.view);
    if (!record) throw notFound();
    const field = fileFieldHolding(collection, record, request.filename);
    if (!field) throw notFound();
    if (field.protected === true && !(await this.tokenMayView(collection, record, request))) throw notFound();

    // NB: view collections keep no link to the source record's folder, so their files answer
    // 404 here (PocketBase looks the source record up: not supported yet).
    const base = `${collection.id}/${String(record.values.id)}`;
    const key = `${base}/${request.filename}`;
    // Values are stored names, but a value written around the API must not reach storage.
    if (!isSafeStorageKey(key)) throw notFound();
    const info = await this.storage.stat(key);
    if (!info) throw notFound();
    const sniffedType = await this.types.typeOf(key, info);
    if (sniffedType === null) throw notFound();
    const original: ServedFile = { key, name: request.filename, info, sniffedType };

    const size = allowedThumbSize(field, request.thumb);
    if (request.thumb !== '' && !size) throw thumbNotAllowed(field);
    if (!size || !isThumbnailable(sniffedType)) return original;
    const thumbName = `${request.thumb}_${request.filename}`;
    const thumbKey = `${base}/thumbs_${request.filename}/${thumbName}`;
    const thumbInfo = await this.thumbs.ensure(key, thumbKey, size, info.size);
    return thumbInfo ? { key: thumbKey, name: thumbName, info: thumbInfo, sniffedType } : original;
  }

  /** PocketBase: the token's record (or a guest, for a bad token) must pass the viewRule. */
  private async tokenMayView(collection: CollectionModel, record: RecordModel, request: DownloadRequest): Promise<boolean> {
    const found = request.token.trim() === '' ? null : await this.auth.findByToken(request.token.trim(), 'file');
    let caller = callerFor(deriveRequest(request.info, { context: 'protectedFile', auth: found?.record ?? null }));
    if (caller.can.administers && request.superuserAllowed === false) caller = callerFor(deriveRequest(request.info, { context: 'protectedFile', auth: null }));
    return ruleAllows(this.ctx, collection, String(record.values.id), collection.rules.view, caller);
  }
}

/** The file field of `record` that holds `filename`, if any. */
function fileFieldHolding(collection: CollectionModel, record: RecordModel, filename: string): Field | null {
  if (filename === '') return null;
  for (const field of collection.fields) {
    if (field.type === 'file' && valuesOf(record.values[field.name]).includes(filename)) return field;
  }
  return null;
}
