import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, MmcError, ShapeError, ValueError } from '@mmc/core';
import { createViT, vitBase, vitSmall, vitTiny, vitVariableShapes, type ViT, type ViTConfig } from '@mmc/models';
import { expectClose, expectNoLeak, f32, largestErrorSeen, randn } from '../../../test-setup/numeric';
import { vitForward64, type RefConfig } from './reference';

let forwardErr = 0;
let gradErr = 0;
const small: ViTConfig = { imageSize: 16, patchSize: 4, dim: 32, depth: 2, heads: 2 };

function read(v: tf.Tensor): Float64Array {
  return Float64Array.from(v.dataSync());
}

/** Overwrites every variable with seeded values big enough to make attention non-uniform. */
function randomise(vit: ViT, seed: number): void {
  let s = seed;
  for (const [name, v] of Object.entries(vit.variables)) {
    s += 1;
    let data: Float64Array;
    if (/norm\d?\.weight$/.test(name)) data = randn(s, v.size, 0.2).map((x) => Math.fround(1 + x));
    else if (name.endsWith('bias')) data = randn(s, v.size, 0.1);
    else if (name === 'patch_embed.proj.weight') data = randn(s, v.size, 0.3);
    else data = randn(s, v.size, 0.4);
    tf.tidy(() => v.assign(tf.tensor(f32(data), v.shape)));
  }
}

function weights64(vit: ViT): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(vit.variables)) out[k] = read(v);
  return out;
}

function refConfig(vit: ViT): RefConfig {
  const c = vit.config;
  return {
    imageSize: c.imageSize,
    patchSize: c.patchSize,
    channels: c.channels,
    dim: c.dim,
    depth: c.depth,
    heads: c.heads,
    hidden: Math.floor(c.dim * c.mlpRatio),
    qkvBias: c.qkvBias,
    eps: c.layerNormEps,
  };
}

describe('presets and config', () => {
  it('presets give the timm sizes and accept overrides', () => {
    expect(vitTiny()).toMatchObject({ imageSize: 224, patchSize: 16, channels: 3, dim: 192, depth: 12, heads: 3, mlpRatio: 4, qkvBias: true, layerNormEps: 1e-6 });
    expect(vitSmall()).toMatchObject({ dim: 384, depth: 12, heads: 6 });
    expect(vitBase()).toMatchObject({ dim: 768, depth: 12, heads: 12 });
    expect(vitTiny({ imageSize: 32, patchSize: 4, depth: 6 })).toMatchObject({ imageSize: 32, patchSize: 4, depth: 6, dim: 192 });
  });

  it('parameter counts equal timm num_classes=0 models (+ D for mask_token)', () => {
    const count = (c: ViTConfig) => Object.values(vitVariableShapes(c)).reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
    expect(count(vitTiny()) - 192).toBe(5_524_416);
    expect(count(vitSmall()) - 384).toBe(21_665_664);
    expect(count(vitBase()) - 768).toBe(85_798_656);
    expect(count(vitSmall({ qkvBias: false })) - 384).toBe(21_665_664 - 12 * 3 * 384);
  });

  it('validates the config with ValueErrors naming the field', () => {
    const bad: Array<[Partial<ViTConfig>, RegExp]> = [
      [{ heads: 3 }, /config\.heads must divide config\.dim=32, got 3/],
      [{ patchSize: 5 }, /config\.patchSize must divide config\.imageSize=16, got 5/],
      [{ dim: 0 }, /config\.dim must be an integer >= 1, got 0/],
      [{ depth: 1.5 }, /config\.depth must be an integer >= 1, got 1\.5/],
      [{ imageSize: -16 }, /config\.imageSize/],
      [{ channels: 0 }, /config\.channels/],
      [{ mlpRatio: 0 }, /config\.mlpRatio must be > 0/],
      [{ mlpRatio: 0.01 }, /config\.mlpRatio must give a hidden size/],
      [{ layerNormEps: 0 }, /config\.layerNormEps/],
      [{ qkvBias: 1 as unknown as boolean }, /config\.qkvBias must be a boolean/],
      [{ seed: 0.5 }, /config\.seed must be a safe integer/],
    ];
    for (const [override, msg] of bad) {
      expect(() => createViT({ ...small, ...override })).toThrow(ValueError);
      expect(() => createViT({ ...small, ...override })).toThrow(msg);
    }
    expect(() => createViT(null as unknown as ViTConfig)).toThrow(/createViT: config must be a ViTConfig/);
  });
});

describe('createViT', () => {
  it('has timm variable names and shapes in @mmc layout, all trainable', () => {
    const vit = createViT({ ...small, depth: 1 });
    const names = Object.keys(vit.variables);
    expect(names).toEqual([
      'cls_token', 'pos_embed', 'mask_token', 'patch_embed.proj.weight', 'patch_embed.proj.bias',
      'blocks.0.norm1.weight', 'blocks.0.norm1.bias', 'blocks.0.attn.qkv.weight', 'blocks.0.attn.qkv.bias',
      'blocks.0.attn.proj.weight', 'blocks.0.attn.proj.bias', 'blocks.0.norm2.weight', 'blocks.0.norm2.bias',
      'blocks.0.mlp.fc1.weight', 'blocks.0.mlp.fc1.bias', 'blocks.0.mlp.fc2.weight', 'blocks.0.mlp.fc2.bias',
      'norm.weight', 'norm.bias',
    ]);
    expect(vit.variables.pos_embed.shape).toEqual([1, 17, 32]);
    expect(vit.variables['patch_embed.proj.weight'].shape).toEqual([48, 32]);
    expect(vit.variables['blocks.0.attn.qkv.weight'].shape).toEqual([32, 96]);
    expect(vit.variables['blocks.0.mlp.fc1.weight'].shape).toEqual([32, 128]);
    expect(vit.trainableVariables()).toHaveLength(names.length);
    expect(vit.numParams).toBe(Object.values(vit.variables).reduce((a, v) => a + v.size, 0));
    expect(vit.numPatches).toBe(16);
    vit.dispose();
  });

  it('output shapes for every preset, with and without mask and returnLayers', () => {
    for (const preset of [vitTiny, vitSmall, vitBase]) {
      const vit = createViT(preset({ imageSize: 32, depth: 1 }));
      const D = vit.config.dim;
      const x = tf.randomNormal([2, 32, 32, 3]);
      const mask = tf.tensor2d([[1, 0, 0, 1], [0, 0, 0, 0]]);
      const a = vit.apply(x);
      expect(a.cls.shape).toEqual([2, D]);
      expect(a.patches.shape).toEqual([2, 4, D]);
      expect(a.layers).toBeUndefined();
      const b = vit.apply(x, { tokenMask: mask, returnLayers: true, training: true });
      expect(b.cls.shape).toEqual([2, D]);
      expect(b.patches.shape).toEqual([2, 4, D]);
      expect(b.layers!.map((l) => l.shape)).toEqual([[2, 5, D]]);
      tf.dispose([x, mask, a, b]);
      vit.dispose();
    }
  });

  it('matches an independent float64 forward (atol 2e-5)', () => {
    const cases: Array<[ViTConfig, number, boolean]> = [
      [{ imageSize: 8, patchSize: 4, channels: 1, dim: 8, depth: 1, heads: 1, qkvBias: false, seed: 3 }, 1, false],
      [{ imageSize: 12, patchSize: 4, channels: 3, dim: 16, depth: 2, heads: 2, mlpRatio: 1.5, seed: 4 }, 2, true],
      [{ imageSize: 8, patchSize: 2, channels: 2, dim: 12, depth: 2, heads: 3, layerNormEps: 1e-5, seed: 5 }, 3, true],
    ];
    let seed = 100;
    for (const [config, B, withMask] of cases) {
      const vit = createViT(config);
      randomise(vit, seed);
      const { imageSize: S, channels: C } = vit.config;
      const N = vit.numPatches;
      const img = randn(seed + 1, B * S * S * C);
      const mask = withMask ? Float64Array.from({ length: B * N }, (_, i) => ((i * 7 + seed) % 3 === 0 ? 1 : 0)) : null;
      seed += 10;
      const x = tf.tensor4d(f32(img), [B, S, S, C]);
      const m = mask ? tf.tensor2d(f32(mask), [B, N]) : undefined;
      const out = vit.apply(x, { tokenMask: m, returnLayers: true });
      const ref = vitForward64(refConfig(vit), weights64(vit), img, B, mask);
      forwardErr = Math.max(forwardErr, expectClose(out.cls.dataSync(), ref.cls, 2e-5));
      forwardErr = Math.max(forwardErr, expectClose(out.patches.dataSync(), ref.patches, 2e-5));
      out.layers!.forEach((l, i) => expectClose(l.dataSync(), ref.layers[i], 1e-5, 1e-5));
      const e = vit.embed(x, m);
      expectClose(e.dataSync(), ref.embed, 1e-5);
      tf.dispose([x, m, out, e]);
      vit.dispose();
    }
  });

  it('gradients reach every variable and match central differences of the float64 forward (atol 5e-5 + 5e-5·max)', () => {
    const vit = createViT({ imageSize: 8, patchSize: 4, channels: 2, dim: 8, depth: 1, heads: 2, seed: 9 });
    randomise(vit, 900);
    const B = 2;
    const N = vit.numPatches;
    const img = randn(901, B * 8 * 8 * 2);
    const mask = Float64Array.from([1, 0, 0, 1, 0, 1, 0, 0]);
    const rc = randn(902, B * 8);
    const rp = randn(903, B * N * 8);
    const x = tf.tensor4d(f32(img), [B, 8, 8, 2]);
    const m = tf.tensor2d(f32(mask), [B, N]);
    const tc = tf.tensor2d(f32(rc), [B, 8]);
    const tp = tf.tensor3d(f32(rp), [B, N, 8]);
    const { value, grads } = tf.variableGrads(() => {
      const o = vit.apply(x, { tokenMask: m });
      return tf.add(tf.sum(tf.mul(o.cls, tc)), tf.sum(tf.mul(o.patches, tp))) as tf.Scalar;
    }, vit.trainableVariables());
    const W = weights64(vit);
    const cfg = refConfig(vit);
    const loss64 = (w: Record<string, Float64Array>) => {
      const r = vitForward64(cfg, w, img, B, mask);
      let s = 0;
      for (let i = 0; i < r.cls.length; i++) s += r.cls[i] * rc[i];
      for (let i = 0; i < r.patches.length; i++) s += r.patches[i] * rp[i];
      return s;
    };
    expectClose([value.dataSync()[0]], [loss64(W)], 1e-4, 1e-5);
    const rng = createRng(7);
    const h = 1e-5;
    for (const [name, v] of Object.entries(vit.variables)) {
      const g = grads[v.name];
      expect(g, name).toBeDefined();
      const gd = g.dataSync();
      expect(gd.every(Number.isFinite), name).toBe(true);
      expect(gd.some((e) => e !== 0), name).toBe(true);
      const got: number[] = [];
      const want: number[] = [];
      for (let t = 0; t < 3; t++) {
        const i = rng.int(v.size);
        const w = W[name];
        const orig = w[i];
        w[i] = orig + h;
        const fp = loss64(W);
        w[i] = orig - h;
        const fm = loss64(W);
        w[i] = orig;
        got.push(gd[i]);
        want.push((fp - fm) / (2 * h));
      }
      gradErr = Math.max(gradErr, expectClose(got, want, 5e-5, 5e-5));
    }
    tf.dispose([x, m, tc, tp, value, grads as unknown as tf.Tensor[]]);
    tf.dispose(Object.values(grads));
    vit.dispose();
  });

  it('mask token replaces exactly the masked embeddings; an all-zero mask equals no mask', () => {
    const vit = createViT({ ...small, seed: 1 });
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5);
    const maskData = new Float32Array(32);
    [0, 3, 17, 31].forEach((i) => (maskData[i] = 1));
    const mask = tf.tensor2d(maskData, [2, 16]);
    const plain = vit.embed(x).arraySync() as number[][][];
    const masked = vit.embed(x, mask).arraySync() as number[][][];
    const tok = vit.variables.mask_token.dataSync();
    const pos = vit.variables.pos_embed.dataSync();
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 17; t++) {
        const isMasked = t > 0 && maskData[b * 16 + t - 1] === 1;
        for (let d = 0; d < 32; d++) {
          if (isMasked) expect(masked[b][t][d]).toBeCloseTo(tok[d] + pos[t * 32 + d], 6);
          else expect(masked[b][t][d]).toBe(plain[b][t][d]);
        }
        if (isMasked) expect(masked[b][t]).not.toEqual(plain[b][t]);
      }
    }
    const zero = tf.zeros([2, 16]);
    const boolMask = tf.cast(mask, 'bool');
    const a = vit.apply(x);
    const z = vit.apply(x, { tokenMask: zero });
    expect(Array.from(z.cls.dataSync())).toEqual(Array.from(a.cls.dataSync()));
    expect(Array.from(z.patches.dataSync())).toEqual(Array.from(a.patches.dataSync()));
    const mb = vit.apply(x, { tokenMask: boolMask });
    const mf = vit.apply(x, { tokenMask: mask });
    expect(Array.from(mb.patches.dataSync())).toEqual(Array.from(mf.patches.dataSync()));
    tf.dispose([x, mask, zero, boolMask, a, z, mb, mf]);
    vit.dispose();
  });

  it('mask_token gets gradient only when a token is masked', () => {
    const vit = createViT({ ...small, depth: 1 });
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 6);
    const gradOfMaskToken = (mask: tf.Tensor | undefined) =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(vit.apply(x, { tokenMask: mask }).patches.square()) as tf.Scalar, [
          vit.variables.mask_token,
          vit.variables.pos_embed,
        ]);
        return grads[vit.variables.mask_token.name];
      });
    const none = gradOfMaskToken(undefined);
    expect(none).toBeUndefined();
    const zeros = tf.zeros([2, 16]);
    const gz = gradOfMaskToken(zeros)!;
    expect(Array.from(gz.dataSync()).every((v) => v === 0)).toBe(true);
    const one = tf.oneHot([5, 0], 16);
    const g1 = gradOfMaskToken(one)!;
    expect(Array.from(g1.dataSync()).some((v) => v !== 0)).toBe(true);
    tf.dispose([x, zeros, gz, one, g1]);
    vit.dispose();
  });

  it('uses no transposed matMul in the forward or backward pass', () => {
    const vit = createViT(small);
    const x = tf.randomNormal([2, 16, 16, 3]);
    const engine = tf.engine() as unknown as { runKernel: (name: string, inputs: unknown, attrs?: Record<string, unknown>) => unknown };
    const original = engine.runKernel;
    let plain = 0;
    let transposed = 0;
    engine.runKernel = function (name, inputs, attrs) {
      if (name === 'BatchMatMul') {
        if (attrs?.transposeA || attrs?.transposeB) transposed += 1;
        else plain += 1;
      }
      return original.call(this, name, inputs, attrs);
    };
    try {
      tf.tidy(() => tf.variableGrads(() => tf.sum(vit.apply(x, { tokenMask: tf.ones([2, 16]) }).cls) as tf.Scalar, vit.trainableVariables()));
    } finally {
      engine.runKernel = original;
    }
    expect(plain).toBeGreaterThan(0);
    expect(transposed).toBe(0);
    x.dispose();
    vit.dispose();
  });

  it('initialises deterministically on the host: values equal an independent re-generation', () => {
    const fnv = (s: string) => {
      let h = 0x811c9dc5;
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
      return h;
    };
    const regen = (seed: number, name: string, n: number, kind: 'trunc' | 'xavier', fanIn = 0, fanOut = 0) => {
      const a = createRng(seed).getState();
      const b = createRng(fnv(name)).getState();
      const rng = createRng(0);
      rng.setState(a.map((w, i) => (w ^ b[i]) >>> 0));
      const out = new Float32Array(n);
      const lim = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) {
        if (kind === 'xavier') out[i] = (2 * rng.next() - 1) * lim;
        else {
          let v;
          do v = rng.normal() * 0.02;
          while (v < -2 || v > 2);
          out[i] = v;
        }
      }
      return out;
    };
    const vit = createViT({ ...small, depth: 1, seed: 42 });
    for (const [name, v] of Object.entries(vit.variables)) {
      const got = v.dataSync();
      let want: Float32Array;
      if (name === 'patch_embed.proj.weight') want = regen(42, name, v.size, 'xavier', 48, 32);
      else if (/norm\d?\.weight$/.test(name)) want = new Float32Array(v.size).fill(1);
      else if (name.endsWith('bias')) want = new Float32Array(v.size);
      else want = regen(42, name, v.size, 'trunc');
      expect(Array.from(got), name).toEqual(Array.from(want));
    }
    // per-name streams: a deeper model shares the shallow one's weights; another seed differs
    const deeper = createViT({ ...small, depth: 2, seed: 42 });
    const other = createViT({ ...small, depth: 1, seed: 43 });
    const qkv = 'blocks.0.attn.qkv.weight';
    expect(Array.from(deeper.variables[qkv].dataSync())).toEqual(Array.from(vit.variables[qkv].dataSync()));
    expect(Array.from(other.variables[qkv].dataSync())).not.toEqual(Array.from(vit.variables[qkv].dataSync()));
    const std = Math.sqrt(tf.tidy(() => vit.variables[qkv].square().mean()).dataSync()[0]);
    expect(std).toBeGreaterThan(0.017);
    expect(std).toBeLessThan(0.023);
    [vit, deeper, other].forEach((m) => m.dispose());
  });

  it('clone copies weights into new variables; dispose frees them', () => {
    const vit = createViT(small);
    const before = tf.memory().numTensors;
    const copy = vit.clone({ trainable: false });
    expect(tf.memory().numTensors).toBe(before + Object.keys(vit.variables).length);
    expect(Object.keys(copy.variables)).toEqual(Object.keys(vit.variables));
    expect(copy.trainableVariables()).toHaveLength(0);
    for (const k of Object.keys(vit.variables)) {
      expect(copy.variables[k]).not.toBe(vit.variables[k]);
      expect(copy.variables[k].name).not.toBe(vit.variables[k].name);
      expect(Array.from(copy.variables[k].dataSync())).toEqual(Array.from(vit.variables[k].dataSync()));
    }
    tf.tidy(() => vit.variables.cls_token.assign(tf.onesLike(vit.variables.cls_token)));
    expect(copy.variables.cls_token.dataSync()[0]).not.toBe(1);
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const x = tf.zeros([1, 16, 16, 3]);
    expect(() => copy.apply(x)).toThrow(MmcError);
    expect(() => copy.apply(x)).toThrow(/disposed/);
    x.dispose();
    vit.dispose();
  });

  it('validates apply inputs', () => {
    const vit = createViT(small);
    const x = tf.zeros([2, 16, 16, 3]);
    const wrong = tf.zeros([2, 16, 16, 1]);
    const badMask = tf.zeros([2, 15]);
    expect(() => vit.apply(wrong)).toThrow(ShapeError);
    expect(() => vit.apply(wrong)).toThrow(/ViT\.apply: images must have shape \[\*, 16, 16, 3\]/);
    expect(() => vit.apply(x, { tokenMask: badMask })).toThrow(/tokenMask must have shape \[2, 16\]/);
    expect(() => vit.apply(x, { returnLayers: 'yes' as unknown as boolean })).toThrow(ValueError);
    expect(() => vit.embed(wrong)).toThrow(/ViT\.embed: images/);
    const ints = tf.zeros([2, 16, 16, 3], 'int32');
    const fromInts = vit.apply(ints);
    const fromFloats = vit.apply(x);
    expect(Array.from(fromInts.cls.dataSync())).toEqual(Array.from(fromFloats.cls.dataSync()));
    tf.dispose([ints, fromInts, fromFloats]);
    tf.dispose([x, wrong, badMask]);
    vit.dispose();
  });

  it('leaks no tensor in apply, embed or tf.grad over apply', () => {
    const vit = createViT(small);
    const x = tf.randomNormal([2, 16, 16, 3]);
    const mask = tf.oneHot([1, 2], 16);
    expectNoLeak(() => vit.apply(x, { tokenMask: mask, returnLayers: true }));
    expectNoLeak(() => vit.embed(x, mask));
    expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(vit.apply(x, { tokenMask: mask }).patches) as tf.Scalar, vit.trainableVariables());
      return [value, ...Object.values(grads)];
    });
    expectNoLeak(() => tf.grad((img: tf.Tensor) => tf.sum(vit.apply(img).cls))(x));
    tf.dispose([x, mask]);
    vit.dispose();
  });
});

afterAll(() => {
  console.log(
    `[models/vit ${tf.getBackend()}] max |error| vs float64 loops: forward (cls, patches) ${forwardErr.toExponential(2)}, ` +
      `gradient vs central differences ${gradErr.toExponential(2)}, any ${largestErrorSeen().toExponential(2)}`,
  );
});
