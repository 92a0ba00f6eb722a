import { describe, ValueError, writeSafetensors, type NdArray } from '@mmc/core';
import { toTimmLayout } from './timmLayout.js';
import { assertAlive } from './variableStore.js';
import type { ViT } from './vit.js';

/** Layouts {@link saveWeights} writes. */
export type SaveWeightsFormat = 'timm' | 'mmc';

/** Options of {@link saveWeights}. */
export interface SaveWeightsOptions {
  /**
   * `'timm'` (default): exactly timm's `VisionTransformer(num_classes=0).state_dict()`, which
   * `load_state_dict(..., strict=True)` accepts (no `mask_token`). `'mmc'`: the same plus
   * `mask_token` [1, 1, D] (SimMIM's name), so every variable round-trips.
   */
  format?: SaveWeightsFormat;
}

/**
 * Writes a {@link createViT} backbone as a `.safetensors` file that PyTorch loads: timm names,
 * torch layouts (Linear `[out, in]`, patch embedding Conv2d `[D, C, p, p]`, via `toTimmLayout`),
 * F32, metadata `{ format: 'pt' }` (as `safetensors.torch.save_file`), tensors sorted by name as
 * the reference serializer orders them. Lossless: `loadWeights` of the result restores every
 * variable bit for bit (`mask_token` too with format `'mmc'`).
 *
 * @param model a ViT from `createViT`
 * @param options `{ format = 'timm' }`
 * @returns the file's bytes
 * @example
 * ```ts
 * writeFileSync('vit.safetensors', saveWeights(vit));
 * // python: model.load_state_dict(safetensors.torch.load_file('vit.safetensors'))
 * ```
 */
export function saveWeights(model: ViT, options: SaveWeightsOptions = {}): Uint8Array {
  const fn = 'saveWeights';
  if (model == null || typeof model !== 'object' || model.variables == null || model.config == null) {
    throw new ValueError(`${fn}: model must be a ViT from createViT, got ${describe(model)}`);
  }
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { format = 'timm' } = options;
  if (format !== 'timm' && format !== 'mmc') {
    throw new ValueError(`${fn}: options.format must be 'timm' or 'mmc', got ${describe(format)}`);
  }
  assertAlive(fn, model.variables);
  const geometry = { patchSize: model.config.patchSize, channels: model.config.channels };
  const out: Record<string, NdArray> = {};
  for (const [name, variable] of Object.entries(model.variables)) {
    if (name === 'mask_token' && format === 'timm') continue;
    const t = toTimmLayout(name, variable, geometry);
    out[name] = { dtype: 'float32', shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
    t.dispose();
  }
  return writeSafetensors(out, { format: 'pt' });
}
