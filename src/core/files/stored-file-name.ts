/**
 * The name an upload is stored under (spec §1.7, PocketBase's `normalizeName`): the client's
 * name reduced to safe characters (snake_case words of [a-z0-9], the extension lowercased),
 * then a random 10-character suffix so names never collide and cannot be guessed:
 * `My Logo.SVG` → `my_logo_vcfJJG5TAh.svg`.
 *
 * NB: the result is a storage key segment and part of file URLs: it can never contain `/`, `\`,
 * `..`, NUL or a leading dot, whatever the client sent (`../../etc/passwd` → `passwd_<suffix>.txt`).
 */
import { randomString } from '../ids.js';

export const FILE_SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const FILE_SUFFIX_LENGTH = 10;
const MAX_BASE_LENGTH = 100;
const MIN_BASE_LENGTH = 3;
const MAX_EXT_LENGTH = 20;

const suffix = () => randomString(FILE_SUFFIX_LENGTH, FILE_SUFFIX_ALPHABET);

/** The last path segment: browsers send bare names, but a forged part may send a path. */
function baseName(name: string): string {
  const parts = name.split(/[/\\]/);
  return parts[parts.length - 1];
}

/** `report.TAR.GZ` → `.tar.gz` (at most two parts, as PocketBase keeps double extensions). */
function extensionOf(name: string): { ext: string; rest: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { ext: '', rest: name };
  const second = name.lastIndexOf('.', dot - 1);
  // `a.tar.gz` keeps `.tar.gz`; a long "first part" (`my.holiday.photo.jpg`) is not an extension.
  const start = second > 0 && dot - second <= 5 ? second : dot;
  const parts = name
    .slice(start + 1)
    .toLowerCase()
    .split('.')
    .map((p) => p.replace(/[^a-z0-9]/g, ''))
    .filter((p) => p !== '');
  let ext = parts.join('.');
  if (ext.length > MAX_EXT_LENGTH) ext = ext.slice(ext.length - MAX_EXT_LENGTH).replace(/^\.+/, '');
  return { ext: ext === '' ? '' : '.' + ext, rest: name.slice(0, start) };
}

/** `My Résumé (final)` → `my_resume_final`; `myTestDB` → `my_test_db` (PocketBase's Snakecase). */
function snakeCase(text: string): string {
  const ascii = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const words = ascii
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '');
  return words.join('_').toLowerCase();
}

/**
 * A new stored name for an upload called `original`; `detectedExt` (from the content) is used
 * when the name has no usable extension.
 */
export function storedFileName(original: string, detectedExt = ''): string {
  const name = baseName(original.replace(/\0/g, ''));
  const { ext: ownExt, rest } = extensionOf(name);
  const cleanDetected = detectedExt.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, MAX_EXT_LENGTH);
  const ext = ownExt !== '' ? ownExt : cleanDetected !== '' ? '.' + cleanDetected : '';
  let base = snakeCase(rest);
  if (base.length > MAX_BASE_LENGTH) base = base.slice(0, MAX_BASE_LENGTH).replace(/_+$/, '');
  // Too short to say anything: padded with random characters, as PocketBase does.
  if (base.length < MIN_BASE_LENGTH) base += suffix();
  return `${base}_${suffix()}${ext}`;
}

