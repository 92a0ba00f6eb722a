/**
 * Times `scenes` (not a test: tests never assert time). Run from the repository root:
 *   npx esbuild packages/data/scripts/bench.ts --bundle --platform=node --format=esm \
 *     --external:@tensorflow/* --alias:@mmc/core=./packages/core/src/index.ts --outfile=/tmp/bench.mjs
 *   node /tmp/bench.mjs [count=10000] [imageSize=64]
 */
import { scenes } from '../src/index.js';

const count = Number(process.argv[2] ?? 10000);
const imageSize = Number(process.argv[3] ?? 64);
scenes({ count: 50, imageSize, seed: 1 }); // warm-up
const t0 = performance.now();
const ds = scenes({ count, imageSize, seed: 0 });
const ms = performance.now() - t0;
const objects = ds.objects.reduce((n, o) => n + o.length, 0);
console.log(`scenes: ${count} × ${imageSize}² in ${(ms / 1000).toFixed(2)} s (${((1000 * ms) / count).toFixed(0)} µs/scene), ${(objects / count).toFixed(2)} objects/scene`);
