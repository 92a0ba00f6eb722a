import { FormatError, describe } from '@mmc/core';

/** Whether `bytes` start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses gzip bytes with the standard `DecompressionStream('gzip')` (browsers, Node ≥ 18,
 * Deno, Bun), so it is browser-safe; bytes without the gzip magic are returned unchanged. Use it
 * on fetched `*.gz` IDX files before `parseIdx` / `fashionMnistFromBytes`.
 *
 * @throws FormatError when the stream is corrupt or truncated.
 * @example
 * ```ts
 * const res = await fetch('/data/t10k-labels-idx1-ubyte.gz');
 * const labels = parseIdx(await gunzip(new Uint8Array(await res.arrayBuffer())));
 * ```
 */
export async function gunzip(bytes: Uint8Array, name = 'gzip bytes'): Promise<Uint8Array> {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`gunzip: ${name} must be a Uint8Array, got ${describe(bytes)}`);
  if (!isGzip(bytes)) return bytes;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new FormatError(`gunzip: ${name} is not valid gzip data (${(e as Error).message})`);
  }
}
