import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '@mmc/core';
import { writeFileAtomic, writeNpyFile } from '@mmc/core/node';
import { scenes } from '@mmc/data';
import { createViT, loadWeights, vitBase, vitSmall, vitTiny, WEIGHTS_FORMATS, type ViTConfig, type WeightsFormat } from '@mmc/models';
import { normalizeImages, SCENES_NORMALIZATION, type Normalization } from '@mmc/recipes';
import { listImages, readImage, type RgbImage } from './images.js';
import { intArg } from './options.js';
import { addBackendOptions, startBackend, type BackendOptions } from './backendOptions.js';

/** ImageNet's per-channel mean/std (torchvision), what PyTorch checkpoints expect. */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

const NORMALIZATIONS: Record<string, Normalization> = {
  imagenet: IMAGENET_NORMALIZATION,
  scenes: SCENES_NORMALIZATION,
  none: { mean: [0, 0, 0], std: [1, 1, 1] },
};
const PRESETS: Record<string, (o: Partial<ViTConfig>) => ViTConfig> = { tiny: vitTiny, small: vitSmall, base: vitBase };
const TOKENS = ['cls', 'patches', 'both'] as const;

/** Options of {@link embed} (the `mmc embed` flags). */
export interface EmbedOptions extends BackendOptions {
  weights: string;
  format: string;
  preset?: string;
  imageSize?: number;
  patchSize?: number;
  dim?: number;
  depth?: number;
  heads?: number;
  images?: string;
  data?: string;
  count: number;
  seed: number;
  out: string;
  tokens: string;
  batchSize: number;
  normalize: string;
  quiet?: boolean;
}

/** What {@link embed} wrote. */
export interface EmbedResult {
  count: number;
  backend: string;
  seconds: number;
  /** Written `.npy` files with their shapes. */
  outputs: { path: string; shape: number[] }[];
  /** `<out>.files.json` (with `--images`). */
  filesJson?: string;
}

/** The output paths: `feats.npy` → `feats` + suffix. */
export function embedOutputPaths(out: string, tokens: string): { cls?: string; patches?: string; files: string } {
  const base = out.toLowerCase().endsWith('.npy') ? out.slice(0, -4) : out;
  const files = `${base}.files.json`;
  if (tokens === 'cls') return { cls: out, files };
  if (tokens === 'patches') return { patches: out, files };
  return { cls: `${base}.cls.npy`, patches: `${base}.patches.npy`, files };
}

/** The ViT config of the flags: a preset (tiny/small/base, 224/16) with the given fields overridden, or all of dim/depth/heads. */
function embedConfig(fn: string, o: EmbedOptions): ViTConfig {
  const overrides: Partial<ViTConfig> = {};
  for (const k of ['imageSize', 'patchSize', 'dim', 'depth', 'heads'] as const) if (o[k] !== undefined) overrides[k] = o[k];
  if (o.preset !== undefined) {
    const make = Object.hasOwn(PRESETS, o.preset) ? PRESETS[o.preset] : undefined;
    if (!make) throw new ValueError(`${fn}: --preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${o.preset}'`);
    return make(overrides);
  }
  const missing = (['dim', 'depth', 'heads'] as const).filter((k) => o[k] === undefined).map((k) => `--${k}`);
  if (missing.length > 0) throw new ValueError(`${fn}: give --preset tiny|small|base or all of --dim, --depth and --heads (missing ${missing.join(', ')})`);
  return { imageSize: 224, patchSize: 16, dim: o.dim!, depth: o.depth!, heads: o.heads!, ...overrides };
}

/** Progress on stderr: a bar on a terminal, else a line about every 5% of the images. */
function embedProgress(total: number) {
  const tty = Boolean(process.stderr.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'embed {value}/{total} images |{bar}| {rate} images/s | ETA {eta_formatted}', barsize: 20, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { rate: '-' });
  const t0 = performance.now();
  const every = Math.max(1, Math.round(total / 20));
  let nextLine = every;
  return {
    update(done: number) {
      const rate = done / Math.max((performance.now() - t0) / 1000, 1e-9);
      if (bar) bar.update(done, { rate: rate.toFixed(1) });
      else if (done >= nextLine || done === total) {
        nextLine = done + every;
        process.stderr.write(`embed ${done}/${total} images | ${rate.toFixed(1)} images/s | ETA ${((total - done) / rate).toFixed(0)}s\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

/** `[B, S, S, 3]` from decoded images: each resized to S×S (bilinear, half-pixel centres) unless it already is. */
function stackResized(images: RgbImage[], size: number): tf.Tensor4D {
  return tf.tidy(() =>
    tf.stack(
      images.map((im) => {
        const t = tf.tensor3d(im.data, [im.height, im.width, 3]);
        return im.height === size && im.width === size ? t : tf.image.resizeBilinear(t, [size, size], false, true);
      }),
    ),
  ) as tf.Tensor4D;
}

/**
 * Extracts ViT features: builds the ViT of the flags, loads `weights` with `loadWeights` (format
 * conversion, pos_embed resampling to `imageSize`; its errors pass through), and runs it in batches
 * over the images of a folder (PNG/JPEG, sorted by name, resized to `imageSize`, normalised) or over
 * generated scenes. Writes CLS features `[n, D]` and/or patch tokens `[n, h, w, D]` as float32 `.npy`
 * (`tokens: 'both'` → `<base>.cls.npy` and `<base>.patches.npy`, base = `out` without `.npy`) and,
 * for a folder, `<base>.files.json` (the file names in row order).
 */
export async function embed(o: EmbedOptions): Promise<EmbedResult> {
  const fn = 'mmc embed';
  if (!WEIGHTS_FORMATS.includes(o.format as WeightsFormat)) {
    throw new ValueError(`${fn}: --format must be one of ${WEIGHTS_FORMATS.join(', ')}, got '${o.format}'`);
  }
  if (!(TOKENS as readonly string[]).includes(o.tokens)) throw new ValueError(`${fn}: --tokens must be one of ${TOKENS.join(', ')}, got '${o.tokens}'`);
  const normalization = Object.hasOwn(NORMALIZATIONS, o.normalize) ? NORMALIZATIONS[o.normalize] : undefined;
  if (!normalization) throw new ValueError(`${fn}: --normalize must be one of ${Object.keys(NORMALIZATIONS).join(', ')}, got '${o.normalize}'`);
  if ((o.images === undefined) === (o.data === undefined)) throw new ValueError(`${fn}: give exactly one of --images <dir> and --data scenes`);
  if (o.data !== undefined && o.data !== 'scenes') throw new ValueError(`${fn}: --data must be 'scenes', got '${o.data}'`);
  const config = embedConfig(fn, o);

  // Inputs first (cheap checks before the model is built).
  const files = o.images !== undefined ? await listImages(fn, o.images) : undefined;
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(await readFile(o.weights));
  } catch (e) {
    throw new ValueError(`${fn}: cannot read --weights '${o.weights}': ${e instanceof Error ? e.message : String(e)}`);
  }
  const backend = await startBackend(o);
  const vit = createViT(config);
  try {
    await loadWeights(vit, weights, { format: o.format as WeightsFormat });
    const S = vit.config.imageSize;
    const g = S / vit.config.patchSize;
    const D = vit.config.dim;
    const generated = o.data !== undefined ? scenes({ count: o.count, imageSize: S, seed: o.seed }) : undefined;
    const n = files ? files.length : o.count;
    const paths = embedOutputPaths(o.out, o.tokens);
    const cls = paths.cls ? new Float32Array(n * D) : undefined;
    const patches = paths.patches ? new Float32Array(n * g * g * D) : undefined;
    const progress = o.quiet ? undefined : embedProgress(n);
    const t0 = performance.now();
    try {
      for (let start = 0; start < n; start += o.batchSize) {
        const idx = Array.from({ length: Math.min(o.batchSize, n - start) }, (_, i) => start + i);
        let raw: tf.Tensor4D;
        if (files) {
          const decoded: RgbImage[] = [];
          for (const i of idx) decoded.push(await readImage(fn, o.images!, files[i]));
          raw = stackResized(decoded, S);
        } else {
          const b = generated!.batch(idx);
          raw = tf.tensor4d(b.images, b.shape as [number, number, number, number]);
        }
        const out = tf.tidy(() => vit.apply(normalizeImages(raw, normalization)));
        raw.dispose();
        try {
          if (cls) cls.set(out.cls.dataSync(), start * D);
          if (patches) patches.set(out.patches.dataSync(), start * g * g * D);
        } finally {
          tf.dispose(out);
        }
        progress?.update(start + idx.length);
      }
    } finally {
      progress?.stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const outputs: EmbedResult['outputs'] = [];
    await mkdir(dirname(o.out) || '.', { recursive: true });
    if (cls) {
      await writeNpyFile(paths.cls!, { dtype: 'float32', shape: [n, D], data: cls });
      outputs.push({ path: paths.cls!, shape: [n, D] });
    }
    if (patches) {
      await writeNpyFile(paths.patches!, { dtype: 'float32', shape: [n, g, g, D], data: patches });
      outputs.push({ path: paths.patches!, shape: [n, g, g, D] });
    }
    let filesJson: string | undefined;
    if (files) {
      filesJson = paths.files;
      await writeFileAtomic(filesJson, `${JSON.stringify(files, null, 1)}\n`);
    }
    return { count: n, backend, seconds, outputs, filesJson };
  } finally {
    vit.dispose();
  }
}

/** Registers `mmc embed`. */
export function registerEmbed(program: Command): void {
  addBackendOptions(program.command('embed'))
    .description('extract CLS / patch-token features with PyTorch or @mmc ViT weights (safetensors) into .npy')
    .requiredOption('--weights <file>', '.safetensors weights (see --format)')
    .option('--format <name>', `checkpoint layout: ${WEIGHTS_FORMATS.join(', ')}`, 'timm')
    .option('--preset <name>', 'ViT size: tiny, small or base (224/16; flags below override)')
    .option('--image-size <n>', 'input side length (pos_embed is resampled to it; default 224)', intArg(1))
    .option('--patch-size <n>', 'patch size (default 16)', intArg(1))
    .option('--dim <n>', 'ViT width', intArg(1))
    .option('--depth <n>', 'ViT blocks', intArg(1))
    .option('--heads <n>', 'attention heads', intArg(1))
    .option('--images <dir>', 'folder of PNG/JPEG images (sorted by name; resized to --image-size)')
    .option('--data <name>', "generated data instead of a folder: 'scenes'")
    .option('--count <n>', 'with --data: images to generate', intArg(1), 100)
    .option('--seed <n>', 'with --data: seed', intArg(0), 0)
    .requiredOption('--out <file>', 'output .npy (with --tokens both: <base>.cls.npy and <base>.patches.npy)')
    .option('--tokens <which>', 'cls ([n, D]), patches ([n, h, w, D]) or both', 'cls')
    .option('--batch-size <n>', 'images per forward pass', intArg(1), 32)
    .option('--normalize <name>', 'imagenet (PyTorch checkpoints), scenes (mmc pretrain) or none', 'imagenet')
    .option('--quiet', 'no progress output', false)
    .action(async (o: EmbedOptions) => {
      const r = await embed(o);
      const what = r.outputs.map((x) => `${x.path} [${x.shape.join(', ')}]`).join(', ');
      if (!o.quiet) process.stderr.write(`mmc embed: ${r.count} images on ${r.backend} in ${r.seconds.toFixed(1)} s → ${what}${r.filesJson ? `, ${r.filesJson}` : ''}\n`);
    });
}
