import type { ViTConfig } from './config.js';

function preset(dim: number, depth: number, heads: number, overrides: Partial<ViTConfig>): ViTConfig {
  return {
    imageSize: 224,
    patchSize: 16,
    channels: 3,
    dim,
    depth,
    heads,
    mlpRatio: 4,
    qkvBias: true,
    layerNormEps: 1e-6,
    ...overrides,
  };
}

/**
 * ViT-Tiny (DeiT-Ti / timm `vit_tiny_patch16_224`): dim 192, depth 12, heads 3, 224² images,
 * 16² patches; any field can be overridden. Returns a plain {@link ViTConfig} for `createViT`.
 *
 * @example
 * ```ts
 * const vit = createViT(vitTiny({ imageSize: 32, patchSize: 4, depth: 6 }));
 * ```
 */
export function vitTiny(overrides: Partial<ViTConfig> = {}): ViTConfig {
  return preset(192, 12, 3, overrides);
}

/**
 * ViT-Small (timm `vit_small_patch16_224`, DINO/iBOT/MMC ViT-S/16): dim 384, depth 12, heads 6.
 *
 * @example
 * ```ts
 * createViT(vitSmall()).numParams; // 21 666 048 (timm's 21 665 664 + the 384-dim mask token)
 * ```
 */
export function vitSmall(overrides: Partial<ViTConfig> = {}): ViTConfig {
  return preset(384, 12, 6, overrides);
}

/**
 * ViT-Base (timm `vit_base_patch16_224`): dim 768, depth 12, heads 12.
 *
 * @example
 * ```ts
 * const config = vitBase({ patchSize: 8 }); // ViT-B/8
 * ```
 */
export function vitBase(overrides: Partial<ViTConfig> = {}): ViTConfig {
  return preset(768, 12, 12, overrides);
}
