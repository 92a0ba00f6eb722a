import * as tf from '@tensorflow/tfjs';

/**
 * `dy` of a reduction of `x` over `axes`, reshaped to the kept-dims shape and broadcast back to
 * `x.shape` by an addition to `zerosLike(x)` (a backend kernel) — instead of tfjs' multiplication
 * by `tf.ones(x.shape)`, which fills the ones in JavaScript and uploads them (≈ 14 ns per element
 * on wasm: ≈ 0.2 s of a ViT-Tiny MMC step, for its BatchNorm and loss reductions).
 */
function spread(dy: tf.Tensor, x: tf.Tensor, axes: number[], scale: number): tf.Tensor {
  const kept = x.shape.slice();
  for (const a of axes) kept[a] = 1;
  const d = tf.reshape(dy, kept);
  return tf.add(tf.zerosLike(x), scale === 1 ? d : tf.div(d, scale));
}

/** Same values as tfjs' `Sum` / `Mean` gradients (dy, or dy / n, at every reduced position). */
function reduceGradConfig(kernelName: 'Sum' | 'Mean', original: tf.GradConfig): tf.GradConfig {
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (x.dtype !== 'float32' || Array.isArray(dy)) return original.gradFunc(dy, saved, attrs);
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const n = kernelName === 'Mean' ? axes.reduce((p, a) => p * x.shape[a], 1) : 1;
      return { x: () => spread(dy, x, axes, n) };
    },
  };
}

let registered = false;

/**
 * Replaces tfjs' gradients of `Sum` and `Mean` (float32 inputs) by ones that broadcast `dy` with
 * a backend addition instead of multiplying by a `tf.ones(x.shape)` built on the host. Same
 * values (dy, or dy / n, at every reduced position). Global (tfjs has one gradient registry),
 * idempotent, called by `createViT`, `mlpHead` and `pixelDecoder` with
 * `registerFastMatMulGradient`.
 *
 * @returns true the first time it registers, false afterwards
 * @example
 * ```ts
 * registerFastReduceGradient();
 * const g = tf.grad((x: tf.Tensor) => tf.mean(x, 0).sum())(x); // no host-side ones
 * ```
 */
export function registerFastReduceGradient(): boolean {
  if (registered) return false;
  for (const name of ['Sum', 'Mean'] as const) tf.registerGradient(reduceGradConfig(name, tf.getGradient(name) as tf.GradConfig));
  registered = true;
  return true;
}
