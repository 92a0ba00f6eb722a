/**
 * `@mmc/core/node`: file helpers for Node.js (node:fs), kept out of the main entry so browser
 * bundles of `@mmc/core` stay free of fs. The formats themselves are the pure functions of
 * `@mmc/core` (`readNpy`, `writeNpy`, `readSafetensors`, `writeSafetensors`).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FormatError, ValueError } from './errors.js';
import type { NdArray } from './io/ndarray.js';
import { readNpy, writeNpy, type ReadNpyOptions } from './io/npy.js';
import { readSafetensors, writeSafetensors, type ReadSafetensorsOptions } from './io/safetensors.js';

/** Re-throws a format/value error of a reader with the file path in front; others unchanged. */
function rethrowWithPath(fn: string, path: string, e: unknown): never {
  if (e instanceof FormatError || e instanceof ValueError) {
    const Wrapped = e instanceof FormatError ? FormatError : ValueError;
    const err = new Wrapped(`${fn}: ${path}: ${e.message}`);
    err.cause = e;
    throw err;
  }
  throw e;
}

function checkPath(fn: string, path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ValueError(`${fn}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
}

/**
 * Reads a `.npy` file (see `readNpy` for dtypes, options and errors). FormatErrors and
 * ValueErrors name the file: `readNpyFile: data/labels.npy: readNpy: data is truncated: ...`.
 *
 * @example
 * ```ts
 * const labels = await readNpyFile('labels.npy', { int64: 'int32' });
 * ```
 */
export async function readNpyFile(path: string, options?: ReadNpyOptions): Promise<NdArray> {
  const fn = 'readNpyFile';
  checkPath(fn, path);
  const bytes = await readFile(path);
  try {
    return readNpy(bytes, options);
  } catch (e) {
    rethrowWithPath(fn, path, e);
  }
}

/**
 * Reads a `.safetensors` file into `{ name: NdArray }` (see `readSafetensors`); errors name the
 * file. For the `__metadata__` map, read the bytes and call `readSafetensorsHeader`.
 *
 * @example
 * ```ts
 * const weights = await readSafetensorsFile('vit-s16.safetensors');
 * ```
 */
export async function readSafetensorsFile(path: string, options?: ReadSafetensorsOptions): Promise<Record<string, NdArray>> {
  const fn = 'readSafetensorsFile';
  checkPath(fn, path);
  const bytes = await readFile(path);
  try {
    return readSafetensors(bytes, options);
  } catch (e) {
    rethrowWithPath(fn, path, e);
  }
}

/**
 * Writes `array` as a `.npy` file (`writeNpy`), atomically (`writeFileAtomic`).
 *
 * @example
 * ```ts
 * await writeNpyFile('features.npy', await fromTensor(features));
 * ```
 */
export async function writeNpyFile(path: string, array: NdArray): Promise<void> {
  checkPath('writeNpyFile', path);
  await writeFileAtomic(path, writeNpy(array));
}

/**
 * Writes named arrays (and optional string metadata) as a `.safetensors` file
 * (`writeSafetensors`), atomically (`writeFileAtomic`).
 *
 * @example
 * ```ts
 * await writeSafetensorsFile('ckpt.safetensors', weights, { step: '2000' });
 * ```
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, NdArray>,
  metadata?: Record<string, string>,
): Promise<void> {
  checkPath('writeSafetensorsFile', path);
  await writeFileAtomic(path, writeSafetensors(tensors, metadata));
}

/**
 * Replaces the file at `path` with `data` (bytes, or a string written as UTF-8) so that a reader
 * sees either the old or the new content, never a partial file: writes a uniquely named
 * temporary file in the same directory (`.<name>.<random>.tmp`, created exclusively), fsyncs
 * it, renames it over `path` (atomic on POSIX file systems and on NTFS), then fsyncs the
 * directory (best effort). An existing file keeps its permission bits. On any failure the
 * temporary file is removed and the error is re-thrown (its message prefixed with
 * `writeFileAtomic: cannot write <path>:`, its `code` kept); the old file, if any, is untouched.
 * The directory must exist.
 *
 * @example
 * ```ts
 * await writeFileAtomic('runs/mmc/checkpoint.safetensors', bytes);
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fn = 'writeFileAtomic';
  checkPath(fn, path);
  if (!(data instanceof Uint8Array) && typeof data !== 'string') {
    throw new ValueError(`${fn}: data must be a Uint8Array or a string, got ${data === null ? 'null' : typeof data}`);
  }
  const target = resolve(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target).slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`);
  let mode: number | undefined;
  try {
    mode = (await stat(target)).mode & 0o7777;
  } catch {
    mode = undefined; // no file yet (or not stat-able: rename will say)
  }
  let handle: FileHandle | undefined;
  let created = false;
  try {
    handle = await open(tmp, 'wx', mode ?? 0o666);
    created = true;
    if (mode !== undefined) await handle.chmod(mode); // open's mode is reduced by the umask
    await handle.writeFile(data);
    await handle.sync();
    const h = handle;
    handle = undefined;
    await h.close();
    await rename(tmp, target);
    created = false;
  } catch (e) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    if (created) await unlink(tmp).catch(() => undefined);
    if (e instanceof Error) e.message = `${fn}: cannot write ${path}: ${e.message}`;
    throw e;
  }
  // Persist the rename itself. Not possible everywhere (Windows): best effort.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // ignore
  }
}

export { initNodeWasmThreads } from './nodeWasmThreads.js';
