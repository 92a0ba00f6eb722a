#!/usr/bin/env node
/**
 * Writes a labelled image set as .npy files for a model outside this library to embed:
 * `scenes` (generated 64×64 images of textured objects) with their class masks, one prompt per
 * image (the centre of its first object) and per-patch labels for the similarity distributions.
 *
 *   node examples/third-party-embeddings/make-data.mjs [--count 200] [--patch 8] [--out runs/third-party]
 *
 * Files (row-major, NHWC): images.npy float32 [N, 64, 64, 3] in [0, 1]; targets.npy uint8 [N, 64, 64]
 * (0 background, 1… class); prompts.npy float32 [N, 2] pixel (y, x); classes.npy int32 [N] (the
 * prompted object's class, also the image's label for k-NN); patch-labels.npy int32 [N, h, w]
 * (−1 = background or mixed patch).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeNpy } from '@mmc/core';
import { scenes } from '@mmc/data';
import { patchLabels } from '@mmc/eval';

const { values: o } = parseArgs({
  options: { count: { type: 'string', default: '200' }, patch: { type: 'string', default: '8' }, out: { type: 'string', default: 'runs/third-party' }, seed: { type: 'string', default: '0' } },
});
const N = Number(o.count);
const p = Number(o.patch);
const H = 64;
const data = scenes({ count: N, imageSize: H, seed: Number(o.seed) });
const prompts = new Float32Array(N * 2);
const classes = new Int32Array(N);
const labels = new Int32Array(N * (H / p) ** 2);
for (let i = 0; i < N; i++) {
  const first = data.objects[i][0];
  prompts.set([first.centerRow, first.centerCol], i * 2);
  classes[i] = first.classId;
  labels.set(patchLabels(data.classMasks.subarray(i * H * H, (i + 1) * H * H), [H, H], { patchSize: p }), i * (H / p) ** 2);
}
mkdirSync(o.out, { recursive: true });
const save = (name, dtype, shape, values) => writeFileSync(join(o.out, name), writeNpy({ dtype, shape, data: values }));
save('images.npy', 'float32', [N, H, H, 3], data.images);
save('targets.npy', 'uint8', [N, H, H], data.classMasks);
save('prompts.npy', 'float32', [N, 2], prompts);
save('classes.npy', 'int32', [N], classes);
save('patch-labels.npy', 'int32', [N, H / p, H / p], labels);
console.log(`wrote ${N} images with masks, prompts and patch labels to ${o.out}`);
