#!/usr/bin/env node
// The ceiling of the demo's evaluation: prompt-segmentation mIoU of *ideal* patch features on the
// demo's held-out scenes (DEMO_CONFIG, seed 0 + 10,000, 8 × 8 tokens), scored by the same
// `thresholdSweep` as `npm run demo`. No network: each token's feature is its pixels' class
// histogram ('soft', background included) or the one-hot of its majority class ('hard'), so the
// cosine map is what a perfect semantic encoder at this token resolution would give; what it
// misses is the cost of 8 × 8 px tokens and bilinear upsampling. Thresholds beyond the paper's
// 0.1–0.4 are printed to show where an ideal map would be cut.
// Usage: npm run build && node scripts/demo-oracle.mjs
import { scenes } from '@mmc/data';
import { thresholdSweep } from '@mmc/eval';
import { DEMO_CONFIG as c } from '@mmc/cli';

const H = c.imageSize, p = c.patchSize, h = H / p;
const data = scenes({ count: c.evalCount, imageSize: H, seed: 10_000, objects: c.objects, sizeRange: c.sizeRange });
const batch = data.batch(Array.from({ length: data.count }, (_, i) => i));
let classes = 0;
for (const v of batch.classMasks) classes = Math.max(classes, v + 1);

/** [h, h, classes] features of scene b: per token the class histogram of its p × p pixels. */
function features(b, hard) {
  const cm = batch.classMasks.subarray(b * H * H, (b + 1) * H * H);
  const f = new Float32Array(h * h * classes);
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < h; col++) {
      const hist = f.subarray((r * h + col) * classes, (r * h + col + 1) * classes);
      for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) hist[cm[(r * p + i) * H + col * p + j]] += 1;
      if (hard) {
        const top = hist.indexOf(Math.max(...hist));
        hist.fill(0);
        hist[top] = 1;
      }
    }
  }
  return f;
}

for (const hard of [false, true]) {
  const samples = [];
  for (let b = 0; b < data.count; b++) {
    const f = features(b, hard);
    const cm = batch.classMasks.subarray(b * H * H, (b + 1) * H * H);
    for (const obj of batch.objects[b]) {
      const target = Uint8Array.from(cm, (k) => (k === obj.classId ? 1 : 0));
      samples.push({
        patches: { data: f, shape: [h, h, classes] },
        prompt: { x: obj.centerCol, y: obj.centerRow, imageSize: H },
        target: { data: target, shape: [H, H] },
        classId: obj.classId,
      });
    }
  }
  const s = thresholdSweep(samples, { thresholds: [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9] });
  const byT = Object.entries(s.miouByThreshold).map(([t, v]) => `${t}: ${v.toFixed(3)}`).join(', ');
  console.log(`${hard ? 'hard (majority one-hot)' : 'soft (class histogram)'}: ${byT}; ${samples.length} prompts`);
}
