import * as tf from '@tensorflow/tfjs';
import { assertInteger, describe, formatShape, ShapeError, ValueError } from '@mmc/core';

/** Patch geometry needed to convert the patch-embedding weight. */
export interface PatchGeometry {
  patchSize: number;
  channels: number;
}

const PATCH_WEIGHT = 'patch_embed.proj.weight';

function checkArgs(fn: string, name: unknown, tensor: unknown): asserts tensor is tf.Tensor {
  if (typeof name !== 'string') throw new ValueError(`${fn}: name must be a string, got ${describe(name)}`);
  if (tensor == null || typeof (tensor as tf.Tensor).rank !== 'number') {
    throw new ShapeError(`${fn}: tensor must be a tf.Tensor, got ${describe(tensor)}`);
  }
}

function isPatchWeight(name: string): boolean {
  return name === PATCH_WEIGHT || name.endsWith(`.${PATCH_WEIGHT}`);
}

function isLinearWeight(name: string, tensor: tf.Tensor): boolean {
  return /(^|\.)weight$/.test(name) && tensor.rank === 2;
}

function checkGeometry(fn: string, g: PatchGeometry): void {
  assertInteger(fn, 'config.patchSize', g.patchSize, 1);
  assertInteger(fn, 'config.channels', g.channels, 1);
}

/**
 * Converts one named weight from @mmc's storage layout to timm's (PyTorch) layout, for writing
 * checkpoints that timm, DINO, iBOT, MAE or SiT code loads unchanged:
 *
 * - `…patch_embed.proj.weight`: ours `[p·p·C, D]` (rows in patchify's (row, col, channel)
 *   order) → torch Conv2d `[D, C, p, p]` (OIHW); needs `config` ({ patchSize, channels }), or
 *   assumes 3 channels when it is omitted;
 * - any other rank-2 `…weight` is a Linear: ours `[in, out]` → torch `[out, in]` (transpose);
 * - everything else (biases, LayerNorm weights, `cls_token`, `pos_embed`, `mask_token`) unchanged.
 *
 * @returns a new tensor (the caller owns it; the input is not disposed)
 * @example
 * ```ts
 * const torchW = toTimmLayout('blocks.0.attn.qkv.weight', vit.variables['blocks.0.attn.qkv.weight']); // [3D, D]
 * ```
 */
export function toTimmLayout(name: string, tensor: tf.Tensor, config?: PatchGeometry): tf.Tensor {
  const fn = 'toTimmLayout';
  checkArgs(fn, name, tensor);
  if (isPatchWeight(name)) {
    if (tensor.rank !== 2) {
      throw new ShapeError(`${fn}: ${name} must have rank 2 [p*p*C, D] in @mmc layout, got ${formatShape(tensor.shape)}`);
    }
    const [rows, D] = tensor.shape;
    let p: number;
    let C: number;
    if (config !== undefined) {
      checkGeometry(fn, config);
      p = config.patchSize;
      C = config.channels;
      if (rows !== p * p * C) {
        throw new ShapeError(`${fn}: ${name} must have shape [${p * p * C}, D] for patchSize ${p} and channels ${C}, got ${formatShape(tensor.shape)}`);
      }
    } else {
      C = 3;
      p = Math.round(Math.sqrt(rows / 3));
      if (p * p * 3 !== rows) {
        throw new ValueError(`${fn}: config ({ patchSize, channels }) is required to convert ${name} of shape ${formatShape(tensor.shape)}`);
      }
    }
    return tf.tidy(() => tf.transpose(tf.reshape(tensor, [p, p, C, D]), [3, 2, 0, 1]));
  }
  if (isLinearWeight(name, tensor)) return tf.tidy(() => tf.transpose(tensor));
  return tf.clone(tensor);
}

/**
 * Converts one named weight from timm's (PyTorch) layout to @mmc's storage layout; the inverse
 * of {@link toTimmLayout}:
 *
 * - `…patch_embed.proj.weight`: torch Conv2d `[D, C, p, p]` → ours `[p·p·C, D]`; when
 *   `config` is given its patchSize and channels must match;
 * - any other rank-2 `…weight` (Linear): `[out, in]` → `[in, out]`;
 * - everything else unchanged.
 *
 * @returns a new tensor (the caller owns it)
 * @example
 * ```ts
 * const ours = fromTimmLayout('patch_embed.proj.weight', convWeight, { patchSize: 16, channels: 3 }); // [768, D]
 * ```
 */
export function fromTimmLayout(name: string, tensor: tf.Tensor, config?: PatchGeometry): tf.Tensor {
  const fn = 'fromTimmLayout';
  checkArgs(fn, name, tensor);
  if (isPatchWeight(name)) {
    if (tensor.rank !== 4 || tensor.shape[2] !== tensor.shape[3]) {
      throw new ShapeError(`${fn}: ${name} must have shape [D, C, p, p] (torch Conv2d), got ${formatShape(tensor.shape)}`);
    }
    const [D, C, p] = tensor.shape;
    if (config !== undefined) {
      checkGeometry(fn, config);
      if (p !== config.patchSize || C !== config.channels) {
        throw new ShapeError(
          `${fn}: ${name} must have shape [D, ${config.channels}, ${config.patchSize}, ${config.patchSize}] for the config, got ${formatShape(tensor.shape)}`,
        );
      }
    }
    return tf.tidy(() => tf.reshape(tf.transpose(tensor, [2, 3, 1, 0]), [p * p * C, D]));
  }
  if (isLinearWeight(name, tensor)) return tf.tidy(() => tf.transpose(tensor));
  return tf.clone(tensor);
}
