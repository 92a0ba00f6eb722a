import { assertInteger, assertPositive, describe, ValueError } from '@mmc/core';

/**
 * Architecture of a {@link createViT} backbone (timm `VisionTransformer` arguments).
 *
 * | field | timm | default |
 * | --- | --- | --- |
 * | `imageSize` | `img_size` | — (square images) |
 * | `patchSize` | `patch_size` | — |
 * | `channels` | `in_chans` | 3 |
 * | `dim` | `embed_dim` | — |
 * | `depth` | `depth` | — |
 * | `heads` | `num_heads` | — |
 * | `mlpRatio` | `mlp_ratio` (hidden = floor(dim · mlpRatio)) | 4 |
 * | `qkvBias` | `qkv_bias` | true |
 * | `layerNormEps` | `partial(nn.LayerNorm, eps=1e-6)` | 1e-6 |
 * | `seed` | — (host-side initialisation seed, see README) | 0 |
 */
export interface ViTConfig {
  imageSize: number;
  patchSize: number;
  channels?: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio?: number;
  qkvBias?: boolean;
  layerNormEps?: number;
  seed?: number;
}

/** A {@link ViTConfig} with every default filled in (what `vit.config` holds). */
export type ResolvedViTConfig = Required<ViTConfig>;

/**
 * Fills the defaults of a {@link ViTConfig} and validates it: positive integer sizes, `dim`
 * divisible by `heads`, `imageSize` divisible by `patchSize`, `mlpRatio` giving a hidden size
 * ≥ 1, `layerNormEps` > 0, `qkvBias` boolean, `seed` a safe integer. Errors are `ValueError`s
 * naming the field, e.g. `createViT: config.heads must divide config.dim=100, got 3`.
 *
 * @param fn the public function to name in error messages
 * @example
 * ```ts
 * resolveViTConfig('createViT', vitTiny({ imageSize: 32, patchSize: 4 })).mlpRatio; // 4
 * ```
 */
export function resolveViTConfig(fn: string, config: ViTConfig): ResolvedViTConfig {
  if (config == null || typeof config !== 'object') {
    throw new ValueError(`${fn}: config must be a ViTConfig object, got ${describe(config)}`);
  }
  const c: ResolvedViTConfig = {
    imageSize: config.imageSize,
    patchSize: config.patchSize,
    channels: config.channels ?? 3,
    dim: config.dim,
    depth: config.depth,
    heads: config.heads,
    mlpRatio: config.mlpRatio ?? 4,
    qkvBias: config.qkvBias ?? true,
    layerNormEps: config.layerNormEps ?? 1e-6,
    seed: config.seed ?? 0,
  };
  for (const k of ['imageSize', 'patchSize', 'channels', 'dim', 'depth', 'heads'] as const) {
    assertInteger(fn, `config.${k}`, c[k], 1);
  }
  if (c.dim % c.heads !== 0) {
    throw new ValueError(`${fn}: config.heads must divide config.dim=${c.dim}, got ${c.heads}`);
  }
  if (c.imageSize % c.patchSize !== 0) {
    throw new ValueError(`${fn}: config.patchSize must divide config.imageSize=${c.imageSize}, got ${c.patchSize}`);
  }
  assertPositive(fn, 'config.mlpRatio', c.mlpRatio);
  if (Math.floor(c.dim * c.mlpRatio) < 1) {
    throw new ValueError(`${fn}: config.mlpRatio must give a hidden size floor(dim · mlpRatio) >= 1, got ${c.mlpRatio} for dim ${c.dim}`);
  }
  assertPositive(fn, 'config.layerNormEps', c.layerNormEps);
  if (typeof c.qkvBias !== 'boolean') {
    throw new ValueError(`${fn}: config.qkvBias must be a boolean, got ${describe(c.qkvBias)}`);
  }
  if (typeof c.seed !== 'number' || !Number.isSafeInteger(c.seed)) {
    throw new ValueError(`${fn}: config.seed must be a safe integer, got ${describe(c.seed)}`);
  }
  return c;
}
