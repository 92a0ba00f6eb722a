import * as tf from '@tensorflow/tfjs';
import { assertInteger, describe, formatShape, l2Normalize, ShapeError, ValueError } from '@mmc/core';
import { registerFastMatMulGradient } from './fastMatMulGradient.js';
import { registerFastReduceGradient } from './fastReduceGradient.js';
import { gelu } from './gelu.js';
import { truncNormal, variableRng } from './init.js';
import { linear } from './linear.js';
import type { CloneOptions, Module } from './module.js';
import { assertAlive, countParams, disposeVariables, makeVariables, trainableOf, type InitialValues } from './variableStore.js';

/** Options of {@link mlpHead}. */
export interface MlpHeadOptions {
  /** Input feature size (the backbone's `dim`). */
  inDim: number;
  /** Hidden width (DINO 2048). */
  hiddenDim?: number;
  /** Output size (DINO's bottleneck 256). */
  outDim?: number;
  /** Number of Linear layers, ≥ 1 (DINO 3). */
  layers?: number;
  /** L2-normalise the output along the last axis (DINO normalises the bottleneck). */
  normLast?: boolean;
  /**
   * MoCo v3's projector layout: BatchNorm after every Linear (affine on hidden layers, none on the
   * output), normalising with the statistics of the current batch — all leading axes, so `[B, N, D]`
   * tokens are normalised over B·N (default false: DINO's head). Heads only run in training, so no
   * running averages are kept.
   */
  batchNorm?: boolean;
  /** Initialisation seed (default 0). Two heads with the same seed and sizes are identical. */
  seed?: number;
}

/** An MLP projection head; see {@link mlpHead}. */
export interface MlpHead extends Module<[x: tf.Tensor], tf.Tensor> {
  readonly options: Required<MlpHeadOptions>;
  readonly numParams: number;
  clone(options?: CloneOptions): MlpHead;
}

/**
 * Names of the Linear layers as indices of a torch `nn.Sequential`: `mlp` for one layer, else
 * `mlp.0`, `mlp.2`, … (GELUs at odd indices); with batchNorm `mlp.0`, `mlp.3`, … (BatchNorm at 3i + 1,
 * GELU at 3i + 2, as MoCo v3's `_build_mlp`).
 */
function layerNames(layers: number, batchNorm: boolean): string[] {
  if (batchNorm) return Array.from({ length: layers }, (_, i) => `mlp.${3 * i}`);
  return layers === 1 ? ['mlp'] : Array.from({ length: layers }, (_, i) => `mlp.${2 * i}`);
}

/** Name of the BatchNorm after Linear `i`: `mlp.{3i + 1}`. */
const bnName = (i: number) => `mlp.${3 * i + 1}`;

/** Training-mode BatchNorm over all leading axes (biased variance, eps 1e-5, as torch). */
function batchNormalize(y: tf.Tensor, weight?: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const axes = y.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(y, axes, true);
  let out = tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, 1e-5)));
  if (weight && bias) out = tf.add(tf.mul(out, weight), bias);
  return out;
}

function resolve(fn: string, o: MlpHeadOptions): Required<MlpHeadOptions> {
  if (o == null || typeof o !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(o)}`);
  const r: Required<MlpHeadOptions> = {
    inDim: o.inDim,
    hiddenDim: o.hiddenDim ?? 2048,
    outDim: o.outDim ?? 256,
    layers: o.layers ?? 3,
    normLast: o.normLast ?? false,
    batchNorm: o.batchNorm ?? false,
    seed: o.seed ?? 0,
  };
  assertInteger(fn, 'inDim', r.inDim, 1);
  assertInteger(fn, 'hiddenDim', r.hiddenDim, 1);
  assertInteger(fn, 'outDim', r.outDim, 1);
  assertInteger(fn, 'layers', r.layers, 1);
  if (typeof r.normLast !== 'boolean') throw new ValueError(`${fn}: normLast must be a boolean, got ${describe(r.normLast)}`);
  if (typeof r.batchNorm !== 'boolean') throw new ValueError(`${fn}: batchNorm must be a boolean, got ${describe(r.batchNorm)}`);
  if (!Number.isSafeInteger(r.seed)) throw new ValueError(`${fn}: seed must be a safe integer, got ${describe(r.seed)}`);
  return r;
}

/**
 * The MLP projection head of DINO / iBOT (`DINOHead.mlp`, facebookresearch/dino
 * `vision_transformer.py`), without DINO's weight-normalised last layer:
 *
 *     Linear(inDim, hidden) → GELU → [Linear(hidden, hidden) → GELU] × (layers − 2) → Linear(hidden, outDim)
 *     (layers = 1: a single Linear(inDim, outDim));  normLast: y / max(‖y‖₂, 1e-12)
 *
 * With `batchNorm: true` it is MoCo v3's projector (facebookresearch/moco-v3 `_build_mlp`):
 * Linear → BatchNorm → GELU per hidden layer and a final Linear → BatchNorm without affine,
 * normalised with the current batch's statistics (names `mlp.0`, `mlp.1` (BN), `mlp.3`, …).
 *
 * Variable names follow DINO's `nn.Sequential`: `mlp.0.weight`, `mlp.0.bias`, `mlp.2.…`,
 * `mlp.4.…` (a single layer is `mlp.weight`, `mlp.bias`). Weights are stored `[in, out]`
 * (see `toTimmLayout`); init trunc_normal(std 0.02), biases 0, seeded on the host. Works on
 * any leading shape: `[B, inDim]` → `[B, outDim]`, `[B, N, inDim]` → `[B, N, outDim]`.
 *
 * @example
 * ```ts
 * const head = mlpHead({ inDim: 192, hiddenDim: 512, outDim: 128, normLast: true });
 * const z = head.apply(cls); // [B, 128], unit rows
 * ```
 */
export function mlpHead(options: MlpHeadOptions): MlpHead {
  const o = resolve('mlpHead', options);
  registerFastMatMulGradient();
  registerFastReduceGradient();
  const names = layerNames(o.layers, o.batchNorm);
  const initial: InitialValues = {};
  names.forEach((name, i) => {
    const fanIn = i === 0 ? o.inDim : o.hiddenDim;
    const fanOut = i === names.length - 1 ? o.outDim : o.hiddenDim;
    initial[`${name}.weight`] = { shape: [fanIn, fanOut], data: truncNormal(variableRng(o.seed, `${name}.weight`), fanIn * fanOut, 0.02) };
    initial[`${name}.bias`] = { shape: [fanOut], data: new Float32Array(fanOut) };
    if (o.batchNorm && i < names.length - 1) {
      initial[`${bnName(i)}.weight`] = { shape: [fanOut], data: new Float32Array(fanOut).fill(1) };
      initial[`${bnName(i)}.bias`] = { shape: [fanOut], data: new Float32Array(fanOut) };
    }
  });
  return buildHead(o, names, initial, true);
}

function buildHead(o: Required<MlpHeadOptions>, names: string[], initial: InitialValues, trainable: boolean): MlpHead {
  const variables = makeVariables('mlp_head', initial, trainable);
  const head: MlpHead = {
    options: { ...o },
    numParams: countParams(variables),
    variables,
    trainableVariables: () => trainableOf(variables),
    apply(x: tf.Tensor): tf.Tensor {
      const fn = 'MlpHead.apply';
      assertAlive(fn, variables);
      if (x == null || typeof (x as tf.Tensor).rank !== 'number' || x.rank < 1 || x.shape[x.rank - 1] !== o.inDim) {
        throw new ShapeError(
          `${fn}: x must be a tf.Tensor of shape [..., ${o.inDim}] (inDim), got ${x != null && typeof x.rank === 'number' ? formatShape(x.shape) : describe(x)}`,
        );
      }
      return tf.tidy(() => {
        let y = x;
        names.forEach((name, i) => {
          y = linear(y, variables[`${name}.weight`], variables[`${name}.bias`]);
          const last = i === names.length - 1;
          if (o.batchNorm) y = last ? batchNormalize(y) : batchNormalize(y, variables[`${bnName(i)}.weight`], variables[`${bnName(i)}.bias`]);
          if (!last) y = gelu(y);
        });
        return o.normLast ? l2Normalize(y, -1, 1e-12) : y;
      });
    },
    clone(options: CloneOptions = {}): MlpHead {
      assertAlive('MlpHead.clone', variables);
      return buildHead(o, names, variables, options.trainable ?? true);
    },
    dispose(): void {
      disposeVariables(variables);
    },
  };
  return head;
}
