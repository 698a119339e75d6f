/**
 * The one catalogue of API errors. Every error that leaves Basalt has the PocketBase shape
 * `{status, message, data}` (spec §1.1); field errors inside `data` are `{code, message, params?}`.
 * Raw driver errors never reach a client: the db layer translates them, and anything else
 * becomes a 500 with the default message.
 */

export interface FieldError {
  code: string;
  message: string;
  params?: Record<string, unknown>;
  /** Batch requests only: the failing sub-request's own error (spec §1.1, §1.5). */
  response?: { status: number; message: string; data: ErrorData };
}

/** Nested field errors: `{title: {code, message}}` or `{fields: {"0": {name: {...}}}}`. */
export type ErrorData = { [key: string]: FieldError | ErrorData };

/** Default messages by status, spec §1.1. */
export const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Something went wrong while processing your request.',
  401: 'Missing or invalid authentication.',
  403: 'You are not allowed to perform this request.',
  404: "The requested resource wasn't found.",
  412: 'Precondition failed.',
  413: 'Request entity too large.',
  416: 'Range not satisfiable.',
  429: 'Too Many Requests.',
  500: 'Something went wrong while processing your request.',
  503: 'Service Unavailable.',
};

/** Messages that clients (and the PocketBase SDK's users) match on; keep them stable. */
export const MESSAGES = {
  missingCollection: 'Missing collection context.',
  missingAuthCollection: 'Missing or invalid auth collection context.',
  superusersOnly: 'Only superusers can perform this action.',
  superusersOnlyFilter: 'Only superusers can filter by @collection.',
  unsupportedCollectionType: 'Unsupported collection type.',
  createFailed: 'Failed to create record.',
  updateFailed: 'Failed to update record.',
  deleteFailed: 'Failed to delete record. Make sure that the record is not part of a required relation reference.',
  cascadeTooLarge: 'Failed to delete record. It is referenced by too many records to change in one delete; remove or unlink some of them first.',
  authFailed: 'Failed to authenticate.',
  authRuleFailed: "The request doesn't satisfy the collection requirements to authenticate.",
  refreshRequiresAuth: 'The request requires valid record authorization token.',
  refreshWrongCollection: 'The request requires valid record authorization token from the current collection.',
  invalidFilter: 'Invalid filter parameters.',
  invalidSort: 'Invalid sort parameters.',
  invalidListParams: 'Invalid list request parameters.',
  invalidExpand: 'Invalid "expand" parameter.',
  invalidBody: 'Failed to load the submitted data due to invalid formatting.',
  tooManyBodyKeys: 'The submitted data has too many keys.',
  validationFailed: 'An error occurred while validating the submitted data.',
  collectionCreateFailed: 'Failed to create collection.',
  collectionUpdateFailed: 'Failed to update collection.',
  collectionDeleteFailed: 'Failed to delete collection due to existing dependency.',
  bodyTooLarge: 'Request entity too large.',
  batchDisabled: 'Batch requests are not allowed.',
  batchReadFailed: 'Failed to read the submitted batch data.',
  batchInvalid: 'Invalid batch request data.',
  batchFailed: 'Batch transaction failed.',
  batchRequestFailed: 'Batch request failed.',
  fileChanged: 'The file has changed since the precondition was set.',
  rangeNotSatisfiable: 'The requested range is not satisfiable.',
  fileTokenRequiresAuth: 'The request requires valid record authorization token.',
  fileTokenApiKey: 'API keys cannot request file tokens: they have no record to sign one for.',
  missingCronJob: 'Missing or invalid cron job.',
  backupBusy: 'Try again later - another backup/restore process has already been started.',
  backupUnavailable: 'Backups are not available on this server.',
  backupInUse: 'The backup is currently being used and cannot be deleted.',
  backupMissingOrDeleted: 'Invalid or already deleted backup file.',
  backupMissing: 'Missing or invalid backup file.',
  backupStillRunning: 'Try again later - requests still running did not finish in time for the restore.',
  backupCreateFailed: 'Failed to create backup.',
  backupRestoreFailed: 'Failed to restore the backup: its database could not be loaded, and nothing was changed.',
  backupUploadFailed: 'Failed to upload backup.',
  restoring: 'A backup is being restored. Try again in a moment.',
  firstRunSpent: 'A superuser already exists: the first-run link can no longer be used. Sign in instead.',
} as const;

/** "failed to x" → "Failed to x." (PocketBase "sentenizes" every message). */
export function sentenize(message: string): string {
  const trimmed = message.trim();
  if (trimmed === '') return trimmed;
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : first + '.';
}

/**
 * Field errors one error lists at most (top-level keys of `data`); the message counts the rest.
 * A body cannot have many more fields than its collection (see record-body.ts), but an error
 * body must stay small whatever produced it: one error per submitted key once made 81 MiB.
 */
export const MAX_FIELD_ERRORS = 50;

function boundFieldErrors(message: string, data: ErrorData): { message: string; data: ErrorData } {
  const keys = Object.keys(data);
  const rest = keys.length - MAX_FIELD_ERRORS;
  if (rest <= 0) return { message, data };
  return {
    message: `${sentenize(message)} ${rest} more field error${rest === 1 ? ' is' : 's are'} not listed.`,
    data: Object.fromEntries(keys.slice(0, MAX_FIELD_ERRORS).map((k) => [k, data[k]])),
  };
}

export class ApiError extends Error {
  readonly status: number;
  readonly data: ErrorData;

  constructor(status: number, message?: string, data: ErrorData = {}) {
    const bounded = boundFieldErrors(message || DEFAULT_MESSAGES[status] || DEFAULT_MESSAGES[400], data);
    super(sentenize(bounded.message));
    this.name = 'ApiError';
    this.status = status;
    this.data = bounded.data;
  }

  toJSON(): { status: number; message: string; data: ErrorData } {
    return { status: this.status, message: this.message, data: this.data };
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/**
 * A query cancelled at its deadline (Config.queryTimeoutMs): 503, since the server chose not to
 * finish it, and the message says what the client can change.
 */
export const queryTimedOut = (ms: number): ApiError =>
  new ApiError(503, `The query took longer than ${ms} ms and was cancelled. Simplify the filter, sort or expand, or add an index.`);

/**
 * A transaction the database ended to settle a conflict with another one (a deadlock): 503, as
 * nothing was saved and the same request again normally goes through.
 */
export const transactionConflict = (): ApiError =>
  new ApiError(503, 'The database ended this request to settle a conflict with another one writing the same data; nothing was saved. Send it again.');

export const badRequest = (message?: string, data?: ErrorData): ApiError => new ApiError(400, message, data);
export const unauthorized = (message?: string): ApiError => new ApiError(401, message);
export const forbidden = (message?: string): ApiError => new ApiError(403, message);
export const notFound = (message?: string): ApiError => new ApiError(404, message);

export function fieldError(code: string, message: string, params?: Record<string, unknown>): FieldError {
  return params ? { code, message, params } : { code, message };
}

