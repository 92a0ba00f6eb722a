import * as tf from '@tensorflow/tfjs';
import { transposedMatMul } from '@mmc/core';

/**
 * Sums `g` down to `shape` (the undoing of batch broadcasting): leading extra axes are summed
 * away, axes where `shape` has 1 and `g` does not are summed with keepDims.
 */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  let r = g;
  const extra = g.rank - shape.length;
  if (extra > 0) r = tf.sum(r, Array.from({ length: extra }, (_, i) => i));
  const axes: number[] = [];
  for (let i = 0; i < shape.length; i++) if (shape[i] === 1 && r.shape[i] !== 1) axes.push(i);
  if (axes.length > 0) r = tf.sum(r, axes, true);
  return r.shape.length === shape.length && r.shape.every((d, i) => d === shape[i]) ? r : tf.reshape(r, shape);
}

/**
 * Gradient of C = op(A)·op(B) (op = optional transpose of the last two axes) through
 * `transposedMatMul`: plain matMuls after explicit transposes where the backend's transposed
 * matMul is slow (tfjs' own wasm kernels), transpose flags where it reads them as strides:
 *
 * | transposeA, transposeB | dA | dB |
 * | --- | --- | --- |
 * | false, false | dy·Bᵀ | Aᵀ·dy |
 * | false, true | dy·B | dyᵀ·A |
 * | true, false | B·dyᵀ | A·dy |
 * | true, true | Bᵀ·dyᵀ | dyᵀ·Aᵀ |
 *
 * Results are summed over broadcast batch axes down to each input's shape (tfjs' own
 * BatchMatMul gradient does not, and fails on broadcast batch dimensions).
 */
const fastBatchMatMulGradConfig: tf.GradConfig = {
  kernelName: 'BatchMatMul',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as tf.Tensor;
    const [a, b] = saved;
    const transposeA = Boolean(attrs.transposeA);
    const transposeB = Boolean(attrs.transposeB);
    const mm = transposedMatMul;
    let da: () => tf.Tensor;
    let db: () => tf.Tensor;
    if (!transposeA && !transposeB) {
      da = () => mm(g, b, false, true);
      db = () => mm(a, g, true, false);
    } else if (!transposeA && transposeB) {
      da = () => mm(g, b);
      db = () => mm(g, a, true, false);
    } else if (transposeA && !transposeB) {
      da = () => mm(b, g, false, true);
      db = () => mm(a, g);
    } else {
      da = () => mm(b, g, true, true);
      db = () => mm(g, a, true, true);
    }
    return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) };
  },
};

let registered = false;

/**
 * Replaces tfjs' gradient of the `BatchMatMul` kernel (every `tf.matMul`) by one whose transposed
 * products go through `transposedMatMul`. tfjs' own gradient calls `matMul(dy, b, false, true)`
 * and `matMul(a, dy, true, false)`, which tfjs' wasm kernels run 7–10× slower than a plain
 * matMul (explicit transposes are linear-time there); this one
 * computes the same values (see the table on `fastBatchMatMulGradConfig`) and also reduces
 * over broadcast batch axes. Global (tfjs has one gradient registry), idempotent, and called
 * by `createViT`, `mlpHead` and `pixelDecoder`. tfjs logs an "Overriding the gradient" warning
 * only when its DEBUG flag is on; that warning is expected.
 *
 * @returns true the first time it registers, false afterwards
 * @example
 * ```ts
 * registerFastMatMulGradient();
 * const g = tf.grad((w: tf.Tensor) => tf.matMul(x, w).sum())(w); // no slow transposed matMul on wasm
 * ```
 */
export function registerFastMatMulGradient(): boolean {
  if (registered) return false;
  tf.registerGradient(fastBatchMatMulGradConfig);
  registered = true;
  return true;
}
