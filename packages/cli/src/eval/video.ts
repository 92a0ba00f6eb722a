import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { formatShape, ShapeError, ValueError } from '@mmc/core';
import { writeNpyFile } from '@mmc/core/node';
import { davisJF, propagateLabels } from '@mmc/eval';
import { loadArray, toFeatures, toLabels, type Labels } from './arrays.js';
import { addCommonOptions, floatArg, intArg, type CommonOptions } from './options.js';
import { frac } from './table.js';
import { evalAction, secondsSince, type EvalContext, type EvalOutput } from './run.js';

/** Options of `mmc eval video`. */
export interface VideoCliOptions extends CommonOptions {
  features: string;
  firstLabels?: string;
  gt?: string;
  patchSize?: number;
  numClasses?: number;
  topk: number;
  nLastFrames: number;
  neighborhood: number;
  temperature: number;
  saveLabels?: string;
}

/** Registers `mmc eval video`. */
export function registerVideo(parent: Command): void {
  const cmd = parent
    .command('video')
    .description(
      "video object segmentation by label propagation (DINO's DAVIS-2017 protocol, MMC paper Table 2): frame 0's labels " +
        'are propagated through patch-feature affinities; with --gt, DAVIS J (region IoU), F (boundary F) and J&F',
    )
    .requiredOption('--features <file>', 'patch features of the frames [T, h, w, D]')
    .option('--first-labels <file>', "frame 0's label map [H, W] = [h·p, w·p], ids 0 … C−1 (default: frame 0 of --gt)")
    .option('--gt <file>', 'ground-truth label maps [T, H, W] (255 = void) for J&F')
    .option('--patch-size <p>', 'pixels per patch (default H / h)', intArg(1))
    .option('--num-classes <c>', 'label channels (default: largest id in the first labels + 1)', intArg(1))
    .option('--topk <n>', 'neighbours kept per target patch', intArg(1), 5)
    .option('--n-last-frames <n>', 'preceding predicted frames in the context (besides frame 0)', intArg(0), 7)
    .option('--neighborhood <r>', 'spatial radius in patches of the affinity (0 = unrestricted)', intArg(0), 12)
    .option('--temperature <t>', 'affinity temperature', floatArg({ gt: 0 }), 0.1)
    .option('--save-labels <file.npy>', 'write the predicted label maps [T, H, W] int32 (frame 0 = the given labels)');
  addCommonOptions(cmd).action(evalAction<VideoCliOptions>('video', runVideo));
}

/** `mmc eval video`. */
export async function runVideo(o: VideoCliOptions, ctx: EvalContext): Promise<EvalOutput> {
  const t0 = performance.now();
  if (!o.firstLabels && !o.gt) throw new ValueError('give --first-labels (frame 0 label map [H, W]) or --gt (label maps [T, H, W])');
  const features = toFeatures(await loadArray('--features', o.features, o.key), 4, '[T, h, w, D]');
  const [T, h, w, D] = features.shape;
  if (T === 0 || h === 0 || w === 0) throw new ShapeError(`${features.where}: needs at least one frame of at least 1×1 patches, got shape ${formatShape(features.shape)}`);
  let gt: Labels | undefined;
  if (o.gt) {
    gt = toLabels(await loadArray('--gt', o.gt, o.labelsKey), [T, -1, -1], {
      where: features.where,
      shape: features.shape,
      what: 'one [H, W] ground-truth map per frame is needed',
    }, 'ground-truth label maps');
  }
  let first: Labels;
  if (o.firstLabels) {
    first = toLabels(await loadArray('--first-labels', o.firstLabels, o.labelsKey), [-1, -1], undefined, 'first-frame labels');
    if (gt && (first.shape[0] !== gt.shape[1] || first.shape[1] !== gt.shape[2])) {
      throw new ShapeError(`${first.where} has shape ${formatShape(first.shape)} but ${gt.where} has shape ${formatShape(gt.shape)}: frames must have the same [H, W]`);
    }
  } else {
    const [, Hg, Wg] = gt!.shape;
    first = { where: `${gt!.where} (frame 0)`, data: gt!.data.slice(0, Hg * Wg), shape: [Hg, Wg] };
  }
  const [H, W] = first.shape;
  const p = o.patchSize ?? H / h;
  if (!Number.isInteger(p) || H !== h * p || W !== w * p) {
    throw new ShapeError(
      `${first.where} has shape ${formatShape(first.shape)} but ${features.where} has shape ${formatShape(features.shape)}: ` +
        `labels must be [h·p, w·p] for one integer patch size p${o.patchSize ? ` (--patch-size ${o.patchSize} gives [${h * o.patchSize}, ${w * o.patchSize}])` : ''}`,
    );
  }
  for (let i = 0; i < first.data.length; i++) {
    if (first.data[i] < 0) throw new ValueError(`${first.where}: label ${first.data[i]} at pixel (${Math.floor(i / W)}, ${i % W}) is negative`);
    if (o.numClasses !== undefined && first.data[i] >= o.numClasses) {
      throw new ValueError(`${first.where}: label ${first.data[i]} at pixel (${Math.floor(i / W)}, ${i % W}) is >= --num-classes ${o.numClasses}`);
    }
  }
  const loadSeconds = secondsSince(t0);
  ctx.log(`${T} frames of ${h}×${w} patches (D = ${D}), labels ${H}×${W} (patch size ${p})`);

  const t1 = performance.now();
  const frames = tf.tensor4d(features.data, [T, h, w, D]);
  let labels: Int32Array[];
  let numClasses: number;
  try {
    const r = propagateLabels(frames, { data: first.data, shape: [H, W] }, {
      patchSize: p,
      numClasses: o.numClasses,
      topk: o.topk,
      nLastFrames: o.nLastFrames,
      neighborhood: o.neighborhood,
      temperature: o.temperature,
    });
    tf.dispose(r.soft);
    labels = r.labels;
    numClasses = r.numClasses;
  } finally {
    frames.dispose();
  }
  const propagateSeconds = secondsSince(t1);
  const pred = [first.data, ...labels];
  if (o.saveLabels) {
    const all = new Int32Array(T * H * W);
    pred.forEach((m, t) => all.set(m, t * H * W));
    await writeNpyFile(o.saveLabels, { dtype: 'int32', shape: [T, H, W], data: all });
    ctx.log(`predicted labels written to ${o.saveLabels}`);
  }
  const json: Record<string, unknown> = { frames: T, numClasses, patchSize: p, labelSize: [H, W], dim: D };
  const rows: [string, number | string][] = [];
  const tables: EvalOutput['tables'] = [];
  if (gt) {
    const gtFrames = Array.from({ length: T }, (_, t) => gt!.data.subarray(t * H * W, (t + 1) * H * W));
    const s = davisJF(pred, gtFrames, { shape: [H, W] });
    Object.assign(json, {
      JF: s.JF,
      J: s.J,
      F: s.F,
      perObject: s.perObject.map((ob) => ({ id: ob.id, J: ob.J, F: ob.F, JF: ob.JF })),
      evaluatedFrames: s.frames,
    });
    rows.push(['J&F', frac(s.JF)], ['J (region IoU)', frac(s.J)], ['F (boundary)', frac(s.F)]);
    tables.push({ title: 'Per object', columns: ['object', 'J&F', 'J', 'F'], rows: s.perObject.map((ob) => [ob.id, frac(ob.JF), frac(ob.J), frac(ob.F)]) });
  }
  const seconds = secondsSince(t1);
  rows.push(['frames', T], ['label channels', numClasses], ['patch size', p], ['seconds (propagation)', propagateSeconds]);
  Object.assign(json, { saveLabels: o.saveLabels, loadSeconds, propagateSeconds, seconds });
  return { json, tables: [{ title: 'Video label propagation', columns: ['metric', 'value'], rows }, ...tables] };
}
