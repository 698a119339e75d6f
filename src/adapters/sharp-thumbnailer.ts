/**
 * Thumbnailer on sharp (libvips). Sizes follow PocketBase's imaging calls: WxH/t/b fill the box
 * and crop (center, top, bottom), WxHf fits inside without enlarging, 0xH and Wx0 resize one
 * side keeping the aspect ratio. The output keeps the source format; an animated GIF or WebP
 * becomes its first frame (sharp reads one page unless asked for more), as in PocketBase.
 */
import type { FormatEnum } from 'sharp';
import type { Thumbnail, Thumbnailer, ThumbSize } from '../core/ports.js';

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/**
 * Decoded-pixel cap (width × height of the source). A small, highly compressed file can
 * declare a huge canvas (a "decompression bomb"): sharp checks the header against this before
 * decoding. 40 MP covers any camera photo and bounds one decode at ~160 MB of RGBA.
 * @default 40_000_000
 */
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;

/**
 * sharp is loaded on the first thumbnail: libvips and its thread pool cost memory (and start-up
 * time) in every server, most of which never make a thumbnail in their lifetime.
 */
type Sharp = (typeof import('sharp'))['default'];
let loaded: Promise<Sharp> | null = null;
const loadSharp = (): Promise<Sharp> => (loaded ??= import('sharp').then((m) => m.default as Sharp));

const POSITION = { center: 'centre', top: 'top', bottom: 'bottom' } as const;

export class SharpThumbnailer implements Thumbnailer {
  constructor(private readonly maxInputPixels = DEFAULT_MAX_INPUT_PIXELS) {}

  async make(source: Buffer, size: ThumbSize): Promise<Thumbnail> {
    const sharp = await loadSharp();
    const image = sharp(source, { limitInputPixels: this.maxInputPixels, failOn: 'error' });
    const { format } = await image.metadata();
    const contentType = format ? CONTENT_TYPES[format] : undefined;
    if (!format || !contentType) throw new Error(`not a thumbnailable image (${format ?? 'unknown format'})`);
    // EXIF orientation first (PocketBase decodes with AutoOrientation), then the size.
    const pipeline = image.rotate();
    if (size.width === 0 || size.height === 0) {
      pipeline.resize(size.width === 0 ? { height: size.height } : { width: size.width });
    } else if (size.mode === 'fit') {
      pipeline.resize({ width: size.width, height: size.height, fit: 'inside', withoutEnlargement: true });
    } else {
      pipeline.resize({ width: size.width, height: size.height, fit: 'cover', position: POSITION[size.mode] });
    }
    const data = await pipeline.toFormat(format as keyof FormatEnum).toBuffer();
    return { data, contentType };
  }
}
