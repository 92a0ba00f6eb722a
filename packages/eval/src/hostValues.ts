import * as tf from '@tensorflow/tfjs';

/**
 * A float32 tensor's values on the cpu or wasm backend, without the copy `dataSync` makes on wasm
 * (a fresh 67 MB buffer per k-NN chunk costs ~230 ms of page faults): wasm's heap view, valid until
 * the backend allocates again: read it before the next tfjs call. Other backends: `dataSync`.
 * Internal (not exported from the package index).
 */
export function hostValues(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as { typedArrayFromHeap?: (t: tf.Tensor) => Float32Array };
  return tf.getBackend() === 'wasm' && typeof backend.typedArrayFromHeap === 'function' ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}
