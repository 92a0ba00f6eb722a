import * as tf from '@tensorflow/tfjs';
import { assertInteger, assertRank, describe, formatShape, ShapeError, unpatchify, ValueError } from '@mmc/core';
import { registerFastMatMulGradient } from './fastMatMulGradient.js';
import { registerFastReduceGradient } from './fastReduceGradient.js';
import { truncNormal, variableRng } from './init.js';
import { linear } from './linear.js';
import type { CloneOptions, Module } from './module.js';
import { assertAlive, countParams, disposeVariables, makeVariables, trainableOf } from './variableStore.js';

/** Options of {@link pixelDecoder}. */
export interface PixelDecoderOptions {
  /** Token feature size (the backbone's `dim`). */
  inDim: number;
  /** Patch size p of the backbone. */
  patchSize: number;
  /** Image channels C (default 3). */
  channels?: number;
  /** Initialisation seed (default 0). */
  seed?: number;
}

/** Output size of `PixelDecoder.apply`; default: a square patch grid. */
export interface PixelDecoderApplyOptions {
  height?: number;
  width?: number;
}

/** A linear pixel-reconstruction head; see {@link pixelDecoder}. */
export interface PixelDecoder extends Module<[patches: tf.Tensor, options?: PixelDecoderApplyOptions], tf.Tensor4D> {
  readonly options: Required<PixelDecoderOptions>;
  readonly numParams: number;
  clone(options?: CloneOptions): PixelDecoder;
}

/**
 * Linear pixel-reconstruction head for masked image modelling (SimMIM's one-layer prediction
 * head, SiT's reconstruction objective; MAE's `decoder_pred` without MAE's decoder blocks):
 *
 *     pixels = unpatchify(patches · W + b, p, H, W)      W: [inDim, p·p·C]
 *
 * Each token predicts its own p×p×C patch, in patchify's (row, col, channel) order — MAE's
 * order, so the variable is named `decoder_pred.weight` / `decoder_pred.bias` as in MAE (SimMIM
 * uses a 1×1 conv + PixelShuffle, whose channel-major order differs). Weight stored `[in, out]`,
 * init trunc_normal(std 0.02), bias 0, seeded on the host.
 *
 * @example
 * ```ts
 * const dec = pixelDecoder({ inDim: 192, patchSize: 4, channels: 3 });
 * const recon = dec.apply(patches, { height: 32, width: 32 }); // [B, 32, 32, 3]
 * ```
 */
export function pixelDecoder(options: PixelDecoderOptions): PixelDecoder {
  const fn = 'pixelDecoder';
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const o: Required<PixelDecoderOptions> = {
    inDim: options.inDim,
    patchSize: options.patchSize,
    channels: options.channels ?? 3,
    seed: options.seed ?? 0,
  };
  assertInteger(fn, 'inDim', o.inDim, 1);
  assertInteger(fn, 'patchSize', o.patchSize, 1);
  assertInteger(fn, 'channels', o.channels, 1);
  if (!Number.isSafeInteger(o.seed)) throw new ValueError(`${fn}: seed must be a safe integer, got ${describe(o.seed)}`);
  registerFastMatMulGradient();
  registerFastReduceGradient();
  const P = o.patchSize * o.patchSize * o.channels;
  return buildDecoder(
    o,
    {
      'decoder_pred.weight': { shape: [o.inDim, P], data: truncNormal(variableRng(o.seed, 'decoder_pred.weight'), o.inDim * P, 0.02) },
      'decoder_pred.bias': { shape: [P], data: new Float32Array(P) },
    },
    true,
  );
}

function buildDecoder(
  o: Required<PixelDecoderOptions>,
  initial: Parameters<typeof makeVariables>[1],
  trainable: boolean,
): PixelDecoder {
  const variables = makeVariables('pixel_decoder', initial, trainable);
  const p = o.patchSize;
  const dec: PixelDecoder = {
    options: { ...o },
    numParams: countParams(variables),
    variables,
    trainableVariables: () => trainableOf(variables),
    apply(patches: tf.Tensor, options: PixelDecoderApplyOptions = {}): tf.Tensor4D {
      const fn = 'PixelDecoder.apply';
      assertAlive(fn, variables);
      assertRank(fn, 'patches', patches, 3, '[B, N, D]');
      const [B, N, D] = patches.shape;
      if (D !== o.inDim) throw new ShapeError(`${fn}: patches must have shape [B, N, ${o.inDim}] (inDim), got ${formatShape(patches.shape)}`);
      let { height, width } = options ?? {};
      if (height === undefined && width === undefined) {
        const side = Math.round(Math.sqrt(N));
        if (side * side !== N) {
          throw new ValueError(`${fn}: options.height and options.width are required for a non-square grid of N=${N} tokens`);
        }
        height = width = side * p;
      }
      if (height === undefined || width === undefined) {
        throw new ValueError(`${fn}: give both options.height and options.width, got height ${describe(height)} and width ${describe(width)}`);
      }
      assertInteger(fn, 'options.height', height, 1);
      assertInteger(fn, 'options.width', width, 1);
      if (height % p !== 0 || width % p !== 0 || (height / p) * (width / p) !== N) {
        throw new ShapeError(
          `${fn}: patches must have N = (height/${p})·(width/${p}) tokens for height ${height} and width ${width}, got shape ${formatShape(patches.shape)}`,
        );
      }
      const H = height;
      const W = width;
      return tf.tidy(() => unpatchify(tf.reshape(linear(patches, variables['decoder_pred.weight'], variables['decoder_pred.bias']), [B, N, -1]), p, H, W));
    },
    clone(options: CloneOptions = {}): PixelDecoder {
      assertAlive('PixelDecoder.clone', variables);
      return buildDecoder(o, variables, options.trainable ?? true);
    },
    dispose(): void {
      disposeVariables(variables);
    },
  };
  return dec;
}
