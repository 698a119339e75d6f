/** Stored files as the dashboard shows them: thumbnails for images, links for the rest. */
import type { RecordModel } from 'pocketbase';
import { pb } from './sdk';

const IMAGE = /\.(?:png|jpe?g|gif|webp)$/i;

export function isImageName(name: string): boolean {
  return IMAGE.test(name);
}

/**
 * A file's URL; `thumb` (100x100, which Basalt, like PocketBase, always serves) for a preview, and
 * the file token for protected files (an Authorization header is not enough for an `<img>`).
 */
export function fileURL(record: RecordModel, name: string, token: string, thumb?: string): string {
  const query: Record<string, string> = {};
  if (thumb) query['thumb'] = thumb;
  if (token) query['token'] = token;
  return pb.files.getURL(record, name, query);
}

/** The names in a file field's value (one name, a list of them, or nothing). */
export function fileNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return typeof value === 'string' && value !== '' ? [value] : [];
}
