import * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type KernelArgs = Parameters<KernelFunc>[0];
type TensorInfo = tf.TensorInfo;

/**
 * Wraps an `AddN` kernel so that it never receives more than `maxInputs(backend)` inputs: larger
 * sums are added in chunks, then the partial sums, and the partial results are freed.
 *
 * Why: tfjs-backend-webgpu 4.x binds every input of AddN as a storage buffer in one shader, and
 * WebGPU devices allow 8 storage buffers per stage by default (tfjs does not ask for more); with
 * 8 or more inputs the pipeline is invalid and `tf.addN` returns garbage without an error (seen
 * as a gradient norm of 1.4e-45 in `clipGradNorm`). `useBackend('webgpu')` installs this wrapper.
 *
 * @param original the backend's AddN kernel function
 * @param maxInputs the most inputs one call may take (≥ 2), given the backend instance
 * @example
 * ```ts
 * const k = tf.getKernel('AddN', 'webgpu')!;
 * tf.unregisterKernel('AddN', 'webgpu');
 * tf.registerKernel({ ...k, kernelFunc: chunkedAddN(k.kernelFunc, () => 7) });
 * ```
 */
export function chunkedAddN(original: KernelFunc, maxInputs: (backend: unknown) => number): KernelFunc {
  return (args: KernelArgs) => {
    const max = Math.max(2, Math.floor(maxInputs(args.backend)));
    let xs = args.inputs as unknown as TensorInfo[];
    if (xs.length <= max) return original(args);
    const partials: TensorInfo[] = [];
    while (xs.length > max) {
      const next: TensorInfo[] = [];
      for (let i = 0; i < xs.length; i += max) {
        const chunk = xs.slice(i, i + max);
        if (chunk.length === 1) {
          next.push(chunk[0]);
          continue;
        }
        const sum = original({ ...args, inputs: chunk as unknown as KernelArgs['inputs'] }) as TensorInfo;
        partials.push(sum);
        next.push(sum);
      }
      xs = next;
    }
    const out = original({ ...args, inputs: xs as unknown as KernelArgs['inputs'] });
    const backend = args.backend as { disposeData(id: object): void };
    for (const p of partials) backend.disposeData(p.dataId);
    return out;
  };
}

const WRAPPED = new WeakSet<KernelFunc>();

/**
 * Replaces the registered `AddN` kernel of `backendName` by {@link chunkedAddN} with the limit
 * `device.limits.maxStorageBuffersPerShaderStage − 1` (one buffer is the output; 7 when the
 * backend has no device). Idempotent; does nothing when the kernel is not registered.
 */
export function installChunkedAddN(backendName: string): void {
  const kernel = tf.getKernel('AddN', backendName);
  if (!kernel || WRAPPED.has(kernel.kernelFunc)) return;
  const limit = (backend: unknown) =>
    ((backend as { device?: { limits?: { maxStorageBuffersPerShaderStage?: number } } }).device?.limits?.maxStorageBuffersPerShaderStage ?? 8) - 1;
  const kernelFunc = chunkedAddN(kernel.kernelFunc, limit);
  WRAPPED.add(kernelFunc);
  tf.unregisterKernel('AddN', backendName);
  tf.registerKernel({ ...kernel, kernelFunc });
}
