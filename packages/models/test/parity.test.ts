import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FormatError, readNpy, readSafetensors, ShapeError, ValueError, writeSafetensors, type NdArray } from '@mmc/core';
import { createViT, loadWeights, mlpHead, resamplePosEmbed, saveWeights, type ViT } from '@mmc/models';
import { expectClose } from '../../../test-setup/numeric';

/**
 * PyTorch parity: fixtures/make-parity-fixture.py (plain torch 1.13, a timm-layout ViT with seeded
 * random weights) wrote vit.safetensors, the inputs and torch's outputs. Tolerances: outputs
 * 1e-4 absolute (float32 on both sides, |values| ≲ 3); bicubic resampling 1e-5 (our float64 vs
 * torch's float32).
 */
const dir = new URL('./fixtures/', import.meta.url);
const fixtureBytes = new Uint8Array(readFileSync(new URL('vit.safetensors', dir)));
const npy = (name: string) => readNpy(new Uint8Array(readFileSync(new URL(name, dir)))) as NdArray & { data: Float32Array };
const config = { imageSize: 32, patchSize: 8, channels: 3, dim: 32, depth: 2, heads: 4, mlpRatio: 4 };
const fixture = readSafetensors(fixtureBytes);

function forward(vit: ViT, tokenMask?: tf.Tensor) {
  const x = npy('inputs.npy');
  const images = tf.tensor(x.data, x.shape);
  const out = vit.apply(images, { returnLayers: true, tokenMask });
  const r = { cls: out.cls.dataSync().slice(), patches: out.patches.dataSync().slice(), layer0: out.layers![0].dataSync().slice() };
  tf.dispose([images, out]);
  return r;
}

/** The fixture's tensors under other names (and extra keys) as a safetensors file. */
function rekeyed(rename: (k: string) => string, extra: Record<string, NdArray> = {}): Uint8Array {
  const out: Record<string, NdArray> = {};
  for (const [k, v] of Object.entries(fixture)) out[rename(k)] = v;
  return writeSafetensors({ ...out, ...extra });
}
const f32nd = (shape: number[], fill = 0): NdArray => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });

describe('PyTorch parity fixture', () => {
  it('loadWeights(timm) reproduces torch cls, patches and block-0 output within 1e-4', async () => {
    const vit = createViT({ ...config, seed: 5 });
    await loadWeights(vit, fixtureBytes, { format: 'timm' });
    const got = forward(vit);
    expect(Math.max(...npy('cls.npy').data.map(Math.abs))).toBeGreaterThan(0.5); // non-trivial outputs
    expectClose(got.cls, npy('cls.npy').data, 1e-4);
    expectClose(got.patches, npy('patches.npy').data, 1e-4);
    expectClose(got.layer0, npy('layer0.npy').data, 1e-4);
    vit.dispose();
  });

  it('pos_embed 4×4 → 6×6 matches torch bicubic (align_corners=False) within 1e-5, CLS kept', async () => {
    const ref = npy('pos_embed_resized.npy');
    const direct = resamplePosEmbed(fixture.pos_embed, [6, 6]);
    expect(direct.shape).toEqual([1, 37, 32]);
    expectClose(direct.data, ref.data, 1e-5);
    const vit = createViT({ ...config, imageSize: 48 });
    await loadWeights(vit, fixtureBytes);
    const pe = vit.variables.pos_embed.dataSync();
    expectClose(pe, ref.data, 1e-5);
    expect(Array.from(pe.slice(0, 32))).toEqual(Array.from((fixture.pos_embed.data as Float32Array).slice(0, 32)));
    vit.dispose();
  });

  it('interpolatePosEmbed: false → ShapeError naming pos_embed and both shapes', async () => {
    const vit = createViT({ ...config, imageSize: 48 });
    await expect(loadWeights(vit, fixtureBytes, { interpolatePosEmbed: false })).rejects.toThrow(/pos_embed: expected \[1, 37, 32\], got \[1, 17, 32\]/);
    vit.dispose();
  });

  it('saveWeights → bytes identical to the torch-written file; loadWeights of them gives identical outputs', async () => {
    const a = createViT({ ...config, seed: 1 });
    await loadWeights(a, fixtureBytes);
    const bytes = saveWeights(a);
    expect(bytes.length).toBe(fixtureBytes.length);
    expect(Buffer.from(bytes).equals(Buffer.from(fixtureBytes))).toBe(true);
    const back = readSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual(Object.keys(fixture).sort());
    for (const [k, v] of Object.entries(fixture)) {
      expect(back[k].shape, k).toEqual(v.shape);
      expect(Buffer.from(back[k].data.buffer).equals(Buffer.from(v.data.buffer)), k).toBe(true);
    }
    const b = createViT({ ...config, seed: 2 });
    await loadWeights(b, bytes);
    const [oa, ob] = [forward(a), forward(b)];
    expect(Array.from(ob.cls)).toEqual(Array.from(oa.cls));
    expect(Array.from(ob.patches)).toEqual(Array.from(oa.patches));
    a.dispose();
    b.dispose();
  });

  it("format 'mmc' round-trips mask_token too (outputs with a token mask identical)", async () => {
    const a = createViT({ ...config, seed: 3 });
    await loadWeights(a, fixtureBytes);
    const bytes = saveWeights(a, { format: 'mmc' });
    expect(readSafetensors(bytes).mask_token.shape).toEqual([1, 1, 32]);
    expect(readSafetensors(saveWeights(a)).mask_token).toBeUndefined();
    const b = createViT({ ...config, seed: 4 });
    await loadWeights(b, bytes, { format: 'mmc' });
    const mask = tf.tensor2d([[1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], Array(16).fill(0)]);
    expect(Array.from(forward(b, mask).cls)).toEqual(Array.from(forward(a, mask).cls));
    mask.dispose();
    a.dispose();
    b.dispose();
  });

  it('load and save leak no tensors', async () => {
    const vit = createViT({ ...config, imageSize: 48 });
    const before = tf.memory().numTensors;
    await loadWeights(vit, fixtureBytes); // with pos_embed resampling
    saveWeights(vit, { format: 'mmc' });
    await loadWeights(vit, saveWeights(vit, { format: 'mmc' }), { format: 'mmc' });
    expect(tf.memory().numTensors).toBe(before);
    vit.dispose();
  });
});

describe('resamplePosEmbed', () => {
  /** Keys' kernel written directly: W(x) for |x| ≤ 1 and 1 < |x| < 2 (a = −0.75). */
  const W = (x: number) => {
    const a = -0.75;
    const t = Math.abs(x);
    if (t <= 1) return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1;
    if (t < 2) return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a;
    return 0;
  };
  /** Independent 2-D (non-separable) loop: 16 taps per output. */
  function naive(grid: Float64Array, h: number, w: number, D: number, H: number, Wd: number): Float64Array {
    const out = new Float64Array(H * Wd * D);
    for (let oy = 0; oy < H; oy++)
      for (let ox = 0; ox < Wd; ox++) {
        const sy = ((oy + 0.5) * h) / H - 0.5;
        const sx = ((ox + 0.5) * w) / Wd - 0.5;
        for (let iy = Math.floor(sy) - 1; iy <= Math.floor(sy) + 2; iy++)
          for (let ix = Math.floor(sx) - 1; ix <= Math.floor(sx) + 2; ix++) {
            const wt = W(sy - iy) * W(sx - ix);
            const cy = Math.min(Math.max(iy, 0), h - 1);
            const cx = Math.min(Math.max(ix, 0), w - 1);
            for (let d = 0; d < D; d++) out[(oy * Wd + ox) * D + d] += wt * grid[(cy * w + cx) * D + d];
          }
      }
    return out;
  }

  it('hand case: [0, 1] upsampled to 4 gives −0.10546875, 0.2265625, 0.7734375, 1.10546875', () => {
    const pe: NdArray = { dtype: 'float64', shape: [1, 3, 1], data: new Float64Array([9, 0, 1]) };
    const r = resamplePosEmbed(pe, [1, 4], [1, 2]);
    expect(Array.from(r.data)).toEqual([9, -0.10546875, 0.2265625, 0.7734375, 1.10546875]);
  });

  it('matches a naive 2-D loop for down- and up-sampling, several sizes (1e-12)', () => {
    let seed = 1;
    for (const [h, w, H, Wd, D] of [
      [4, 4, 6, 6, 3],
      [14, 14, 30, 30, 2],
      [5, 3, 2, 7, 1],
      [1, 1, 3, 3, 2],
      [6, 6, 4, 4, 2],
    ]) {
      const data = new Float64Array((1 + h * w) * D).map(() => Math.sin(seed++ * 12.9898) * 3);
      const r = resamplePosEmbed({ dtype: 'float64', shape: [1, 1 + h * w, D], data }, [H, Wd], [h, w]);
      expect(r.shape).toEqual([1, 1 + H * Wd, D]);
      expectClose(r.data.slice(D), naive(data.slice(D), h, w, D, H, Wd), 1e-12);
      expect(Array.from(r.data.slice(0, D))).toEqual(Array.from(data.slice(0, D)));
    }
  });

  it('same grid is the identity; a constant grid stays constant', () => {
    const data = new Float64Array(17 * 2).map((_, i) => i * 0.37 - 2);
    expect(Array.from(resamplePosEmbed({ dtype: 'float64', shape: [1, 17, 2], data }, [4, 4]).data)).toEqual(Array.from(data));
    const c = resamplePosEmbed({ dtype: 'float64', shape: [1, 10, 1], data: new Float64Array(10).fill(0.5) }, [7, 5]);
    expectClose(c.data, new Float64Array(36).fill(0.5), 1e-15);
  });

  it('bad inputs', () => {
    expect(() => resamplePosEmbed({ dtype: 'float32', shape: [1, 16, 2], data: new Float32Array(32) }, [4, 4])).toThrow(ShapeError);
    expect(() => resamplePosEmbed({ dtype: 'float32', shape: [17, 2], data: new Float32Array(34) }, [4, 4])).toThrow(/posEmbed must have shape/);
    expect(() => resamplePosEmbed(fixture.pos_embed, [0, 4])).toThrow(/newGrid/);
    expect(() => resamplePosEmbed({ dtype: 'int32', shape: [1, 2, 1], data: new Int32Array(2) }, [1, 1])).toThrow(ValueError);
  });
});

describe('checkpoint formats', () => {
  const reference = async () => {
    const vit = createViT(config);
    await loadWeights(vit, fixtureBytes);
    const out = forward(vit);
    vit.dispose();
    return out;
  };
  const loadsLikeTimm = async (bytes: Uint8Array, format: Parameters<typeof loadWeights>[2] extends infer O ? O : never) => {
    const vit = createViT({ ...config, seed: 9 });
    const res = await loadWeights(vit, bytes, format);
    const out = forward(vit);
    const mask = vit.variables.mask_token.dataSync().slice();
    vit.dispose();
    expect(Array.from(out.cls)).toEqual(Array.from((await reference()).cls));
    return { ...res, mask };
  };

  it("DINO: teacher.backbone. preferred over student.module.backbone.; heads and the student ignored", async () => {
    const student = Object.fromEntries(Object.entries(fixture).map(([k, v]) => [`student.module.backbone.${k}`, f32nd(v.shape)]));
    const bytes = rekeyed((k) => `teacher.backbone.${k}`, {
      ...student,
      'teacher.head.mlp.0.weight': f32nd([8, 32], 1),
      'teacher.head.last_layer.weight_g': f32nd([1, 8]),
      'student.module.head.mlp.0.weight': f32nd([8, 32]),
    });
    const { ignored } = await loadsLikeTimm(bytes, { format: 'dino' });
    expect(ignored).toContain('teacher.head.mlp.0.weight');
    expect(ignored).toContain('student.module.backbone.cls_token');
  });

  it('DINO/SiT/MMC prefixes module.backbone., backbone., module., student.backbone. and plain names load', async () => {
    for (const [p, format] of [
      ['module.backbone.', 'dino'],
      ['backbone.', 'sit'],
      ['module.', 'mmc'],
      ['student.backbone.', 'ibot'],
      ['', 'dino'],
    ] as const) {
      await loadsLikeTimm(rekeyed((k) => p + k, { [`${p.replace('backbone.', '')}head_recons.weight`]: f32nd([4, 4]) }), { format });
    }
  });

  it("iBOT: masked_embed [1, D] → mask_token [1, 1, D]", async () => {
    const me: NdArray = { dtype: 'float32', shape: [1, 32], data: new Float32Array(32).map((_, i) => i / 10) };
    const { mask } = await loadsLikeTimm(rekeyed((k) => `teacher.backbone.${k}`, { 'teacher.backbone.masked_embed': me }), { format: 'ibot' });
    expect(Array.from(mask)).toEqual(Array.from(me.data));
  });

  it("MAE: decoder_* and the decoder's mask_token are ignored (mask_token keeps its init)", async () => {
    const init = createViT({ ...config, seed: 9 });
    const initMask = init.variables.mask_token.dataSync().slice();
    init.dispose();
    const bytes = rekeyed((k) => k, { 'decoder_embed.weight': f32nd([16, 32]), mask_token: f32nd([1, 1, 16], 7), 'decoder_pred.bias': f32nd([192]) });
    const { mask, ignored } = await loadsLikeTimm(bytes, { format: 'mae' });
    expect(Array.from(mask)).toEqual(Array.from(initMask));
    expect(ignored.sort()).toEqual(['decoder_embed.weight', 'decoder_pred.bias', 'mask_token']);
    // timm format: a [1, 1, 16] mask_token is a shape mismatch, not silently dropped.
    const vit = createViT(config);
    await expect(loadWeights(vit, bytes, { format: 'timm', strict: false })).rejects.toThrow(/mask_token: expected \[1, 1, 32\], got \[1, 1, 16\]/);
    vit.dispose();
  });

  it('MoCo v3: module.base_encoder. loads; momentum encoder, predictor and projector head ignored', async () => {
    const momentum = Object.fromEntries(Object.entries(fixture).map(([k, v]) => [`module.momentum_encoder.${k}`, f32nd(v.shape)]));
    const bytes = rekeyed((k) => `module.base_encoder.${k}`, {
      ...momentum,
      'module.base_encoder.head.0.weight': f32nd([8, 32]),
      'module.predictor.0.weight': f32nd([8, 8]),
    });
    const { ignored } = await loadsLikeTimm(bytes, { format: 'mocov3' });
    expect(ignored.length).toBe(Object.keys(fixture).length + 2);
  });

  it('heads: DINO teacher.head.* loads into an mlpHead (Linear transposed)', async () => {
    const head = mlpHead({ inDim: 32, hiddenDim: 8, outDim: 4, layers: 2 });
    const w0 = { dtype: 'float32', shape: [8, 32], data: new Float32Array(256).map((_, i) => i) } as NdArray;
    const extra: Record<string, NdArray> = {
      'teacher.head.mlp.0.weight': w0,
      'teacher.head.mlp.0.bias': f32nd([8], 1),
      'teacher.head.mlp.2.weight': f32nd([4, 8], 2),
      'teacher.head.mlp.2.bias': f32nd([4], 3),
    };
    await loadsLikeTimm(rekeyed((k) => `teacher.backbone.${k}`, extra), { format: 'dino', heads: { head } });
    const got = head.variables['mlp.0.weight'];
    expect(got.shape).toEqual([32, 8]);
    expect((got.arraySync() as number[][])[3][5]).toBe(5 * 32 + 3);
    expect(head.variables['mlp.2.bias'].dataSync()[0]).toBe(3);
    // A requested head that the file lacks is missing.
    const vit = createViT(config);
    await expect(loadWeights(vit, rekeyed((k) => `teacher.backbone.${k}`), { format: 'dino', heads: { head } })).rejects.toThrow(
      /4 weights missing.*teacher\.head\.mlp\.0\.weight/,
    );
    vit.dispose();
    head.dispose();
  });
});

describe('loadWeights errors', () => {
  it('missing keys: FormatError listing the names and the count; model left unchanged', async () => {
    const vit = createViT(config);
    const before = vit.variables['blocks.0.norm1.weight'].dataSync().slice();
    const bytes = writeSafetensors(Object.fromEntries(Object.entries(fixture).filter(([k]) => !k.startsWith('blocks.1.'))));
    const err = await loadWeights(vit, bytes).catch((e) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(/^loadWeights: 12 weights missing from the 'timm' checkpoint: blocks\.1\.norm1\.weight, .*… \(12 in all\)/);
    expect(Array.from(vit.variables['blocks.0.norm1.weight'].dataSync())).toEqual(Array.from(before));
    vit.dispose();
  });

  it('unexpected keys: FormatError listing them; strict: false loads anyway', async () => {
    const vit = createViT(config);
    const extra = rekeyed((k) => k, { 'blocks.0.attn.q_norm.weight': f32nd([8]), 'dist_token': f32nd([1, 1, 32]) });
    await expect(loadWeights(vit, extra)).rejects.toThrow(/2 unexpected keys .*blocks\.0\.attn\.q_norm\.weight, dist_token \(2\)/);
    await expect(loadWeights(vit, extra)).rejects.toBeInstanceOf(FormatError);
    await loadWeights(vit, extra, { strict: false });
    vit.dispose();
  });

  it('shape mismatches: ShapeError with name, expected (torch) and actual shapes', async () => {
    const vit = createViT({ ...config, mlpRatio: 2 });
    const err = await loadWeights(vit, fixtureBytes).catch((e) => e);
    expect(err).toBeInstanceOf(ShapeError);
    expect(err.message).toContain('blocks.0.mlp.fc1.weight: expected [64, 32], got [128, 32]');
    expect(err.message).toMatch(/^loadWeights: 6 shape mismatches/);
    vit.dispose();
    const p4 = createViT({ ...config, patchSize: 4 });
    await expect(loadWeights(p4, fixtureBytes)).rejects.toThrow(/patch_embed\.proj\.weight: expected \[32, 3, 4, 4\], got \[32, 3, 8, 8\]/);
    p4.dispose();
  });

  it('bad arguments and foreign files', async () => {
    const vit = createViT(config);
    await expect(loadWeights(vit, fixtureBytes, { format: 'beit' as never })).rejects.toThrow(/options\.format must be one of 'timm'/);
    await expect(loadWeights(vit, fixtureBytes, { strict: 1 as never })).rejects.toThrow(ValueError);
    await expect(loadWeights({} as never, fixtureBytes)).rejects.toThrow(/model must be a ViT/);
    await expect(loadWeights(vit, writeSafetensors({ 'layer1.weight': f32nd([2, 2]) }))).rejects.toThrow(/no ViT backbone keys found for format 'timm'.*layer1\.weight/);
    await expect(loadWeights(vit, rekeyed((k) => `teacher.backbone.${k}`), { format: 'timm' })).rejects.toThrow(FormatError);
    await expect(loadWeights(vit, new Uint8Array(4))).rejects.toThrow(FormatError);
    expect(() => saveWeights(vit, { format: 'npz' as never })).toThrow(/options\.format must be 'timm' or 'mmc'/);
    vit.dispose();
    await expect(loadWeights(vit, fixtureBytes)).rejects.toThrow(/disposed/);
    expect(() => saveWeights(vit)).toThrow(/disposed/);
  });
});
