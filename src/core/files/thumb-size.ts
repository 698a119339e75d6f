/** Thumb sizes (spec §1.7): which ones a file field allows, and what they mean. */
import { THUMB_SIZE } from '../collections/fields/file-field.js';
import type { Field } from '../model/collection-types.js';
import type { ThumbSize } from '../ports.js';

/** Always allowed, whatever the field's `thumbs` say (PocketBase's defaultThumbSizes). */
export const DEFAULT_THUMB_SIZES: readonly string[] = ['100x100'];

const MODES = { t: 'top', b: 'bottom', f: 'fit' } as const;

/** `300x100t` → {300, 100, top}; null for anything else (or `0x0`). */
export function parseThumbSize(text: string): ThumbSize | null {
  const m = THUMB_SIZE.exec(text);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width === 0 && height === 0) return null;
  return { width, height, mode: m[3] ? MODES[m[3] as keyof typeof MODES] : 'center' };
}

/**
 * The thumb size `text` as the field allows it, or null. NB: PocketBase answers a size that is
 * not allowed with the original file; Basalt answers 400 (file-downloads.ts).
 */
export function allowedThumbSize(field: Field, text: string): ThumbSize | null {
  if (text === '') return null;
  const thumbs = Array.isArray(field.thumbs) ? (field.thumbs as unknown[]) : [];
  if (!DEFAULT_THUMB_SIZES.includes(text) && !thumbs.includes(text)) return null;
  return parseThumbSize(text);
}
