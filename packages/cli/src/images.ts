import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { decode as decodePng, convertIndexedToRgb } from 'fast-png';
import jpeg from 'jpeg-js';
import { FormatError, ValueError } from '@mmc/core';

/** File extensions `mmc embed --images` reads (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** A decoded image: RGB float32 in [0, 1], `[height, width, 3]` row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * The image files of a folder (PNG, JPEG by extension; not recursive; hidden files skipped),
 * sorted by name (code-point order, so the order does not depend on the locale).
 * Errors: ValueError when `dir` does not exist, is not a folder, or holds no image.
 */
export async function listImages(fn: string, dir: string): Promise<string[]> {
  let isDir = false;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch {
    throw new ValueError(`${fn}: --images folder '${dir}' does not exist`);
  }
  if (!isDir) throw new ValueError(`${fn}: --images must be a folder, '${dir}' is a file`);
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && !e.name.startsWith('.') && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) throw new ValueError(`${fn}: no images (${IMAGE_EXTENSIONS.join(', ')}) in '${dir}'`);
  return names;
}

/** Interleaved 8/16-bit samples with `channels` per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) → RGB [0, 1]; alpha dropped. */
function toRgb(samples: ArrayLike<number>, width: number, height: number, channels: number, max: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(n * 3);
  const gray = channels < 3;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    out[3 * i] = samples[s] / max;
    out[3 * i + 1] = samples[gray ? s : s + 1] / max;
    out[3 * i + 2] = samples[gray ? s : s + 2] / max;
  }
  return out;
}

/**
 * Decodes a PNG (fast-png: 1–16-bit gray, gray+alpha, RGB, RGBA, palette) or a JPEG (jpeg-js:
 * baseline and progressive) to RGB in [0, 1]. Alpha is dropped (not composited). The format is
 * taken from the file's signature, not its name.
 * Errors: FormatError naming the file for anything else or a damaged file.
 */
export function decodeImage(fn: string, name: string, bytes: Uint8Array): RgbImage {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const png = decodePng(bytes);
      if (png.palette) {
        const rgb = convertIndexedToRgb(png);
        const channels = png.palette[0].length; // RGB or RGBA entries
        return { width: png.width, height: png.height, data: toRgb(rgb, png.width, png.height, channels, 255) };
      }
      const max = png.depth === 16 ? 65535 : 2 ** png.depth - 1;
      return { width: png.width, height: png.height, data: toRgb(png.data, png.width, png.height, png.channels, max) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
      return { width: img.width, height: img.height, data: toRgb(img.data, img.width, img.height, 4, 255) };
    }
  } catch (e) {
    const err = new FormatError(`${fn}: cannot decode image '${name}': ${e instanceof Error ? e.message : String(e)}`);
    err.cause = e;
    throw err;
  }
  throw new FormatError(`${fn}: cannot decode image '${name}': not a PNG or JPEG file (unknown signature)`);
}

/** Reads and decodes `dir/name` ({@link decodeImage}). */
export async function readImage(fn: string, dir: string, name: string): Promise<RgbImage> {
  return decodeImage(fn, name, new Uint8Array(await readFile(join(dir, name))));
}
