/**
 * SharpThumbnailer on its own: it keeps the source format, refuses formats outside
 * png/jpeg/gif/webp (SVG can be decoded by sharp but is never thumbnailed), and refuses a
 * source whose declared canvas is over its pixel cap before decoding it (decompression bombs).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { SharpThumbnailer } from '../../src/adapters/sharp-thumbnailer.js';

const image = (width: number, height: number, format: 'png' | 'tiff' = 'png') =>
  sharp({ create: { width, height, channels: 3, background: '#336699' } }).toFormat(format).toBuffer();

/** CRC-32 of PNG chunks (zlib.crc32 arrives in Node 22). */
function crc32(data: Buffer): number {
  let c = ~0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** The same PNG with its IHDR claiming another size (CRC fixed, so only the size is wrong). */
function withDimensions(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  // Signature (8) + length (4) + "IHDR" (4), then width and height.
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

describe('SharpThumbnailer', () => {
  it('makes a PNG thumb of a PNG', async () => {
    const thumb = await new SharpThumbnailer().make(await image(40, 20), { width: 10, height: 10, mode: 'center' });
    expect(thumb.contentType).toBe('image/png');
    const meta = await sharp(thumb.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 10, 10]);
  });

  it('refuses a source over the pixel cap (a small file declaring a huge canvas)', async () => {
    // 3000×3000 of one colour compresses well but decodes to 9 MP.
    const big = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#336699' } }).png({ compressionLevel: 9 }).toBuffer();
    await expect(new SharpThumbnailer(1_000_000).make(big, { width: 10, height: 10, mode: 'center' })).rejects.toThrow(/pixel limit/i);
  });

  it('the default cap refuses a tiny PNG whose header declares 60000×60000', async () => {
    const bomb = withDimensions(await image(1, 1), 60_000, 60_000);
    expect(bomb.length).toBeLessThan(200);
    await expect(new SharpThumbnailer().make(bomb, { width: 10, height: 10, mode: 'center' })).rejects.toThrow(/pixel limit/i);
  });

  it('refuses SVG, TIFF and non-images', async () => {
    const thumbs = new SharpThumbnailer();
    const size = { width: 10, height: 10, mode: 'center' } as const;
    await expect(thumbs.make(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), size)).rejects.toThrow(/not a thumbnailable image/);
    await expect(thumbs.make(await image(20, 20, 'tiff'), size)).rejects.toThrow(/not a thumbnailable image/);
    await expect(thumbs.make(Buffer.from('plain text'), size)).rejects.toThrow();
  });
});
