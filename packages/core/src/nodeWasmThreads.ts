/**
 * Multi-threaded tfjs wasm backend under Node.js.
 *
 * tfjs-backend-wasm 4.x ships a threaded SIMD build (XNNPACK on a pthreadpool of Web Workers) but
 * never uses it in Node, for three reasons, each handled here for the duration of the backend's
 * initialisation only (everything is restored afterwards):
 *
 * 1. its `WASM_HAS_MULTITHREAD_SUPPORT` flag answers false under Node: set to true;
 * 2. it starts the pthread workers from a `blob:` URL, which Node's `worker_threads` refuse, and
 *    sends them the main script as a `Blob`: the worker source (shipped in the package as
 *    `wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`) is written once to a temporary `.cjs`
 *    file, and the main script is passed as the path of `wasm-out/tfjs-backend-wasm-threaded-simd.js`;
 * 3. its C++ caps the pool at `emscripten_num_logical_cores() / 2` (it assumes two hyper-threads
 *    per core; Node answers `os.cpus().length`, so a 2-vCPU machine gets 1 thread): `os.cpus` is
 *    made to report `2 · threads` entries while the module starts.
 *
 * 4. emscripten keeps a Node process alive while a pthread runs, and XNNPACK's pool threads run
 *    until the process ends: the pool's workers are unref'd (and their `ref` disabled), so a
 *    script exits when its own work is done, as with the single-threaded backend.
 *
 * Results do not depend on the thread count: XNNPACK splits the output of a GEMM into tiles, each
 * computed by one thread with the same summation order (tested bit for bit).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BackendError } from './errors.js';

/** What `@tensorflow/tfjs-backend-wasm` exports that this needs. */
interface WasmPackage {
  setThreadsCount(n: number): void;
}

/**
 * The parts of `@tensorflow/tfjs` this needs, passed in by `useBackend` (so that this entry point,
 * `@mmc/core/node`, does not import tfjs itself and always acts on the caller's tfjs instance).
 */
interface Tfjs {
  env(): { set(flag: string, value: boolean): void };
  setBackend(name: string): Promise<boolean>;
  findBackend(name: string): unknown;
}

interface LoadMessage {
  cmd?: string;
  urlOrBlob?: unknown;
}

/**
 * Initialises tfjs' wasm backend with `threads` threads under Node (call after importing
 * `@tensorflow/tfjs-backend-wasm`, before its first initialisation). Used by
 * `useBackend('wasm', { threads })`; not meant to be called directly.
 *
 */
export async function initNodeWasmThreads(threads: number, wasmPackage: WasmPackage, tf: Tfjs): Promise<void> {
  const require = createRequire(import.meta.url);
  let wasmOut: string;
  try {
    wasmOut = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  } catch (e) {
    throw new BackendError(`useBackend: wasm threads need @tensorflow/tfjs-backend-wasm: ${(e as Error).message}`, '@tensorflow/tfjs-backend-wasm');
  }
  let workerSource: string;
  try {
    // The package ships the worker as `module.exports.wasmWorkerContents = \`...\``; tfjs escapes
    // its newlines the same way before making the Blob.
    workerSource = (require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, '\\n');
  } catch (e) {
    throw new BackendError(
      `useBackend: this @tensorflow/tfjs-backend-wasm has no threaded worker source (wasm-out/tfjs-backend-wasm-threaded-simd.worker.js): ${(e as Error).message}`,
      '@tensorflow/tfjs-backend-wasm',
    );
  }
  const workerPath = join(mkdtempSync(join(os.tmpdir(), 'mmc-wasm-threads-')), 'worker.cjs');
  writeFileSync(workerPath, workerSource);
  const mainScript = join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');

  const createObjectURL = URL.createObjectURL;
  const postMessage = Worker.prototype.postMessage;
  const osModule = require('node:os') as typeof os; // the object tfjs' CommonJS bundle calls cpus() on
  const realCpus = osModule.cpus;
  URL.createObjectURL = ((blob: Blob) => (blob.type === 'application/javascript' ? workerPath : createObjectURL(blob))) as typeof URL.createObjectURL;
  Worker.prototype.postMessage = function (this: Worker, message: LoadMessage, transfer?: readonly unknown[]) {
    const m = message?.cmd === 'load' && message.urlOrBlob instanceof Blob ? { ...message, urlOrBlob: mainScript } : message;
    return postMessage.call(this, m, transfer as never);
  } as typeof Worker.prototype.postMessage;
  osModule.cpus = () => Array.from({ length: 2 * threads }, () => realCpus()[0]);
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasmPackage.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new BackendError('useBackend: the threaded wasm backend failed to initialise', '@tensorflow/tfjs-backend-wasm');
    unrefPoolWorkers(tf);
  } finally {
    URL.createObjectURL = createObjectURL;
    Worker.prototype.postMessage = postMessage;
    osModule.cpus = realCpus;
  }
}

interface PoolWorker {
  ref(): unknown;
  unref(): unknown;
}

/** The pthread workers of the wasm module never hold the Node event loop open. */
function unrefPoolWorkers(tf: Tfjs): void {
  const backend = tf.findBackend('wasm') as { wasm?: { PThread?: { unusedWorkers: PoolWorker[]; runningWorkers: PoolWorker[] } } } | null;
  const pool = backend?.wasm?.PThread;
  if (pool == null) return;
  for (const worker of [...pool.unusedWorkers, ...pool.runningWorkers]) {
    worker.ref = () => worker; // emscripten refs a worker each time it starts a pthread on it
    worker.unref();
  }
}
