/**
 * Writes PNG contact sheets of generated scenes, for a visual check:
 *   /tmp/scenes.png          16 `scenes` images, each beside its class mask (centres marked)
 *   /tmp/fashion-scenes.png  the same for `fashionScenes` (when Fashion-MNIST is installed)
 *
 * Run from the repository root:
 *   npx esbuild packages/data/scripts/contactSheet.ts --bundle --platform=node --format=esm \
 *     --external:@tensorflow/* --alias:@mmc/core=./packages/core/src/index.ts --outfile=/tmp/sheet.mjs
 *   node /tmp/sheet.mjs [outDir]
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fashionMnist, fashionScenes, scenes, type SceneDataset } from '../src/index.js';

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Minimal PNG encoder: 8-bit RGB, filter 0 on every row. */
function encodePng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const raw = new Uint8Array(height * (1 + 3 * width));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * 3 * width, (y + 1) * 3 * width), y * (1 + 3 * width) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const MASK_COLORS = [
  [0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
  [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
];

/** 4 × 4 grid of (image | class mask) pairs, `zoom`× nearest upscaling, 4-px gutters. */
function sheet(ds: SceneDataset, path: string, zoom = 2): void {
  const S = ds.imageSize;
  const cell = S * zoom;
  const gap = 4;
  const cols = 4;
  const rows = 4;
  const W = cols * (2 * cell + 3 * gap) + gap;
  const H = rows * (cell + gap) + gap;
  const rgb = new Uint8Array(W * H * 3).fill(255);
  const put = (x: number, y: number, c: ArrayLike<number>) => rgb.set([c[0], c[1], c[2]], (y * W + x) * 3);
  for (let n = 0; n < rows * cols && n < ds.count; n++) {
    const ox = gap + (n % cols) * (2 * cell + 3 * gap);
    const oy = gap + Math.floor(n / cols) * (cell + gap);
    for (let y = 0; y < cell; y++) {
      for (let x = 0; x < cell; x++) {
        const p = n * S * S + Math.floor(y / zoom) * S + Math.floor(x / zoom);
        const px = [0, 1, 2].map((c) => Math.round(255 * ds.images[p * 3 + c]));
        put(ox + x, oy + y, px);
        put(ox + cell + gap + x, oy + y, MASK_COLORS[ds.classMasks[p] % MASK_COLORS.length]);
      }
    }
    for (const o of ds.objects[n]) {
      // centre marker: a 3×3 white square with a black dot on the mask panel
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const x = ox + cell + gap + o.centerCol * zoom + dx + 1;
          const y = oy + o.centerRow * zoom + dy + 1;
          put(x, y, dx === 0 && dy === 0 ? [0, 0, 0] : [255, 255, 255]);
        }
      }
    }
  }
  writeFileSync(path, encodePng(rgb, W, H));
  console.log(`wrote ${path} (${W}×${H})`);
  for (let n = 0; n < 16 && n < ds.count; n++) {
    console.log(`  ${n}: ${ds.objects[n].map((o) => `${ds.classNames[o.classId]}(${o.area}px @${o.centerRow},${o.centerCol})`).join(', ')}`);
  }
}

const out = process.argv[2] ?? '/tmp';
sheet(scenes({ count: 16, seed: 1 }), `${out}/scenes.png`);
try {
  const source = await fashionMnist({ split: 'test' });
  sheet(fashionScenes({ count: 16, seed: 1, source }), `${out}/fashion-scenes.png`);
} catch (e) {
  console.log(`fashion-scenes.png skipped: ${(e as Error).message}`);
}
