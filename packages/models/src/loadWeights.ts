import * as tf from '@tensorflow/tfjs';
import { describe, formatShape, FormatError, readSafetensors, ShapeError, ValueError, type NdArray } from '@mmc/core';
import { listNames, mapCheckpointKeys, WEIGHTS_FORMATS, type WeightsFormat } from './checkpointFormats.js';
import type { Module } from './module.js';
import { resamplePosEmbed } from './resamplePosEmbed.js';
import { fromTimmLayout } from './timmLayout.js';
import { assertAlive } from './variableStore.js';
import type { ViT } from './vit.js';

/** Options of {@link loadWeights}. */
export interface LoadWeightsOptions {
  /** Checkpoint layout (default `'timm'`); see {@link CHECKPOINT_FORMATS}. */
  format?: WeightsFormat;
  /**
   * Default true: every backbone weight must be in the file (except `mask_token`, which few
   * checkpoints have) and every key must be a backbone weight, a requested head, or a key the
   * format ignores (heads, decoders, the other branch).
   */
  strict?: boolean;
  /** Default true: resample `pos_embed` bicubically when the checkpoint's grid differs from the model's. */
  interpolatePosEmbed?: boolean;
  /**
   * Heads to load too: checkpoint prefix (relative to the branch, e.g. `'head'` for DINO's
   * `teacher.head.mlp.0.weight`) → a Module whose variable names follow it (`mlp.0.weight`).
   * Linear weights are transposed from torch's `[out, in]`.
   */
  heads?: Record<string, Module>;
}

/** The torch (timm) shape of one of our variables. */
function torchShape(name: string, shape: number[], p: number, C: number): number[] {
  if (name === 'patch_embed.proj.weight') return [shape[1], C, p, p];
  if (/(^|\.)weight$/.test(name) && shape.length === 2) return [shape[1], shape[0]];
  return shape;
}

function asFloat(fn: string, key: string, nd: NdArray): Float32Array {
  if (nd.dtype === 'float32') return nd.data;
  if (nd.dtype === 'float64') return Float32Array.from(nd.data);
  throw new FormatError(`${fn}: tensor '${key}' must be floating point (F32, F16, BF16 or F64), got ${nd.dtype}`);
}

/**
 * Loads PyTorch weights from a `.safetensors` file into a {@link createViT} backbone (and,
 * when asked, into heads), converting names and layouts:
 *
 * - names: the format's prefixes are stripped (`teacher.backbone.`, `module.base_encoder.`, …; see
 *   {@link CHECKPOINT_FORMATS}); the rest are timm `VisionTransformer` names, which are ours;
 * - layouts: torch Linear `[out, in]` → `[in, out]`, Conv2d `[D, C, p, p]` → `[p·p·C, D]`
 *   (`fromTimmLayout`); iBOT's `masked_embed` `[1, D]` → `mask_token` `[1, 1, D]`; F16/BF16/F64 → float32;
 * - `pos_embed`: when the checkpoint's grid h×w differs from the model's (e.g. a 224/16 model's 14×14
 *   loaded at 480/16, 30×30), the patch part is resampled with {@link resamplePosEmbed} (timm's
 *   `resample_abs_pos_embed`: bicubic, align_corners=False) and the CLS position kept;
 * - heads and other non-backbone keys are ignored unless `heads` names them.
 *
 * Everything is checked before any variable changes, so a failed load leaves the model intact.
 * Errors (FormatError, a MmcError) list the first 10 missing or unexpected keys and their count;
 * ShapeErrors list every mismatch with the expected (torch) and actual shapes.
 *
 * @param model a ViT from `createViT` (its config must match the checkpoint's, `imageSize` aside)
 * @param bytes the `.safetensors` file
 * @param options `{ format = 'timm', strict = true, interpolatePosEmbed = true, heads? }`
 * @returns the names of the ignored checkpoint keys (heads, decoders, the other branch)
 * @example
 * ```ts
 * const vit = createViT(vitSmall({ imageSize: 480 }));
 * await loadWeights(vit, readFileSync('dino_vits16.safetensors'), { format: 'dino' }); // pos_embed 14×14 → 30×30
 * ```
 */
export async function loadWeights(model: ViT, bytes: Uint8Array, options: LoadWeightsOptions = {}): Promise<{ ignored: string[] }> {
  const fn = 'loadWeights';
  if (model == null || typeof model !== 'object' || model.variables == null || model.config == null) {
    throw new ValueError(`${fn}: model must be a ViT from createViT, got ${describe(model)}`);
  }
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { format = 'timm', strict = true, interpolatePosEmbed = true, heads = {} } = options;
  if (!WEIGHTS_FORMATS.includes(format)) {
    throw new ValueError(`${fn}: options.format must be one of ${WEIGHTS_FORMATS.map((f) => `'${f}'`).join(', ')}, got ${JSON.stringify(format)}`);
  }
  for (const [k, v] of [['strict', strict], ['interpolatePosEmbed', interpolatePosEmbed]] as const) {
    if (typeof v !== 'boolean') throw new ValueError(`${fn}: options.${k} must be a boolean, got ${describe(v)}`);
  }
  if (heads == null || typeof heads !== 'object') throw new ValueError(`${fn}: options.heads must be an object of Modules, got ${describe(heads)}`);
  for (const [h, m] of Object.entries(heads)) {
    if (m == null || typeof m !== 'object' || m.variables == null) {
      throw new ValueError(`${fn}: options.heads['${h}'] must be a Module (with variables), got ${describe(m)}`);
    }
    assertAlive(fn, m.variables);
  }
  assertAlive(fn, model.variables);

  const file = readSafetensors(bytes, { int64: 'int32' });
  const { patchSize: p, channels: C } = model.config;
  const names = Object.keys(model.variables);
  const map = mapCheckpointKeys(fn, format, Object.keys(file), new Set(names), Object.keys(heads));

  // Missing / unexpected.
  const missing = names.filter((n) => !map.backbone.has(n) && n !== 'mask_token').map((n) => `${map.prefix}${n}`);
  for (const [h, m] of Object.entries(heads)) {
    const found = map.heads.get(h)!;
    for (const v of Object.keys(m.variables)) if (!found.has(v)) missing.push(`${map.branch}${h}.${v}`);
    for (const [v, key] of found) if (!(v in m.variables)) map.unexpected.push(key);
  }
  if (strict && missing.length > 0) {
    throw new FormatError(`${fn}: ${missing.length} weights missing from the '${format}' checkpoint: ${listNames(missing)}`);
  }
  if (strict && map.unexpected.length > 0) {
    throw new FormatError(
      `${fn}: ${map.unexpected.length} unexpected keys in the '${format}' checkpoint (not backbone weights, not ignored by the format; ` +
        `pass strict: false to skip them): ${listNames(map.unexpected)}`,
    );
  }

  // Convert to @mmc layout on the host, checking shapes.
  const mismatches: string[] = [];
  const values: { variable: tf.Variable; name: string; data: Float32Array; shape: number[] }[] = [];
  const grid = model.config.imageSize / p;
  for (const [name, key] of map.backbone) {
    const variable = model.variables[name];
    const nd = file[key];
    let data = asFloat(fn, key, nd);
    let shape = nd.shape;
    if (name === 'mask_token' && shape.length === 2) shape = [1, ...shape]; // iBOT masked_embed [1, D]
    if (name === 'pos_embed' && shape.length === 3 && shape[2] === variable.shape[2] && shape[1] !== variable.shape[1]) {
      const M = shape[1] - 1;
      const g = Math.round(Math.sqrt(M));
      if (interpolatePosEmbed && g * g === M) {
        data = Float32Array.from(resamplePosEmbed({ dtype: 'float32', shape, data }, [grid, grid]).data);
        shape = variable.shape;
      } else {
        mismatches.push(
          `${key}: expected ${formatShape(variable.shape)}, got ${formatShape(nd.shape)}` +
            (interpolatePosEmbed ? ' (not a square grid + CLS, cannot resample)' : ' (interpolatePosEmbed is false)'),
        );
        continue;
      }
    }
    const want = torchShape(name, variable.shape, p, C);
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
      mismatches.push(`${key}: expected ${formatShape(want)}, got ${formatShape(nd.shape)}`);
      continue;
    }
    values.push({ variable, name, data, shape });
  }
  for (const [h, m] of Object.entries(heads)) {
    for (const [v, key] of map.heads.get(h)!) {
      const variable = m.variables[v];
      if (variable === undefined) continue;
      const nd = file[key];
      const want = torchShape(v, variable.shape, p, C);
      if (nd.shape.length !== want.length || nd.shape.some((d, i) => d !== want[i])) {
        mismatches.push(`${key}: expected ${formatShape(want)}, got ${formatShape(nd.shape)}`);
        continue;
      }
      values.push({ variable, name: v, data: asFloat(fn, key, nd), shape: nd.shape });
    }
  }
  if (mismatches.length > 0) {
    throw new ShapeError(`${fn}: ${mismatches.length} shape mismatches (torch layout) in the '${format}' checkpoint: ${mismatches.join('; ')}`);
  }

  // Everything checked: assign.
  for (const { variable, name, data, shape } of values) {
    tf.tidy(() => {
      const t = tf.tensor(data, shape, 'float32');
      variable.assign(tf.reshape(fromTimmLayout(name, t, { patchSize: p, channels: C }), variable.shape));
    });
  }
  return { ignored: map.ignored };
}
