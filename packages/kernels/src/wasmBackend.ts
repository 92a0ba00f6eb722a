import * as tf from '@tensorflow/tfjs';
import { BackendError } from '@mmc/core';

/** What a tensor handed to a kernel carries (tfjs' TensorInfo). */
export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

/**
 * The parts of tfjs-backend-wasm 4.x's `BackendWasm` these kernels use: the emscripten module
 * (heap, `cwrap`, tensor registration by id) and the dataId → heap offset map.
 */
export interface WasmBackend {
  wasm: {
    HEAPU8: Uint8Array;
    cwrap: (name: string, ret: null, args: string[]) => (...a: unknown[]) => void;
    tfjs: { registerTensor: (id: number, size: number, offset: number) => void; disposeData: (id: number) => void };
  };
  dataIdMap: { get: (dataId: object) => { id: number; memoryOffset: number } | undefined };
  dataIdNextNumber: number;
  makeOutput: (shape: number[], dtype: tf.DataType) => TensorInfo;
  incRef: (dataId: object) => void;
  disposeData: (dataId: object) => boolean;
  typedArrayFromHeap: (t: TensorInfo) => Float32Array | Int32Array | Uint8Array;
}

/** Checks that `backend` has the internals above (tfjs-backend-wasm 4.x); throws BackendError otherwise. */
export function asWasmBackend(fn: string, backend: unknown): WasmBackend {
  const b = backend as Partial<WasmBackend> | null;
  const ok =
    b != null &&
    typeof b.wasm?.cwrap === 'function' &&
    typeof b.wasm.tfjs?.registerTensor === 'function' &&
    typeof b.wasm.tfjs.disposeData === 'function' &&
    typeof b.dataIdMap?.get === 'function' &&
    typeof b.dataIdNextNumber === 'number' &&
    typeof b.makeOutput === 'function' &&
    typeof b.typedArrayFromHeap === 'function';
  if (!ok) {
    throw new BackendError(`${fn}: the wasm backend does not have the internals of @tensorflow/tfjs-backend-wasm 4.x these kernels need`, '@tensorflow/tfjs-backend-wasm');
  }
  return b as WasmBackend;
}

/** Heap byte offset of a tensor's data. */
export function heapOffset(backend: WasmBackend, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (d == null) throw new BackendError('@mmc/kernels: a tensor is not on the wasm backend', '@tensorflow/tfjs-backend-wasm');
  return d.memoryOffset;
}

/**
 * Registers `size` floats at heap byte `offset` under a fresh tensor id (a view: no copy, no
 * allocation), for the C++ kernels that take tensor ids. Release it with `backend.wasm.tfjs.disposeData(id)`,
 * which forgets the id (and XNNPACK operators cached for it) but frees no memory.
 */
export function registerView(backend: WasmBackend, offset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, offset);
  return id;
}
