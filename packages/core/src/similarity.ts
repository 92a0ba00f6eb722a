import * as tf from '@tensorflow/tfjs';
import { assertFinite, assertRank, formatShape } from './assert.js';
import { ShapeError, ValueError } from './errors.js';

/**
 * Divides `x` by its L2 norm along `axis`: `x / max(‖x‖₂, eps)` (PyTorch `F.normalize`).
 * Differentiable; a zero vector stays zero.
 *
 * @example
 * ```ts
 * l2Normalize(tf.tensor2d([[3, 4]])); // [[0.6, 0.8]]
 * ```
 */
export function l2Normalize<T extends tf.Tensor>(x: T, axis = -1, eps = 1e-12): T {
  const fn = 'l2Normalize';
  if (x == null || typeof x.rank !== 'number') throw new ShapeError(`${fn}: x must be a tf.Tensor, got ${String(x)}`);
  if (x.rank === 0) throw new ShapeError(`${fn}: x must have rank >= 1, got a scalar`);
  if (!Number.isInteger(axis) || axis < -x.rank || axis >= x.rank) {
    throw new ValueError(`${fn}: axis must be an integer in [${-x.rank}, ${x.rank - 1}] for x of shape ${formatShape(x.shape)}, got ${axis}`);
  }
  assertFinite(fn, 'eps', eps);
  if (eps <= 0) throw new ValueError(`${fn}: eps must be > 0, got ${eps}`);
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.square(x), axis, true));
    return tf.div(x, tf.maximum(norm, eps)) as T;
  });
}

/**
 * Swaps the last two axes explicitly. wasm's matMul with `transposeB` is several times slower
 * than a plain one, so similarity products transpose first.
 */
export function transposeLast2(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = x.rank;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(x, perm);
}

/**
 * Cosine similarity of every row of `a` with every row of `b`.
 *
 * @param a `[..., N, D]`
 * @param b `[..., M, D]` with the same leading (batch) dimensions as `a`
 * @returns `[..., N, M]`, values in [−1, 1]
 * @example
 * ```ts
 * const sim = cosineSimilarity(patches, patches); // [B, N, N]
 * ```
 */
export function cosineSimilarity(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const fn = 'cosineSimilarity';
  for (const [name, t] of [['a', a], ['b', b]] as const) {
    if (t == null || typeof t.rank !== 'number' || t.rank < 2) {
      throw new ShapeError(`${fn}: ${name} must be a tf.Tensor of rank >= 2 [..., rows, D], got ${t == null ? String(t) : `shape ${formatShape(t.shape)}`}`);
    }
  }
  if (a.rank !== b.rank) assertRank(fn, 'b', b, a.rank, `(like a ${formatShape(a.shape)})`);
  const lead = a.shape.slice(0, -2);
  const sameLead = lead.every((d, i) => d === b.shape[i]);
  if (!sameLead || a.shape[a.rank - 1] !== b.shape[b.rank - 1]) {
    throw new ShapeError(
      `${fn}: a ${formatShape(a.shape)} and b ${formatShape(b.shape)} must share leading dimensions and the feature size D`,
    );
  }
  return tf.tidy(() => tf.matMul(l2Normalize(a), transposeLast2(l2Normalize(b))));
}
