import { ValueError } from '@mmc/core';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Standard base64 (RFC 4648, with `=` padding) of a byte array, in plain JavaScript so that it
 * behaves the same in Node and in browsers (no `Buffer`, no `btoa` on binary strings).
 *
 * @example
 * ```ts
 * bytesToBase64(new Uint8Array([104, 105])); // 'aGk='
 * ```
 */
export function bytesToBase64(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`bytesToBase64: bytes must be a Uint8Array, got ${typeof bytes}`);
  const parts: string[] = [];
  let chunk = '';
  const n = bytes.length;
  for (let i = 0; i < n; i += 3) {
    const a = bytes[i];
    const b = i + 1 < n ? bytes[i + 1] : 0;
    const c = i + 2 < n ? bytes[i + 2] : 0;
    const triple = (a << 16) | (b << 8) | c;
    chunk +=
      ALPHABET[(triple >> 18) & 63] +
      ALPHABET[(triple >> 12) & 63] +
      (i + 1 < n ? ALPHABET[(triple >> 6) & 63] : '=') +
      (i + 2 < n ? ALPHABET[triple & 63] : '=');
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

/** The MIME type of image bytes by their signature: PNG, JPEG, GIF or WebP (else undefined). */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const at = (i: number, sig: number[]) => sig.every((v, k) => bytes[i + k] === v);
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (at(0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (at(0, [0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50])) return 'image/webp';
  return undefined;
}

/**
 * A `data:` URL of image bytes, the MIME type taken from the signature (PNG, JPEG, GIF, WebP)
 * unless given. Throws a ValueError for bytes of an unknown format without `mime`.
 *
 * @example
 * ```ts
 * const url = imageDataUrl(similarityMapPng(sim)); // 'data:image/png;base64,iVBORw0KGgo…'
 * ```
 */
export function imageDataUrl(bytes: Uint8Array, mime?: string): string {
  const type = mime ?? sniffImageType(bytes);
  if (!type) throw new ValueError('imageDataUrl: bytes are not a PNG, JPEG, GIF or WebP image (pass mime to override)');
  if (!/^image\/[a-z0-9.+-]+$/i.test(type)) throw new ValueError(`imageDataUrl: mime must look like 'image/png', got '${type}'`);
  return `data:${type};base64,${bytesToBase64(bytes)}`;
}
