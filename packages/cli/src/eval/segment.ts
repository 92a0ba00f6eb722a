import type { Command } from 'commander';
import { formatShape, ShapeError, ValueError } from '@mmc/core';
import { promptSegment, similarityMapPng, thresholdSweep, type Prompt, type ReportImage, type SweepSample } from '@mmc/eval';
import { loadArray, toFeatures, toLabels } from './arrays.js';
import { addCommonOptions, floatListArg, intArg, type CommonOptions } from './options.js';
import { frac } from './table.js';
import { evalAction, secondsSince, type EvalContext, type EvalOutput } from './run.js';

/** Options of `mmc eval segment`. */
export interface SegmentCliOptions extends CommonOptions {
  features: string;
  targets: string;
  prompts: string;
  classes?: string;
  pixelPrompts?: boolean;
  binaryTargets?: boolean;
  thresholds: number[];
  reportSamples: number;
}

/** Registers `mmc eval segment`. */
export function registerSegment(parent: Command): void {
  const cmd = parent
    .command('segment')
    .description(
      'zero-shot prompt segmentation (MMC paper, Table 1): cosine similarity of the prompt patch to every patch, ' +
        'upsampled bilinearly to the target size, mask = sim > threshold; mIoU per threshold over the classes and the best',
    )
    .requiredOption('--features <file>', 'patch features [n, h, w, D] (last layer, CLS dropped), one image per sample')
    .requiredOption('--targets <file>', 'integer label maps [n, H, W]; the binary target of sample i is (targets[i] == class of i)')
    .requiredOption('--prompts <file>', 'prompts [n, 2]: (row, col) patch cells, or (y, x) pixels of the H×W target with --pixel-prompts')
    .option('--classes <file>', 'class id per sample [n] (default: the target label under the prompt)')
    .option('--pixel-prompts', 'prompts are (y, x) pixel positions in the target (fractions allowed), not patch cells')
    .option('--binary-targets', 'targets are 0/1 masks of the prompted object (class ids from --classes, else all 1)')
    .option('--thresholds <list>', 'comma-separated thresholds', floatListArg, [0.1, 0.2, 0.3, 0.4])
    .option('--report-samples <n>', 'samples drawn in the --report', intArg(0), 4);
  addCommonOptions(cmd).action(evalAction<SegmentCliOptions>('segment', runSegment));
}

/** `mmc eval segment`. */
export async function runSegment(o: SegmentCliOptions, ctx: EvalContext): Promise<EvalOutput> {
  const t0 = performance.now();
  const features = toFeatures(await loadArray('--features', o.features, o.key), 4, '[n, h, w, D]');
  const [n, h, w, D] = features.shape;
  const targets = toLabels(
    await loadArray('--targets', o.targets, o.labelsKey),
    [n, -1, -1],
    { where: features.where, shape: features.shape, what: 'one [H, W] target per sample is needed' },
    'targets',
  );
  const [, H, W] = targets.shape;
  if (H === 0 || W === 0) throw new ShapeError(`${targets.where}: targets must be non-empty [n, H, W] maps, got ${formatShape(targets.shape)}`);
  const promptsRaw = await loadArray('--prompts', o.prompts);
  const pShape = promptsRaw.array.shape;
  if (pShape.length !== 2 || pShape[0] !== n || pShape[1] !== 2) {
    throw new ShapeError(
      `${promptsRaw.where} has shape ${formatShape(pShape)} but ${features.where} has shape ${formatShape(features.shape)}: ` +
        `one (${o.pixelPrompts ? 'y, x' : 'row, col'}) prompt per sample is needed (expected [${n}, 2])`,
    );
  }
  let prompts: ArrayLike<number>;
  if (o.pixelPrompts) {
    prompts = toFeatures(promptsRaw, 2, '[n, 2]', 'pixel prompts (y, x)').data;
  } else {
    prompts = toLabels(promptsRaw, [n, 2], undefined, 'patch prompts (row, col)').data;
  }
  const classes = o.classes ? toLabels(await loadArray('--classes', o.classes), [n], { where: features.where, shape: features.shape, what: 'one class per sample is needed' }) : undefined;

  const samples: SweepSample[] = [];
  const sampleClass = new Int32Array(n);
  const binary: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const a = prompts[2 * i];
    const b = prompts[2 * i + 1];
    let prompt: Prompt;
    let py: number;
    let px: number;
    if (o.pixelPrompts) {
      if (!(a >= 0 && a < H && b >= 0 && b < W)) {
        throw new ValueError(`${promptsRaw.where}: prompt ${i} = (y ${a}, x ${b}) is outside the ${H}×${W} target`);
      }
      prompt = { x: b, y: a, imageSize: [H, W] };
      py = Math.floor(a);
      px = Math.floor(b);
    } else {
      if (!(a >= 0 && a < h && b >= 0 && b < w)) {
        throw new ValueError(`${promptsRaw.where}: prompt ${i} = (row ${a}, col ${b}) is outside the ${h}×${w} patch grid`);
      }
      prompt = { row: a, col: b };
      py = Math.min(H - 1, Math.floor(((a + 0.5) * H) / h));
      px = Math.min(W - 1, Math.floor(((b + 0.5) * W) / w));
    }
    const map = targets.data.subarray(i * H * W, (i + 1) * H * W);
    const cls = classes ? classes.data[i] : o.binaryTargets ? 1 : map[py * W + px];
    const target = new Uint8Array(H * W);
    for (let p = 0; p < H * W; p++) {
      if (o.binaryTargets) {
        if (map[p] !== 0 && map[p] !== 1) throw new ValueError(`${targets.where}: --binary-targets needs 0/1 masks, sample ${i} has ${map[p]} at pixel (${Math.floor(p / W)}, ${p % W})`);
        target[p] = map[p];
      } else target[p] = map[p] === cls ? 1 : 0;
    }
    sampleClass[i] = cls;
    binary.push(target);
    samples.push({
      patches: { data: features.data.subarray(i * h * w * D, (i + 1) * h * w * D), shape: [h, w, D] },
      prompt,
      target: { data: target, shape: [H, W] },
      classId: cls,
    });
  }
  const loadSeconds = secondsSince(t0);
  ctx.log(`${n} samples, ${h}×${w} patches of D = ${D}, targets ${H}×${W}`);
  const t1 = performance.now();
  const r = thresholdSweep(samples, { thresholds: o.thresholds });
  const seconds = secondsSince(t1);
  const bestKey = String(r.best.threshold);
  const perClassAtBest = r.perClassByThreshold[bestKey] ?? {};

  const images: ReportImage[] = [];
  for (let i = 0; i < Math.min(o.reportSamples, n); i++) {
    const seg = promptSegment(samples[i].patches, samples[i].prompt, { threshold: r.best.threshold, outputSize: [H, W] });
    let inter = 0;
    let union = 0;
    for (let p = 0; p < H * W; p++) {
      if (seg.mask[p] && binary[i][p]) inter++;
      if (seg.mask[p] || binary[i][p]) union++;
    }
    const png = similarityMapPng({ data: seg.similarity, shape: [H, W] }, { mask: { data: binary[i], shape: [H, W] }, range: [-1, 1], outputSize: [H, W] });
    images.push({
      src: png,
      width: Math.max(128, Math.min(256, W * 4)),
      caption: `sample ${i}, class ${sampleClass[i]}, prompt patch (${seg.prompt.row}, ${seg.prompt.col}): IoU ${union > 0 ? (inter / union).toFixed(3) : 'n/a'} at t = ${r.best.threshold} (outline: target)`,
    });
  }
  return {
    json: {
      miouByThreshold: r.miouByThreshold,
      best: r.best,
      thresholds: r.thresholds,
      classes: r.classes,
      perClassAtBest,
      samples: n,
      patchGrid: [h, w],
      targetSize: [H, W],
      dim: D,
      loadSeconds,
      seconds,
    },
    tables: [
      {
        title: 'Prompt segmentation: mIoU per threshold',
        columns: ['threshold', 'mIoU'],
        rows: [
          ...r.thresholds.map((t) => [String(t), frac(r.miouByThreshold[String(t)])]),
          [`best (${r.best.threshold})`, frac(r.best.miou)],
        ],
      },
      {
        title: 'Settings',
        columns: ['setting', 'value'],
        rows: [
          ['samples', n],
          ['classes', r.classes.length],
          ['patch grid', `${h}×${w}`],
          ['target size', `${H}×${W}`],
          ['D', D],
          ['seconds', seconds],
        ],
      },
    ],
    figures: [
      {
        heading: `IoU per class at the best threshold ${r.best.threshold}`,
        table: { columns: ['class', 'IoU'], rows: Object.entries(perClassAtBest).map(([c, v]) => [Number(c), Number.isFinite(v) ? Number(v.toFixed(4)) : 'n/a']) },
      },
      ...(images.length > 0 ? [{ heading: 'Similarity maps (prompt similarity, target outlined)', images }] : []),
    ],
  };
}
