import * as tf from '@tensorflow/tfjs';
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

/** Loads the package that registers `name`; throws BackendError naming it when it is missing. */
async function loadBackendPackage(name: Exclude<BackendName, 'auto'>): Promise<void> {
  if (tf.findBackendFactory(name) != null) return;
  const attempt = async (pkg: string, load: () => Promise<unknown>) => {
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
      if (isNode() && (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu == null) {
        await attempt('webgpu', async () => {
          const dawn = (await importNodeOnly('webgpu')) as { create: (o: string[]) => unknown; globals: object };
          Object.assign(globalThis, dawn.globals);
          Object.defineProperty(globalThis, 'navigator', {
            value: { ...((globalThis as { navigator?: object }).navigator ?? {}), gpu: dawn.create([]) },
            configurable: true,
            writable: true,
          });
        });
      }
      return attempt('@tensorflow/tfjs-backend-webgpu', () => import('@tensorflow/tfjs-backend-webgpu'));
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

async function trySet(name: Exclude<BackendName, 'auto'>): Promise<boolean> {
  try {
    await loadBackendPackage(name);
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
 * @example
 * ```ts
 * const name = await useBackend('auto'); // e.g. 'wasm'
 * ```
 */
export async function useBackend(name: BackendName = 'auto'): Promise<string> {
  if (!KNOWN.includes(name)) {
    throw new ValueError(`useBackend: name must be one of ${KNOWN.map((k) => `'${k}'`).join(', ')}, got '${String(name)}'`);
  }
  if (name === 'auto') {
    const order: Exclude<BackendName, 'auto'>[] = isNode()
      ? ['tensorflow', 'wasm', 'cpu']
      : ['webgpu', 'webgl', 'wasm', 'cpu'];
    for (const candidate of order) {
      if (await trySet(candidate)) return candidate;
    }
    throw new BackendError(`useBackend: no backend could be started (tried ${order.join(', ')})`);
  }
  await loadBackendPackage(name);
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
