import * as tf from '@tensorflow/tfjs';
import { installChunkedAddN } from './chunkedAddN.js';
import { BackendError, ValueError } from './errors.js';

/** Backends `useBackend` knows; `'auto'` picks the fastest installed one. */
export type BackendName = 'auto' | 'cpu' | 'wasm' | 'webgl' | 'webgpu' | 'tensorflow';

const KNOWN: readonly BackendName[] = ['auto', 'cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow'];

/** True under Node.js (as opposed to a browser or a worker). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

// Node-only packages are imported through a variable so browser bundlers do not try to resolve them.
const importNodeOnly = (name: string): Promise<unknown> => import(/* @vite-ignore */ name);

type Attempt = (pkg: string, load: () => Promise<unknown>) => Promise<void>;
interface NodeGpu {
  requestAdapter(): Promise<unknown>;
}

/**
 * Node: `navigator.gpu` from the `webgpu` package (Dawn), once it has an adapter. Dawn finds GPUs
 * through Vulkan (Linux), Metal or D3D12; without a GPU, a Vulkan software driver such as
 * SwiftShader (`VK_ICD_FILENAMES`, see docs/backends.md) serves.
 */
async function installNodeWebGpu(attempt: Attempt): Promise<void> {
  let dawn: { create: (flags: string[]) => NodeGpu; globals: object } | undefined;
  await attempt('webgpu', async () => {
    dawn = (await importNodeOnly('webgpu')) as typeof dawn;
  });
  const gpu = dawn!.create([]);
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (adapter == null) {
    throw new BackendError(
      "useBackend: backend 'webgpu' found no WebGPU adapter through the npm package webgpu (Dawn): it needs a " +
        'Vulkan driver on Linux (a GPU driver, or a software one: VK_ICD_FILENAMES=<SwiftShader or lavapipe ICD json> ' +
        'with libvulkan1 installed; see docs/backends.md)',
      'webgpu',
    );
  }
  Object.assign(globalThis, dawn!.globals);
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...((globalThis as { navigator?: object }).navigator ?? {}), gpu },
    configurable: true,
    writable: true,
  });
}

/** Loads the package that registers `name`; throws BackendError naming it when it is missing. */
async function loadBackendPackage(name: Exclude<BackendName, 'auto'>): Promise<void> {
  if (tf.findBackendFactory(name) != null) {
    if (name === 'webgpu') installChunkedAddN('webgpu');
    return;
  }
  const attempt: Attempt = async (pkg, load) => {
    try {
      await load();
    } catch (e) {
      throw new BackendError(
        `useBackend: backend '${name}' needs the npm package ${pkg}, which could not be loaded ` +
          `(install it with \`npm install ${pkg}\`): ${(e as Error).message}`,
        pkg,
      );
    }
  };
  switch (name) {
    case 'wasm':
      return attempt('@tensorflow/tfjs-backend-wasm', () => import('@tensorflow/tfjs-backend-wasm'));
    case 'webgpu':
      if (isNode() && (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu == null) await installNodeWebGpu(attempt);
      await attempt('@tensorflow/tfjs-backend-webgpu', () => import('@tensorflow/tfjs-backend-webgpu'));
      installChunkedAddN('webgpu'); // tf.addN of 8+ tensors is silently wrong on WebGPU otherwise
      return;
    case 'tensorflow':
      try {
        await importNodeOnly('@tensorflow/tfjs-node-gpu');
      } catch {
        await attempt('@tensorflow/tfjs-node-gpu (or @tensorflow/tfjs-node)', () => importNodeOnly('@tensorflow/tfjs-node'));
      }
      return;
    default:
      return; // cpu and webgl ship with @tensorflow/tfjs
  }
}

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /**
   * Threads of the wasm backend's XNNPACK pool, 1–8 (default: tfjs' choice, 1 under Node). Fixed at
   * the backend's first initialisation in the process. Under Node, more than 1 starts tfjs' threaded
   * SIMD build (see docs/backends.md); in a browser, tfjs uses threads only on cross-origin-isolated pages.
   */
  threads?: number;
}

/** The backend instance if it is initialised; unlike `tf.findBackend`, never starts its initialisation. */
function initialisedBackend(name: string): unknown {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry[name];
}

/**
 * Whether the backend `name` has been initialised in this process (without starting it, unlike
 * `tf.findBackend`). The wasm backend's thread count can only be chosen before that.
 *
 * @example
 * ```ts
 * await useBackend('wasm', isBackendInitialised('wasm') ? {} : { threads: 2 });
 * ```
 */
export function isBackendInitialised(name: string): boolean {
  return initialisedBackend(name) != null;
}

/** Threads of the initialised wasm backend's XNNPACK pool (1 when it is not initialised or not threaded). */
export function wasmThreadCount(): number {
  const backend = initialisedBackend('wasm') as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | undefined;
  return backend?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}

/** Before the wasm backend's first initialisation: sets its thread count (Node: starts the threaded build). */
async function prepareWasmThreads(threads: number | undefined): Promise<void> {
  if (threads === undefined) return;
  if (initialisedBackend('wasm') != null) {
    const actual = wasmThreadCount();
    if (actual !== threads) {
      throw new BackendError(
        `useBackend: options.threads is ${threads} but the wasm backend already runs with ${actual} thread(s); ` +
          'the thread count is fixed at its first initialisation in a process, so pass threads to the first useBackend call',
        '@tensorflow/tfjs-backend-wasm',
      );
    }
    return;
  }
  const wasmPackage = (await import('@tensorflow/tfjs-backend-wasm')) as { setThreadsCount(n: number): void };
  if (isNode() && threads > 1) {
    const node = (await importNodeOnly('@mmc/core/node')) as { initNodeWasmThreads(n: number, p: typeof wasmPackage, t: typeof tf): Promise<void> };
    await node.initNodeWasmThreads(threads, wasmPackage, tf);
  } else {
    wasmPackage.setThreadsCount(threads);
  }
}

async function trySet(name: Exclude<BackendName, 'auto'>, options: UseBackendOptions): Promise<boolean> {
  try {
    await loadBackendPackage(name);
    if (name === 'wasm') await prepareWasmThreads(options.threads);
  } catch {
    return false;
  }
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Selects the TensorFlow.js backend, importing its package lazily, and resolves to the name in use.
 *
 * `'auto'`: in Node, `tensorflow` (tfjs-node-gpu, then tfjs-node) if installed, else `wasm`, else
 * `cpu`; in a browser, `webgpu`, `webgl`, `wasm`, `cpu`. A named backend whose package is missing
 * or that fails to initialise raises a {@link BackendError} naming the npm package.
 *
 * @param options `{ threads }`: the wasm backend's thread count (see {@link UseBackendOptions})
 * @example
 * ```ts
 * const name = await useBackend('auto'); // e.g. 'wasm'
 * await useBackend('wasm', { threads: 2 }); // Node: XNNPACK on two threads, ~2× faster matMul
 * ```
 */
export async function useBackend(name: BackendName = 'auto', options: UseBackendOptions = {}): Promise<string> {
  if (!KNOWN.includes(name)) {
    throw new ValueError(`useBackend: name must be one of ${KNOWN.map((k) => `'${k}'`).join(', ')}, got '${String(name)}'`);
  }
  const { threads } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 8)) {
    throw new ValueError(`useBackend: options.threads must be an integer in 1..8 (tfjs' wasm pool has 8 workers), got ${String(threads)}`);
  }
  if (name === 'auto') {
    const order: Exclude<BackendName, 'auto'>[] = isNode()
      ? ['tensorflow', 'wasm', 'cpu']
      : ['webgpu', 'webgl', 'wasm', 'cpu'];
    for (const candidate of order) {
      if (await trySet(candidate, options)) return candidate;
    }
    throw new BackendError(`useBackend: no backend could be started (tried ${order.join(', ')})`);
  }
  await loadBackendPackage(name);
  if (name === 'wasm') await prepareWasmThreads(threads);
  let ok = false;
  let reason = '';
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    reason = `: ${(e as Error).message}`;
  }
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(`useBackend: backend '${name}' is registered but failed to initialise${reason}`);
  }
  return name;
}
