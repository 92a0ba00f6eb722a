import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import { useBackend } from '@mmc/core';
import { unregisterWasmKernels } from '@mmc/kernels';

/**
 * For a *.once test file: selects the wasm backend before its tests and, after them, removes the
 * kernels and restores the previous backend (the kernels are registered only inside the file).
 */
export function useWasmForThisFile(): void {
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await useBackend('wasm');
  });
  afterAll(async () => {
    unregisterWasmKernels();
    if (previous) await tf.setBackend(previous);
  });
}
