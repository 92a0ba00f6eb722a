import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, FormatError, readSafetensors, ShapeError, ValueError, writeSafetensors } from '@mmc/core';
import { readNpyFile } from '@mmc/core/node';
import { scenes } from '@mmc/data';
import { createViT, saveWeights, type ViT } from '@mmc/models';
import { decodeImage } from '../src/images.js';
import { fixtureDir, runMmc } from './evalCli.js';

// A tiny ViT: 16×16 input, patch 4 (4×4 grid), width 8.
const CONFIG = { imageSize: 16, patchSize: 4, dim: 8, depth: 2, heads: 2, seed: 3 };
const ARCH = ['--image-size', '16', '--patch-size', '4', '--dim', '8', '--depth', '2', '--heads', '2'];
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** An 8-bit image written as PNG/JPEG and its RGB values in [0, 1] (float64), independent of the decoders. */
interface Fixture {
  name: string;
  height: number;
  width: number;
  rgb: Float64Array;
}

/** Plain float64 bilinear resize with half-pixel centres (TF's half_pixel_centers / torch align_corners=False, no antialias). */
function resizeRef(src: Float64Array, h: number, w: number, S: number): Float64Array {
  if (h === S && w === S) return src;
  const out = new Float64Array(S * S * 3);
  const sy = h / S;
  const sx = w / S;
  for (let y = 0; y < S; y++) {
    const fy = Math.max((y + 0.5) * sy - 0.5, 0);
    const y0 = Math.min(Math.floor(fy), h - 1);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < S; x++) {
      const fx = Math.max((x + 0.5) * sx - 0.5, 0);
      const x0 = Math.min(Math.floor(fx), w - 1);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const v = (yy: number, xx: number) => src[(yy * w + xx) * 3 + c];
        const top = v(y0, x0) * (1 - dx) + v(y0, x1) * dx;
        const bot = v(y1, x0) * (1 - dx) + v(y1, x1) * dx;
        out[(y * S + x) * 3 + c] = top * (1 - dy) + bot * dy;
      }
    }
  }
  return out;
}

/** Expected CLS / patches: the reference-resized, ImageNet-normalised images through `vit.apply`. */
function expected(vit: ViT, images: Float64Array[], norm: { mean: number[]; std: number[] }) {
  const S = CONFIG.imageSize;
  const flat = new Float32Array(images.length * S * S * 3);
  images.forEach((im, b) => {
    for (let i = 0; i < S * S * 3; i++) flat[b * S * S * 3 + i] = (im[i] - norm.mean[i % 3]) / norm.std[i % 3];
  });
  const out = vit.apply(tf.tensor4d(flat, [images.length, S, S, 3]));
  const r = { cls: out.cls.dataSync().slice(), patches: out.patches.dataSync().slice() };
  tf.dispose(out);
  return r;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const fx = fixtureDir('embed');
let vit: ViT;
let weights: string;
let fixtures: Fixture[];
const imagesDir = join(fx.dir, 'images');

beforeAll(async () => {
  await tf.setBackend('cpu');
  vit = createViT(CONFIG);
  weights = fx.path('vit.safetensors');
  writeFileSync(weights, saveWeights(vit));
  mkdirSync(imagesDir);
  const rng = createRng(11);
  // Names chosen so that name order differs from creation order; sizes: exact, up- and down-scaled.
  const specs = [
    { name: 'c.png', height: 16, width: 16, channels: 3 },
    { name: 'a.png', height: 10, width: 24, channels: 4 },
    { name: 'b.png', height: 7, width: 5, channels: 1 },
  ];
  fixtures = specs.map((s) => {
    const bytes = new Uint8Array(s.height * s.width * s.channels).map(() => rng.int(256));
    writeFileSync(join(imagesDir, s.name), encodePng({ width: s.width, height: s.height, data: bytes, channels: s.channels, depth: 8 }));
    const rgb = new Float64Array(s.height * s.width * 3);
    for (let i = 0; i < s.height * s.width; i++) {
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = bytes[i * s.channels + (s.channels === 1 ? 0 : c)] / 255;
    }
    return { name: s.name, height: s.height, width: s.width, rgb };
  });
  fixtures.sort((x, y) => (x.name < y.name ? -1 : 1));
  writeFileSync(join(imagesDir, 'notes.txt'), 'not an image'); // ignored: not .png/.jpg
});
afterAll(() => {
  vit?.dispose();
  fx.cleanup();
});

describe('mmc embed --images', () => {
  it('writes CLS features equal to vit.apply on the resized, normalised images, and files.json in name order', async () => {
    const out = fx.path('out/feats.npy');
    const r = await runMmc(['embed', '--weights', weights, ...ARCH, '--images', imagesDir, '--out', out, '--batch-size', '2', '--backend', 'cpu']);
    expect(r.error).toBeUndefined();
    expect(r.stderr).toMatch(/embed 3\/3 images/);
    const cls = await readNpyFile(out);
    expect(cls.shape).toEqual([3, 8]);
    expect(JSON.parse(readFileSync(fx.path('out/feats.files.json'), 'utf8'))).toEqual(['a.png', 'b.png', 'c.png']);
    const resized = fixtures.map((f) => resizeRef(f.rgb, f.height, f.width, 16));
    const want = expected(vit, resized, IMAGENET);
    const err = maxAbs(cls.data as Float32Array, want.cls);
    expect(err).toBeLessThan(1e-5);
  });

  it('--tokens both writes <base>.cls.npy [n, D] and <base>.patches.npy [n, h, w, D]; --normalize none', async () => {
    const out = fx.path('both.npy');
    const r = await runMmc(['embed', '--weights', weights, ...ARCH, '--images', imagesDir, '--out', out, '--tokens', 'both', '--normalize', 'none', '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    const cls = await readNpyFile(fx.path('both.cls.npy'));
    const patches = await readNpyFile(fx.path('both.patches.npy'));
    expect(cls.shape).toEqual([3, 8]);
    expect(patches.shape).toEqual([3, 4, 4, 8]);
    const want = expected(vit, fixtures.map((f) => resizeRef(f.rgb, f.height, f.width, 16)), { mean: [0, 0, 0], std: [1, 1, 1] });
    expect(maxAbs(cls.data as Float32Array, want.cls)).toBeLessThan(1e-5);
    expect(maxAbs(patches.data as Float32Array, want.patches)).toBeLessThan(1e-5);
  });

  it('reads JPEG files too (decoded by jpeg-js)', async () => {
    const dir = fx.path('jpeg');
    mkdirSync(dir);
    const rgba = new Uint8Array(16 * 16 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));
    writeFileSync(join(dir, 'x.jpg'), jpeg.encode({ width: 16, height: 16, data: rgba }, 95).data);
    writeFileSync(join(dir, 'y.JPEG'), jpeg.encode({ width: 16, height: 16, data: rgba }, 95).data);
    const out = join(dir, 'f.npy');
    const r = await runMmc(['embed', '--weights', weights, ...ARCH, '--images', dir, '--out', out, '--tokens', 'patches', '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeUndefined();
    const p = await readNpyFile(out);
    expect(p.shape).toEqual([2, 4, 4, 8]);
    const d = p.data as Float32Array;
    expect(maxAbs(d.subarray(0, 128), d.subarray(128))).toBe(0); // same image, same features
  });
});

describe('decodeImage', () => {
  it('16-bit RGB and 8-bit gray+alpha PNGs → RGB in [0, 1] (alpha dropped)', () => {
    const rgb16 = new Uint16Array([0, 65535, 32768, 1000, 2000, 3000]);
    const a = decodeImage('t', 'a.png', encodePng({ width: 2, height: 1, data: rgb16, channels: 3, depth: 16 }));
    expect([a.width, a.height]).toEqual([2, 1]);
    expect(maxAbs(a.data, Array.from(rgb16, (v) => v / 65535))).toBeLessThan(1e-7);
    const ga = new Uint8Array([10, 255, 200, 0]);
    const b = decodeImage('t', 'b.png', encodePng({ width: 1, height: 2, data: ga, channels: 2, depth: 8 }));
    expect(maxAbs(b.data, [10, 10, 10, 200, 200, 200].map((v) => v / 255))).toBeLessThan(1e-7);
  });
});

describe('mmc embed --data scenes', () => {
  it('embeds generated scenes (patches) like vit.apply on the normalised batch', async () => {
    const out = fx.path('scenes.npy');
    const r = await runMmc(['embed', '--weights', weights, ...ARCH, '--data', 'scenes', '--count', '5', '--seed', '2', '--batch-size', '2', '--tokens', 'patches', '--normalize', 'scenes', '--out', out, '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeUndefined();
    const p = await readNpyFile(out);
    expect(p.shape).toEqual([5, 4, 4, 8]);
    const batch = scenes({ count: 5, imageSize: 16, seed: 2 }).batch([0, 1, 2, 3, 4]);
    const imgs = Array.from({ length: 5 }, (_, b) => Float64Array.from(batch.images.subarray(b * 768, (b + 1) * 768)));
    const want = expected(vit, imgs, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    expect(maxAbs(p.data as Float32Array, want.patches)).toBeLessThan(1e-5);
  });
});

describe('mmc embed errors', () => {
  const base = () => ['embed', '--weights', weights, ...ARCH, '--out', fx.path('err.npy'), '--backend', 'cpu', '--quiet'];

  it('a missing folder, a folder without images, an undecodable file (named)', async () => {
    let r = await runMmc([...base(), '--images', fx.path('nope')]);
    expect(r.error).toBeInstanceOf(ValueError);
    expect(r.error!.message).toMatch(/--images folder .*nope' does not exist/);

    const empty = fx.path('empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'readme.md'), '#');
    r = await runMmc([...base(), '--images', empty]);
    expect(r.error).toBeInstanceOf(ValueError);
    expect(r.error!.message).toMatch(/no images/);

    const bad = fx.path('bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'a.png'), readFileSync(join(imagesDir, 'a.png')));
    writeFileSync(join(bad, 'broken.png'), readFileSync(join(imagesDir, 'a.png')).subarray(0, 60));
    writeFileSync(join(bad, 'c.jpg'), 'plain text');
    r = await runMmc([...base(), '--images', bad]);
    expect(r.error).toBeInstanceOf(FormatError);
    expect(r.error!.message).toMatch(/cannot decode image 'broken\.png'/);
    writeFileSync(join(bad, 'broken.png'), readFileSync(join(imagesDir, 'a.png')));
    r = await runMmc([...base(), '--images', bad]);
    expect(r.error).toBeInstanceOf(FormatError);
    expect(r.error!.message).toMatch(/cannot decode image 'c\.jpg': not a PNG or JPEG/);
  });

  it("passes loadWeights' errors through: wrong architecture (ShapeError), wrong layout (FormatError)", async () => {
    let r = await runMmc(['embed', '--weights', weights, '--image-size', '16', '--patch-size', '4', '--dim', '16', '--depth', '2', '--heads', '2', '--data', 'scenes', '--count', '2', '--out', fx.path('e.npy'), '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeInstanceOf(ShapeError);
    expect(r.error!.message).toMatch(/loadWeights/);
    // A DINO-style file (teacher.backbone.*) read as timm: every backbone key is missing.
    const dino = fx.path('dino.safetensors');
    const timm = readSafetensors(readFileSync(weights));
    writeFileSync(dino, writeSafetensors(Object.fromEntries(Object.entries(timm).map(([k, v]) => [`teacher.backbone.${k}`, v]))));
    r = await runMmc(['embed', '--weights', dino, '--format', 'timm', ...ARCH, '--data', 'scenes', '--count', '2', '--out', fx.path('e.npy'), '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeInstanceOf(FormatError);
    expect(r.error!.message).toMatch(/loadWeights: no ViT backbone keys found for format 'timm'/);
    // …and with the right format it loads.
    r = await runMmc(['embed', '--weights', dino, '--format', 'dino', ...ARCH, '--data', 'scenes', '--count', '2', '--out', fx.path('e.npy'), '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeUndefined();
  });

  it('flag errors: no input, both inputs, missing architecture, unknown format/tokens/normalize, missing weights file', async () => {
    const cases: [string[], RegExp][] = [
      [['embed', '--weights', weights, ...ARCH, '--out', fx.path('x.npy')], /exactly one of --images <dir> and --data scenes/],
      [['embed', '--weights', weights, ...ARCH, '--out', fx.path('x.npy'), '--images', imagesDir, '--data', 'scenes'], /exactly one of/],
      [['embed', '--weights', weights, '--dim', '8', '--data', 'scenes', '--out', fx.path('x.npy')], /missing --depth, --heads/],
      [['embed', '--weights', weights, ...ARCH, '--format', 'clip', '--data', 'scenes', '--out', fx.path('x.npy')], /--format must be one of timm, dino/],
      [['embed', '--weights', weights, ...ARCH, '--tokens', 'all', '--data', 'scenes', '--out', fx.path('x.npy')], /--tokens must be one of cls, patches, both, got 'all'/],
      [['embed', '--weights', weights, ...ARCH, '--normalize', 'clip', '--data', 'scenes', '--out', fx.path('x.npy')], /--normalize must be one of imagenet, scenes, none/],
      [['embed', '--weights', weights, '--preset', 'huge', '--data', 'scenes', '--out', fx.path('x.npy')], /--preset must be one of tiny, small, base/],
      [['embed', '--weights', fx.path('missing.safetensors'), ...ARCH, '--data', 'scenes', '--out', fx.path('x.npy')], /cannot read --weights '.*missing\.safetensors'/],
    ];
    for (const [args, re] of cases) {
      const r = await runMmc([...args, '--backend', 'cpu', '--quiet']);
      expect(r.error, args.join(' ')).toBeInstanceOf(ValueError);
      expect(r.error!.message).toMatch(re);
    }
    const r = await runMmc(['embed', '--weights', weights, '--data', 'scenes']);
    expect(r.error?.message).toMatch(/--out/); // commander: required option
  });
});
