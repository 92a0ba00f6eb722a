import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { wasmThreadCount } from '@mmc/core';
import { scenes, type SceneDataset } from '@mmc/data';
import { histogramSvg, htmlReport, promptSegment, similarityMapPng, type ReportSection } from '@mmc/eval';
import { vitTiny, type ViT } from '@mmc/models';
import { evaluateZeroShot, mmcRecipe, normalizeImages, SCENES_NORMALIZATION, train, type ZeroShotResult } from '@mmc/recipes';
import { intArg } from './options.js';
import { trainingProgress } from './progress.js';
import { addBackendOptions, startBackend, type BackendOptions } from './backendOptions.js';

/**
 * The demo's configuration, chosen by measurement on 2 CPU cores with the wasm backend (see the
 * README): 64×64 scenes, patch 8 (8×8 = 64 tokens), a 64-wide, 4-deep ViT with 2 heads, MLP heads
 * of width 256, batch 16.
 */
export const DEMO_CONFIG = {
  imageSize: 64,
  patchSize: 8,
  dim: 64,
  depth: 4,
  heads: 2,
  headHidden: 256,
  batchSize: 16,
  lr: 2e-3,
  /** Teacher EMA momentum cosine 0.99 → 1: DINO's 0.996 is tuned for hundreds of epochs. */
  momentum: [0.99, 1] as [number, number],
  trainCount: 4000,
  evalCount: 150,
  objects: [1, 3] as [number, number],
  sizeRange: [0.22, 0.45] as [number, number],
};

/** Options of {@link runDemo}. */
export interface DemoOptions extends BackendOptions {
  steps: number;
  out: string;
  seed: number;
  quiet?: boolean;
}

type Summary = Pick<ZeroShotResult, 'miouByThreshold' | 'bestMiou' | 'bestThreshold' | 'overlap' | 'intraMean' | 'interMean'>;
const summarize = (r: ZeroShotResult): Summary => ({
  miouByThreshold: r.miouByThreshold,
  bestMiou: r.bestMiou,
  bestThreshold: r.bestThreshold,
  overlap: r.overlap,
  intraMean: r.intraMean,
  interMean: r.interMean,
});

/** Similarity map + thresholded mask of the first object of `count` evaluation images, as PNGs. */
function promptFigures(vit: ViT, data: SceneDataset, count: number, threshold: number, label: string) {
  const { imageSize: H, patchSize: p } = vit.config;
  const h = H / p;
  const batch = data.batch(Array.from({ length: count }, (_, i) => i));
  const feats = tf.tidy(() => vit.apply(normalizeImages(tf.tensor4d(batch.images, batch.shape), SCENES_NORMALIZATION)).patches);
  const all = feats.dataSync();
  feats.dispose();
  const D = vit.config.dim;
  return Array.from({ length: count }, (_, b) => {
    const obj = batch.objects[b][0];
    const seg = promptSegment({ data: all.subarray(b * h * h * D, (b + 1) * h * h * D), shape: [h, h, D] }, { x: obj.centerCol, y: obj.centerRow, imageSize: H }, { threshold, outputSize: [H, H] });
    const png = similarityMapPng({ data: seg.similarity, shape: [H, H] }, {
      image: { data: batch.images.subarray(b * H * H * 3, (b + 1) * H * H * 3), shape: [H, H, 3] },
      mask: { data: seg.mask, shape: [H, H] },
      range: [-1, 1],
      alpha: 0.55,
      interpolation: 'nearest',
      outputSize: [H * 3, H * 3],
    });
    return { src: png, caption: `${label} · image ${b} · prompt (${obj.centerRow}, ${obj.centerCol}) · t = ${threshold}` };
  });
}

/**
 * `npm run demo`: pretrains the demo ViT with MMC on generated scenes, evaluates zero-shot prompt
 * segmentation (thresholds 0.1–0.4) and the intra/inter similarity overlap on held-out scenes for
 * the trained network (the EMA teacher's backbone) and for the same network at initialisation, prints a table and writes
 * `summary.json` and `report.html` to `out`.
 */
export async function runDemo(o: DemoOptions) {
  const c = DEMO_CONFIG;
  const backend = await startBackend(o);
  const log = (s: string) => o.quiet || process.stderr.write(`${s}\n`);
  const kernels = backend === 'wasm' && o.kernels !== false;
  log(`mmc demo: backend ${backend}${backend === 'wasm' ? ` (${wasmThreadCount()} threads${kernels ? ', @mmc/kernels' : ''})` : ''}; ViT dim ${c.dim}, depth ${c.depth}, ${c.imageSize}×${c.imageSize}/${c.patchSize}; ${o.steps} steps of batch ${c.batchSize}`);
  const trainSet = scenes({ count: c.trainCount, imageSize: c.imageSize, seed: o.seed, objects: c.objects, sizeRange: c.sizeRange });
  const evalSet = scenes({ count: c.evalCount, imageSize: c.imageSize, seed: o.seed + 10_000, objects: c.objects, sizeRange: c.sizeRange });
  const vit = vitTiny({ imageSize: c.imageSize, patchSize: c.patchSize, dim: c.dim, depth: c.depth, heads: c.heads });
  const recipe = mmcRecipe({ vit, headHidden: c.headHidden, headOut: 128, seed: o.seed });
  try {
    const untrained = await evaluateZeroShot(recipe.student, evalSet, { seed: o.seed });
    const untrainedFigures = promptFigures(recipe.student, evalSet, 6, untrained.bestThreshold, 'untrained');
    const progress = o.quiet ? undefined : trainingProgress(o.steps);
    const t0 = performance.now();
    let peakRss = process.memoryUsage().rss;
    const result = await train(recipe, trainSet, {
      steps: o.steps,
      batchSize: c.batchSize,
      lr: c.lr,
      momentum: c.momentum,
      seed: o.seed,
      logEvery: 10,
      onStep: (s) => {
        progress?.update(s);
        if (s.step % 10 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      },
    });
    progress?.stop();
    const trainSeconds = (performance.now() - t0) / 1000;
    // The EMA teacher is the network DINO-family methods release and evaluate; at step 0 it equals
    // the student, so "untrained" above is the same network at initialisation.
    const teacherBackbone = recipe.teacher.model.backbone;
    const trained = await evaluateZeroShot(teacherBackbone, evalSet, { seed: o.seed });
    const trainedFigures = promptFigures(teacherBackbone, evalSet, 6, trained.bestThreshold, 'trained');
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    const summary = {
      recipe: 'mmc',
      backend,
      threads: backend === 'wasm' ? wasmThreadCount() : undefined,
      kernels,
      steps: result.steps,
      seconds: trainSeconds,
      stepsPerSecond: result.steps / trainSeconds,
      peakRssMB: Math.round(peakRss / 2 ** 20),
      config: { ...c, seed: o.seed },
      trained: summarize(trained),
      untrained: summarize(untrained),
    };
    await mkdir(o.out, { recursive: true });
    await writeFile(join(o.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const thresholds = Object.keys(trained.miouByThreshold);
    const table = [
      ...thresholds.map((t) => ({ metric: `mIoU @ ${t}`, untrained: untrained.miouByThreshold[t], trained: trained.miouByThreshold[t] })),
      { metric: 'mIoU (best threshold)', untrained: untrained.bestMiou, trained: trained.bestMiou },
      { metric: 'overlap (lower is better)', untrained: untrained.overlap, trained: trained.overlap },
      { metric: 'intra-class mean similarity', untrained: untrained.intraMean, trained: trained.intraMean },
      { metric: 'inter-class mean similarity', untrained: untrained.interMean, trained: trained.interMean },
    ];
    const sections: ReportSection[] = [
      {
        heading: 'Zero-shot prompt segmentation and similarity overlap',
        text: `${result.steps} MMC steps on ${backend} in ${trainSeconds.toFixed(0)} s; ${trained.prompts} prompts on ${c.evalCount} held-out scenes.`,
        table: table.map((r) => ({ metric: r.metric, untrained: r.untrained.toFixed(3), trained: r.trained.toFixed(3) })),
      },
      { heading: 'Intra- vs inter-class patch similarity (trained)', svg: histogramSvg({ intra: trained.intra, inter: trained.inter, title: `trained: overlap ${trained.overlap.toFixed(3)}` }) },
      { heading: 'Intra- vs inter-class patch similarity (untrained)', svg: histogramSvg({ intra: untrained.intra, inter: untrained.inter, title: `untrained: overlap ${untrained.overlap.toFixed(3)}` }) },
      { heading: 'Similarity to the prompt patch, mask at the best threshold (trained)', images: trainedFigures },
      { heading: 'The same prompts, untrained network', images: untrainedFigures },
    ];
    await writeFile(join(o.out, 'report.html'), htmlReport({ title: 'MMC demo: zero-shot segmentation from one prompt patch', subtitle: new Date().toISOString(), sections }));
    return { summary, table };
  } finally {
    recipe.dispose();
  }
}

/** Registers `mmc demo`. */
export function registerDemo(program: Command): void {
  addBackendOptions(program.command('demo'))
    .description('pretrain a small ViT with MMC on generated scenes and compare zero-shot segmentation with the untrained network')
    .option('--steps <n>', 'training steps', intArg(1), 500)
    .option('--out <dir>', 'output folder', 'runs/demo')
    .option('--seed <n>', 'seed', intArg(0), 0)
    .action(async (o: DemoOptions) => {
      const { summary, table } = await runDemo(o);
      const pad = (s: string, n: number) => s.padEnd(n);
      process.stdout.write(`\n${pad('metric', 32)}${pad('untrained', 12)}trained\n`);
      for (const r of table) process.stdout.write(`${pad(r.metric, 32)}${pad(r.untrained.toFixed(3), 12)}${r.trained.toFixed(3)}\n`);
      process.stdout.write(`\n${summary.steps} steps in ${summary.seconds.toFixed(0)} s (${summary.stepsPerSecond.toFixed(2)} steps/s, peak RSS ${summary.peakRssMB} MB) on ${summary.backend}\n`);
      process.stdout.write(`wrote ${join(o.out, 'summary.json')} and ${join(o.out, 'report.html')}\n`);
    });
}
