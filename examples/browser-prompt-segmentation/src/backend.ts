import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { BackendError, useBackend } from '@mmc/core';

/** The backends a page tries, fastest first. */
export const PAGE_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

// The wasm backend fetches its binaries by file name; point it at the files the bundler emitted.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/** Reads `?backend=` of a URL query; undefined when absent, a BackendError when unknown. */
export function requestedBackend(search: string): PageBackend | undefined {
  const name = new URLSearchParams(search).get('backend');
  if (name === null || name === '' || name === 'auto') return undefined;
  if (!(PAGE_BACKENDS as readonly string[]).includes(name)) {
    throw new BackendError(`?backend= must be one of auto, ${PAGE_BACKENDS.join(', ')}, got '${name}'`);
  }
  return name as PageBackend;
}

/**
 * Starts `wanted`, or the first of webgpu, webgl, wasm, cpu that starts (`useBackend` of
 * @mmc/core), and resolves to its name and why the ones before it were skipped.
 *
 * @example
 * ```ts
 * const { name, skipped } = await startBackend(); // { name: 'webgpu', skipped: [] } on a WebGPU browser
 * ```
 */
export async function startBackend(wanted?: PageBackend): Promise<{ name: PageBackend; skipped: string[] }> {
  if (wanted) return { name: (await useBackend(wanted)) as PageBackend, skipped: [] };
  const skipped: string[] = [];
  for (const name of PAGE_BACKENDS) {
    try {
      return { name: (await useBackend(name)) as PageBackend, skipped };
    } catch (e) {
      skipped.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new BackendError(`no backend started: ${skipped.join('; ')}`);
}
