import * as tf from '@tensorflow/tfjs';
import { linear } from './linear.js';

/** Weights of one multi-head self-attention layer, our layout (`[in, out]`). */
export interface AttentionWeights {
  qkvWeight: tf.Tensor; // [D, 3D], output features ordered (q|k|v, head, head_dim) as timm
  qkvBias?: tf.Tensor; // [3D]
  projWeight: tf.Tensor; // [D, D]
  projBias: tf.Tensor; // [D]
}

/**
 * timm `Attention.forward` (non-fused path): qkv = x·W_qkv + b, split into q, k, v of `heads`
 * heads of size hd = D / heads; attn = softmax(q·hd^−½ · kᵀ) over keys; out = (attn · v) with
 * the heads concatenated back (head-major) and projected, x·W_proj + b. kᵀ is formed by an
 * explicit transpose, so every product is a plain batched matMul. Internal (no validation).
 *
 * @param x `[B, T, D]`
 * @returns `[B, T, D]`
 */
export function selfAttention(x: tf.Tensor, w: AttentionWeights, heads: number): tf.Tensor {
  return tf.tidy(() => {
    const [B, T, D] = x.shape;
    const hd = D / heads;
    const qkv = linear(x, w.qkvWeight, w.qkvBias); // [B, T, 3D]
    const [q, k, v] = tf.split(qkv, 3, 2).map((t) => tf.reshape(t, [B, T, heads, hd]));
    const qh = tf.reshape(tf.transpose(tf.mul(q, hd ** -0.5), [0, 2, 1, 3]), [B * heads, T, hd]);
    const kT = tf.reshape(tf.transpose(k, [0, 2, 3, 1]), [B * heads, hd, T]);
    const vh = tf.reshape(tf.transpose(v, [0, 2, 1, 3]), [B * heads, T, hd]);
    const attn = tf.softmax(tf.matMul(qh as tf.Tensor3D, kT as tf.Tensor3D), -1); // [B·H, T, T]
    const out = tf.matMul(attn, vh as tf.Tensor3D); // [B·H, T, hd]
    const merged = tf.reshape(tf.transpose(tf.reshape(out, [B, heads, T, hd]), [0, 2, 1, 3]), [B, T, D]);
    return linear(merged, w.projWeight, w.projBias);
  });
}
