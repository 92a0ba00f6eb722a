import * as tf from '@tensorflow/tfjs';
import { transposedMatMul } from '@mmc/core';
import { geluBackward, geluForward } from './gelu.js';

/** Weights of one pre-norm transformer block, @mmc layout (Linear weights `[in, out]`). */
export interface BlockWeights {
  norm1Weight: tf.Tensor;
  norm1Bias: tf.Tensor;
  /** `[D, 3D]`, output features ordered (q|k|v, head, head_dim) as timm. */
  qkvWeight: tf.Tensor;
  qkvBias?: tf.Tensor;
  projWeight: tf.Tensor;
  projBias: tf.Tensor;
  norm2Weight: tf.Tensor;
  norm2Bias: tf.Tensor;
  fc1Weight: tf.Tensor;
  fc1Bias: tf.Tensor;
  fc2Weight: tf.Tensor;
  fc2Bias: tf.Tensor;
}

/** Rows · W (+ b) with a plain matMul; the bias is fused into the kernel where the backend can. */
function dense(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor): tf.Tensor2D {
  return (b ? tf.fused.matMul({ a: x, b: w, bias: b }) : tf.matMul(x, w)) as tf.Tensor2D;
}

/** xᵀ·y (explicit transpose where the backend's transposed matMul is slow: `transposedMatMul`). */
const tMatMul = (x: tf.Tensor, y: tf.Tensor) => transposedMatMul<tf.Tensor2D>(x, y, true, false);

/** x·yᵀ (likewise). */
const matMulT = (x: tf.Tensor, y: tf.Tensor) => transposedMatMul<tf.Tensor2D>(x, y, false, true);

/** LayerNorm forward on rows: the normalised rows x̂, 1/σ per row and the output x̂·w + b. */
function layerNormForward(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, eps: number) {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
  const xhat = tf.mul(centered, rstd) as tf.Tensor2D;
  return { xhat, rstd, y: tf.add(tf.mul(xhat, w), b) as tf.Tensor2D };
}

/** LayerNorm backward: dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w; dw = Σ dy·x̂, db = Σ dy. */
function layerNormBackward(dy: tf.Tensor2D, xhat: tf.Tensor2D, rstd: tf.Tensor, w: tf.Tensor) {
  const g = tf.mul(dy, w);
  const dx = tf.mul(tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))), rstd);
  return { dx: dx as tf.Tensor2D, dw: tf.sum(tf.mul(dy, xhat), 0), db: tf.sum(dy, 0) };
}

/** [M, D] rows of B·T tokens → per-head `[B·H, T, hd]`. */
function toHeads(x: tf.Tensor, B: number, T: number, H: number, hd: number): tf.Tensor3D {
  return tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]) as tf.Tensor3D;
}

/** Inverse of {@link toHeads}: `[B·H, T, hd]` → `[M, D]`. */
function fromHeads(x: tf.Tensor, B: number, T: number, H: number, hd: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(tf.reshape(x, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D;
}

/**
 * One pre-norm ViT block (timm `Block`: `x + attn(norm1(x))`, then `+ mlp(norm2(x))`, exact GELU)
 * with a hand-written backward pass (`tf.customGrad`):
 *
 *     h = LN1(x);  q, k, v = h·W_qkv + b (split, per head);  P = softmax(q·hd^−½·kᵀ)
 *     x1 = x + (P·v merged)·W_proj + b;  u = LN2(x1)·W_fc1 + b;  y = x1 + gelu(u)·W_fc2 + b
 *
 * Why: under autodiff tfjs keeps every forward intermediate plus a copy of each tensor a gradient
 * saves (wasm's Identity copies) and every backward intermediate until the whole gradient is done,
 * about 20× the activations this block needs; ViT-Tiny at batch 32 then exceeds wasm's 4 GB heap.
 * Here the block saves 12 tensors for its backward pass and frees each backward intermediate as
 * soon as it has been used. Transposed products go through `transposedMatMul` (explicit
 * transposes where the backend runs transposed matMuls several times slower, tfjs' own wasm
 * kernels; transpose flags where it reads them as strides), the q/k/v split multiplies by column blocks of
 * W_qkv (tfjs' split is slow on wasm), and biases are fused into the matMuls.
 *
 * The backward formulas (per row, ⊙ elementwise):
 * LN: dx = σ⁻¹(g − mean(g) − x̂·mean(g⊙x̂)), g = dy⊙w; attention: dP = dO·vᵀ, dv = Pᵀ·dO,
 * dS = P⊙(dP − rowsum(dP⊙P)), dq = dS·k·hd^−½, dk = dSᵀ·q·hd^−½; GELU: du = dg⊙(Φ(u) + u·φ(u)).
 * Internal building block (no validation).
 *
 * @param x `[B, T, D]`
 * @returns `[B, T, D]`
 */
export function transformerBlock(x: tf.Tensor, w: BlockWeights, heads: number, eps: number): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const M = B * T;
  const H = heads;
  const hd = D / H;
  const scale = hd ** -0.5;
  const hasQkvBias = w.qkvBias !== undefined;
  const inputs: tf.Tensor[] = [
    x, w.norm1Weight, w.norm1Bias, w.qkvWeight, w.projWeight, w.projBias,
    w.norm2Weight, w.norm2Bias, w.fc1Weight, w.fc1Bias, w.fc2Weight, w.fc2Bias,
    ...(hasQkvBias ? [w.qkvBias as tf.Tensor] : []),
  ];
  const block = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xIn, n1w, n1b, qkvW, projW, projB, n2w, n2b, fc1W, fc1B, fc2W, fc2B, qkvB] = args.slice(0, -1) as (tf.Tensor | undefined)[] as tf.Tensor[];
    const x2 = tf.reshape(xIn, [M, D]) as tf.Tensor2D;
    const ln1 = layerNormForward(x2, n1w, n1b, eps);
    const column = (t: tf.Tensor, i: number) => tf.slice(t, [0, i * D], [D, D]) as tf.Tensor2D;
    const part = (i: number) => dense(ln1.y, column(qkvW, i), qkvB ? tf.slice(qkvB, [i * D], [D]) : undefined);
    const q = toHeads(tf.mul(part(0), scale), B, T, H, hd); // [B·H, T, hd], scaled
    const k = toHeads(part(1), B, T, H, hd); // [B·H, T, hd]
    const v = toHeads(part(2), B, T, H, hd); // [B·H, T, hd]
    const P = tf.softmax(transposedMatMul(q, k, false, true), -1) as tf.Tensor3D; // [B·H, T, T]
    const o = fromHeads(tf.matMul(P, v), B, T, H, hd); // [M, D]
    const x1 = tf.add(x2, dense(o, projW as tf.Tensor2D, projB)) as tf.Tensor2D;
    const ln2 = layerNormForward(x1, n2w, n2b, eps);
    const u = dense(ln2.y, fc1W as tf.Tensor2D, fc1B);
    const [cdf, g] = geluForward(u); // Φ(u), gelu(u)
    const y = tf.add(x1, dense(g as tf.Tensor2D, fc2W as tf.Tensor2D, fc2B));
    save([ln1.xhat, ln1.rstd, ln1.y, q, k, v, P, o, ln2.xhat, ln2.rstd, ln2.y, u, cdf, g]);
    return {
      value: tf.reshape(y, [B, T, D]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xhat1, rstd1, h1, qS, kS, vS, PS, oS, xhat2, rstd2, h2, uS, cdfS, gS] = saved;
        const step = <R extends tf.TensorContainer>(f: () => R): R => tf.tidy(f);
        const dy2 = tf.reshape(dy, [M, D]) as tf.Tensor2D;
        // MLP: y = x1 + gelu(u)·W2 + b2, u = LN2(x1)·W1 + b1
        const dW2 = step(() => tMatMul(gS, dy2));
        const db2 = step(() => tf.sum(dy2, 0));
        const du = step(() => geluBackward(matMulT(dy2, fc2W), uS, cdfS));
        const dW1 = step(() => tMatMul(h2, du));
        const db1 = step(() => tf.sum(du, 0));
        const ln2b = step(() => layerNormBackward(matMulT(du, fc1W) as tf.Tensor2D, xhat2 as tf.Tensor2D, rstd2, n2w));
        du.dispose();
        const dx1 = tf.add(dy2, ln2b.dx) as tf.Tensor2D;
        ln2b.dx.dispose();
        // Attention: x1 = x + O·Wp + bp
        const dWp = step(() => tMatMul(oS, dx1));
        const dbp = step(() => tf.sum(dx1, 0));
        const [dq, dk, dv] = step(() => {
          const dO = toHeads(matMulT(dx1, projW), B, T, H, hd);
          const dP = transposedMatMul(dO, vS, false, true);
          const dS = tf.mul(PS, tf.sub(dP, tf.sum(tf.mul(dP, PS), -1, true))); // [B·H, T, T]
          return [
            fromHeads(tf.mul(tf.matMul(dS, kS), scale), B, T, H, hd),
            fromHeads(transposedMatMul(dS, qS, true, false), B, T, H, hd), // q already scaled
            fromHeads(transposedMatMul(PS, dO, true, false), B, T, H, hd),
          ];
        });
        const parts = [dq, dk, dv];
        const dWqkv = step(() => tf.concat(parts.map((d) => tMatMul(h1, d)), 1));
        const dbqkv = hasQkvBias ? step(() => tf.concat(parts.map((d) => tf.sum(d, 0)), 0)) : undefined;
        const ln1b = step(() => {
          const dh = tf.addN(parts.map((d, i) => matMulT(d, tf.slice(qkvW, [0, i * D], [D, D]))));
          return layerNormBackward(dh as tf.Tensor2D, xhat1 as tf.Tensor2D, rstd1, n1w);
        });
        tf.dispose(parts);
        const dx = step(() => tf.reshape(tf.add(dx1, ln1b.dx), [B, T, D]));
        tf.dispose([dx1, ln1b.dx]);
        return [
          dx, ln1b.dw, ln1b.db, dWqkv, dWp, dbp, ln2b.dw, ln2b.db, dW1, db1, dW2, db2,
          ...(dbqkv ? [dbqkv] : []),
        ];
      },
    };
  });
  return block(...inputs) as tf.Tensor3D;
}
