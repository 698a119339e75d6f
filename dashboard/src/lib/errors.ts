/** The server's errors as the screens show them: its message, and the field errors it names. */
import { ClientResponseError } from 'pocketbase';

/** A request the SDK cancelled (a newer one with the same key replaced it): not an error to show. */
export function isAbort(err: unknown): boolean {
  return err instanceof ClientResponseError && err.isAbort;
}

/** `{field: message}` from a `{status, message, data}` error body. */
export function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ClientResponseError)) return out;
  const data = err.response?.data as Record<string, { message?: unknown }> | undefined;
  if (data && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) {
      if (value && typeof value.message === 'string') out[key] = value.message;
    }
  }
  return out;
}

/** The server's message (and its field errors, for errors no form field shows). */
export function errorMessage(err: unknown, withFields = false): string {
  if (err instanceof ClientResponseError) {
    if (err.status === 0) return 'Basalt could not be reached. Is the server running?';
    const message = typeof err.response?.message === 'string' && err.response.message !== '' ? err.response.message : err.message;
    if (!withFields) return message;
    const details = Object.entries(fieldErrors(err)).map(([k, v]) => `${k}: ${v}`);
    return details.length > 0 ? `${message} ${details.join(' ')}` : message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function statusOf(err: unknown): number {
  return err instanceof ClientResponseError ? err.status : 0;
}
