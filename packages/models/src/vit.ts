import * as tf from '@tensorflow/tfjs';
import { assertShape, describe, patchify, ShapeError, ValueError } from '@mmc/core';
import { resolveViTConfig, type ResolvedViTConfig, type ViTConfig } from './config.js';
import { registerFastMatMulGradient } from './fastMatMulGradient.js';
import { registerFastReduceGradient } from './fastReduceGradient.js';
import { truncNormal, variableRng, xavierUniform } from './init.js';
import { layerNorm } from './layerNorm.js';
import { linear } from './linear.js';
import { transformerBlock } from './transformerBlock.js';
import type { CloneOptions, Module } from './module.js';
import { assertAlive, countParams, disposeVariables, makeVariables, trainableOf, type InitialValues } from './variableStore.js';

/** Options of `vit.apply`. */
export interface ViTApplyOptions {
  /**
   * `[B, N]` token mask (bool or 0/1 numbers; 1 = masked). Masked patch embeddings are replaced
   * by the learned `mask_token` before the position embedding is added.
   */
  tokenMask?: tf.Tensor;
  /** Accepted for API symmetry; this ViT has no dropout or drop-path, so it changes nothing. */
  training?: boolean;
  /** Also return the output of every block (the residual stream, before the final norm). */
  returnLayers?: boolean;
}

/** Result of `vit.apply`; all tensors belong to the caller (`tf.dispose(out)` frees them all). */
export type ViTOutput = {
  /** `[B, D]` CLS token after the final LayerNorm. */
  cls: tf.Tensor2D;
  /** `[B, N, D]` patch tokens after the final LayerNorm, row-major over the patch grid. */
  patches: tf.Tensor3D;
  /** With `returnLayers`: `depth` tensors `[B, N + 1, D]`, block outputs before the final norm. */
  layers?: tf.Tensor3D[];
};

/** A ViT backbone; see {@link createViT}. */
export interface ViT extends Module<[images: tf.Tensor, options?: ViTApplyOptions], ViTOutput> {
  /** The configuration with defaults filled in. */
  readonly config: ResolvedViTConfig;
  /** N = (imageSize / patchSize)². */
  readonly numPatches: number;
  /** Total number of weights, `mask_token` included. */
  readonly numParams: number;
  /**
   * The token sequence entering block 0: `[B, N + 1, D]` = [CLS; patch embeddings with masked
   * positions replaced by `mask_token`] + `pos_embed`. Tidy; the caller owns the result.
   */
  embed(images: tf.Tensor, tokenMask?: tf.Tensor): tf.Tensor3D;
  clone(options?: CloneOptions): ViT;
}

/**
 * Names and shapes (in @mmc's storage layout) of the variables of a ViT with this config, in
 * creation order. Host-only: allocates no tensor.
 *
 * @example
 * ```ts
 * vitVariableShapes(vitTiny())['blocks.0.attn.qkv.weight']; // [192, 576]
 * ```
 */
export function vitVariableShapes(config: ViTConfig): Record<string, number[]> {
  const c = resolveViTConfig('vitVariableShapes', config);
  const { dim: D, patchSize: p, channels: C } = c;
  const N = (c.imageSize / p) ** 2;
  const hidden = Math.floor(D * c.mlpRatio);
  const shapes: Record<string, number[]> = {
    cls_token: [1, 1, D],
    pos_embed: [1, N + 1, D],
    mask_token: [1, 1, D],
    'patch_embed.proj.weight': [p * p * C, D],
    'patch_embed.proj.bias': [D],
  };
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}.`;
    shapes[`${b}norm1.weight`] = [D];
    shapes[`${b}norm1.bias`] = [D];
    shapes[`${b}attn.qkv.weight`] = [D, 3 * D];
    if (c.qkvBias) shapes[`${b}attn.qkv.bias`] = [3 * D];
    shapes[`${b}attn.proj.weight`] = [D, D];
    shapes[`${b}attn.proj.bias`] = [D];
    shapes[`${b}norm2.weight`] = [D];
    shapes[`${b}norm2.bias`] = [D];
    shapes[`${b}mlp.fc1.weight`] = [D, hidden];
    shapes[`${b}mlp.fc1.bias`] = [hidden];
    shapes[`${b}mlp.fc2.weight`] = [hidden, D];
    shapes[`${b}mlp.fc2.bias`] = [D];
  }
  shapes['norm.weight'] = [D];
  shapes['norm.bias'] = [D];
  return shapes;
}

/** Seeded initial values: timm/DINO trunc_normal(0.02) for Linear weights and the tokens, MAE's xavier_uniform for the patch embedding. */
function initialValues(c: ResolvedViTConfig): InitialValues {
  const shapes = vitVariableShapes(c);
  const out: InitialValues = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name === 'patch_embed.proj.weight') {
      data = xavierUniform(variableRng(c.seed, name), shape[0], shape[1]);
    } else if (name === 'cls_token' || name === 'pos_embed' || name === 'mask_token' || (name.endsWith('.weight') && shape.length === 2)) {
      data = truncNormal(variableRng(c.seed, name), n, 0.02);
    } else if (/norm\d?\.weight$/.test(name)) {
      data = new Float32Array(n).fill(1);
    } else {
      data = new Float32Array(n); // biases
    }
    out[name] = { shape, data };
  }
  return out;
}

/**
 * Creates a Vision Transformer backbone with timm's numerics and variable names
 * (timm `vision_transformer.py` `VisionTransformer` with `class_token=True`, `global_pool='token'`,
 * `num_classes=0`; the ViTs of DINO, iBOT, MAE, SiT and MMC):
 *
 *     x = patchify(images) · W_pe + b_pe                      [B, N, D]   (= Conv2d(p, stride p))
 *     x = x · (1 − m) + mask_token · m                        (tokenMask m, SimMIM / iBOT)
 *     x = [cls_token; x] + pos_embed                          [B, N + 1, D]
 *     per block:  x = x + proj(softmax(q·kᵀ / √hd) · v)(norm1(x))
 *                 x = x + fc2(GELU(fc1(norm2(x))))            (pre-norm, exact erf GELU)
 *     out = norm(x);  cls = out[:, 0],  patches = out[:, 1:]
 *
 * LayerNorm eps 1e-6; hidden = floor(dim · mlpRatio); attention scale head_dim^−½.
 *
 * **Mask token.** Masked positions are substituted after the patch embedding and before the
 * position embedding, as iBOT (`mask_model`, which stores it as `masked_embed` [1, D]) and
 * SimMIM (`x * (1 − w) + mask_token * w`) do, so a masked token still carries its position.
 * SiT/GMML corrupt pixels instead and need no token: leave `tokenMask` out.
 *
 * **Storage layout** (chosen for speed on tfjs, converted by `toTimmLayout`/`fromTimmLayout`):
 * Linear weights are `[in, out]` (x · W, a plain matMul) instead of torch's `[out, in]`; the
 * patch-embedding weight is `[p·p·C, D]` with rows in patchify's (row, col, channel) order
 * instead of the Conv2d's `[D, C, p, p]` (wasm cannot train a conv2d filter). `qkv` output
 * features are ordered (q|k|v, head, head_dim) as timm's.
 *
 * **Initialisation** (host-side, seeded by `config.seed`, default 0, identical on every
 * backend): trunc_normal(std 0.02) for Linear weights, `pos_embed`, `cls_token` (DINO/iBOT;
 * timm ≥ 0.9 uses normal(1e-6) for `cls_token`) and `mask_token` (SimMIM; iBOT starts it at
 * 0); `xavier_uniform` for the patch embedding seen as a `[D, p·p·C]` matrix (MAE); biases 0;
 * LayerNorm 1 / 0.
 *
 * **Speed and memory.** Each block has a hand-written backward pass (`transformerBlock`), which
 * keeps a fraction of the tensors tfjs' autodiff keeps; no matMul with transposeA/transposeB in
 * either pass, and `createViT` also calls {@link registerFastMatMulGradient} so that the
 * autodiff parts (patch embedding, heads) have none either.
 *
 * @param config see {@link ViTConfig}; presets `vitTiny`, `vitSmall`, `vitBase`
 * @returns a {@link ViT}: `apply(images [B, H, W, C], { tokenMask?, returnLayers? })` →
 *   `{ cls [B, D], patches [B, N, D], layers? }`, `embed`, `variables`, `trainableVariables()`,
 *   `numParams`, `clone()`, `dispose()`
 * @throws ValueError naming the config field when the config is invalid
 * @example
 * ```ts
 * const vit = createViT(vitTiny({ imageSize: 32, patchSize: 4, depth: 6 }));
 * const { cls, patches } = vit.apply(tf.randomNormal([2, 32, 32, 3])); // [2, 192], [2, 64, 192]
 * ```
 */
export function createViT(config: ViTConfig): ViT {
  const c = resolveViTConfig('createViT', config);
  registerFastMatMulGradient();
  registerFastReduceGradient();
  return buildViT(c, initialValues(c), true);
}

function buildViT(c: ResolvedViTConfig, initial: InitialValues, trainable: boolean): ViT {
  const variables = makeVariables('vit', initial, trainable);
  const V = variables;
  const { dim: D, patchSize: p, channels: C, imageSize: S, heads, depth, layerNormEps: eps } = c;
  const N = (S / p) ** 2;

  function checkInputs(fn: string, images: tf.Tensor, tokenMask: tf.Tensor | undefined): void {
    assertAlive(fn, V);
    assertShape(fn, 'images', images, [-1, S, S, C], `[B, ${S}, ${S}, ${C}] (config.imageSize, config.channels)`);
    if (tokenMask !== undefined) {
      if (tokenMask == null || typeof (tokenMask as tf.Tensor).rank !== 'number') {
        throw new ShapeError(`${fn}: tokenMask must be a tf.Tensor of shape [${images.shape[0]}, ${N}], got ${describe(tokenMask)}`);
      }
      assertShape(fn, 'tokenMask', tokenMask, [images.shape[0], N], '[B, N] (1 = masked)');
    }
  }

  /** Token sequence entering block 0 (not tidy; called inside a tidy). */
  function tokens(images: tf.Tensor, tokenMask: tf.Tensor | undefined): tf.Tensor {
    const B = images.shape[0];
    const img = images.dtype === 'float32' ? images : tf.cast(images, 'float32');
    let x = linear(patchify(img, p), V['patch_embed.proj.weight'], V['patch_embed.proj.bias']); // [B, N, D]
    if (tokenMask !== undefined) {
      const m = tf.reshape(tf.cast(tokenMask, 'float32'), [B, N, 1]);
      x = tf.add(tf.mul(x, tf.sub(1, m)), tf.mul(V.mask_token, m));
    }
    const cls = tf.add(tf.zeros([B, 1, D]), V.cls_token); // broadcast: gradient is one sum
    return tf.add(tf.concat([cls, x], 1), V.pos_embed);
  }

  function block(x: tf.Tensor, i: number): tf.Tensor {
    const b = `blocks.${i}.`;
    return transformerBlock(
      x,
      {
        norm1Weight: V[`${b}norm1.weight`],
        norm1Bias: V[`${b}norm1.bias`],
        qkvWeight: V[`${b}attn.qkv.weight`],
        qkvBias: V[`${b}attn.qkv.bias`],
        projWeight: V[`${b}attn.proj.weight`],
        projBias: V[`${b}attn.proj.bias`],
        norm2Weight: V[`${b}norm2.weight`],
        norm2Bias: V[`${b}norm2.bias`],
        fc1Weight: V[`${b}mlp.fc1.weight`],
        fc1Bias: V[`${b}mlp.fc1.bias`],
        fc2Weight: V[`${b}mlp.fc2.weight`],
        fc2Bias: V[`${b}mlp.fc2.bias`],
      },
      heads,
      eps,
    );
  }

  const vit: ViT = {
    config: { ...c },
    numPatches: N,
    numParams: countParams(variables),
    variables,
    trainableVariables: () => trainableOf(variables),
    embed(images: tf.Tensor, tokenMask?: tf.Tensor): tf.Tensor3D {
      checkInputs('ViT.embed', images, tokenMask);
      return tf.tidy(() => tokens(images, tokenMask)) as tf.Tensor3D;
    },
    apply(images: tf.Tensor, options: ViTApplyOptions = {}): ViTOutput {
      const fn = 'ViT.apply';
      if (options == null || typeof options !== 'object') {
        throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
      }
      const { tokenMask, training, returnLayers = false } = options;
      checkInputs(fn, images, tokenMask);
      if (training !== undefined && typeof training !== 'boolean') {
        throw new ValueError(`${fn}: options.training must be a boolean, got ${describe(training)}`);
      }
      if (typeof returnLayers !== 'boolean') {
        throw new ValueError(`${fn}: options.returnLayers must be a boolean, got ${describe(returnLayers)}`);
      }
      return tf.tidy(() => {
        const B = images.shape[0];
        let x = tokens(images, tokenMask);
        const layers: tf.Tensor3D[] = [];
        for (let i = 0; i < depth; i++) {
          x = block(x, i);
          if (returnLayers) layers.push(x as tf.Tensor3D);
        }
        const out = layerNorm(x, V['norm.weight'], V['norm.bias'], eps);
        const cls = tf.reshape(tf.slice(out, [0, 0, 0], [B, 1, D]), [B, D]) as tf.Tensor2D;
        const patches = tf.slice(out, [0, 1, 0], [B, N, D]) as tf.Tensor3D;
        return returnLayers ? { cls, patches, layers } : { cls, patches };
      });
    },
    clone(options: CloneOptions = {}): ViT {
      assertAlive('ViT.clone', V);
      return buildViT(c, variables, options.trainable ?? true);
    },
    dispose(): void {
      disposeVariables(variables);
    },
  };
  return vit;
}

