/** Stored names of uploads (spec §1.7) and the content-based type detection behind them. */
import { describe, expect, it } from 'vitest';
import { detectFileType, mimeTypeAllowed } from '../../src/core/files/detect-file-type.js';
import { storedFileName } from '../../src/core/files/stored-file-name.js';
import { isSafeStorageKey } from '../../src/core/files/storage-key.js';

const S = '[a-zA-Z0-9]{10}';

describe('storedFileName', () => {
  const cases: [string, string, RegExp][] = [
    ['logo.svg', '', new RegExp(`^logo_${S}\\.svg$`)],
    ['Logo.SVG', '', new RegExp(`^logo_${S}\\.svg$`)],
    ['myTestDB.png', '', new RegExp(`^my_test_db_${S}\\.png$`)],
    ['My Résumé (final).PDF', '', new RegExp(`^my_resume_final_${S}\\.pdf$`)],
    ['archive.TAR.GZ', '', new RegExp(`^archive_${S}\\.tar\\.gz$`)],
    ['my.holiday.photo.jpg', '', new RegExp(`^my_holiday_photo_${S}\\.jpg$`)],
    ['picture', 'png', new RegExp(`^picture_${S}\\.png$`)],
    ['noext', '', new RegExp(`^noext_${S}$`)],
    ['../../etc/passwd', 'txt', new RegExp(`^passwd_${S}\\.txt$`)],
    ['..\\..\\boot.ini', '', new RegExp(`^boot_${S}\\.ini$`)],
    ['.htaccess', '', new RegExp(`^htaccess_${S}$`)],
    ['a', 'txt', new RegExp(`^a${S}_${S}\\.txt$`)],
    ['日本語.txt', '', new RegExp(`^${S}_${S}\\.txt$`)],
    ['x..', '', new RegExp(`^x${S}_${S}$`)],
  ];
  for (const [input, ext, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected.source}`, () => {
      const name = storedFileName(input, ext);
      expect(name).toMatch(expected);
      expect(isSafeStorageKey(`c/r/${name}`)).toBe(true);
      expect(name).not.toMatch(/\.\.|[/\\\0]|^\./);
    });
  }

  it('long names are cut (base 100, extension 20)', () => {
    const name = storedFileName('a'.repeat(500) + '.' + 'b'.repeat(50));
    expect(name.length).toBeLessThanOrEqual(100 + 1 + 10 + 21);
  });

  it('two uploads of the same name never collide', () => {
    expect(storedFileName('same.txt')).not.toBe(storedFileName('same.txt'));
  });
});

describe('detectFileType', () => {
  const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  const cases: [string, Buffer, string][] = [
    ['png', PNG, 'image/png'],
    ['svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'image/svg+xml'],
    ['svg with an XML prolog', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'image/svg+xml'],
    ['xml', Buffer.from('<?xml version="1.0"?><note/>'), 'text/xml'],
    ['html', Buffer.from('<!DOCTYPE html><html></html>'), 'text/html'],
    ['html fragment', Buffer.from('  <script>alert(1)</script>'), 'text/html'],
    ['json', Buffer.from('{"a": [1, 2]}'), 'application/json'],
    ['text', Buffer.from('hello world\n'), 'text/plain'],
    ['text that looks like JSON but is not', Buffer.from('{not json'), 'text/plain'],
    ['binary', Buffer.from([0, 1, 2, 3, 254, 255]), 'application/octet-stream'],
    ['csv', Buffer.from('name,age\nalice,30\n"bob, jr",40\n'), 'text/csv'],
    ['tsv', Buffer.from('name\tage\nalice\t30\n'), 'text/tab-separated-values'],
    ['a sentence with a comma is not CSV', Buffer.from('Hello, world.\nSecond line\n'), 'text/plain'],
    ['vcard', Buffer.from('BEGIN:VCARD\nVERSION:4.0\nEND:VCARD\n'), 'text/vcard'],
    ['rtf', Buffer.from('{\\rtf1\\ansi hello}'), 'application/rtf'],
  ];
  for (const [name, data, mime] of cases) {
    it(name, async () => expect((await detectFileType(data)).mime).toBe(mime));
  }

  it('matching ignores parameters and case, and knows a few aliases', () => {
    expect(mimeTypeAllowed('text/plain', ['text/plain; charset=utf-8'])).toBe(true);
    expect(mimeTypeAllowed('image/png', ['IMAGE/PNG'])).toBe(true);
    expect(mimeTypeAllowed('text/xml', ['application/xml'])).toBe(true);
    expect(mimeTypeAllowed('application/rtf', ['text/rtf'])).toBe(true);
    expect(mimeTypeAllowed('text/html', ['image/png', 'text/plain'])).toBe(false);
  });
});
