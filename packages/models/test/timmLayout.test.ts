import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { patchify, ShapeError, ValueError } from '@mmc/core';
import { createViT, fromTimmLayout, toTimmLayout } from '@mmc/models';
import { expectClose, expectNoLeak } from '../../../test-setup/numeric';

describe('toTimmLayout / fromTimmLayout', () => {
  it('Linear weights transpose: ours [in, out] ↔ torch [out, in]', () => {
    const ours = tf.tensor2d([[1, 2, 3], [4, 5, 6]]); // in 2, out 3
    const torch = toTimmLayout('blocks.0.mlp.fc1.weight', ours);
    expect(torch.shape).toEqual([3, 2]);
    expect(torch.arraySync()).toEqual([[1, 4], [2, 5], [3, 6]]);
    const back = fromTimmLayout('blocks.0.mlp.fc1.weight', torch);
    expect(back.arraySync()).toEqual(ours.arraySync());
    const head = toTimmLayout('mlp.0.weight', ours);
    expect(head.shape).toEqual([3, 2]);
    tf.dispose([ours, torch, back, head]);
  });

  it('patch embedding: a hand-built Conv2d weight gives the same tokens as conv2d on the image', () => {
    // torch OIHW weight [D=2, C=2, p=2, p=2] with distinct entries w[d][c][i][j] = 1000d + 100c + 10i + j
    const D = 2;
    const C = 2;
    const p = 2;
    const w: number[][][][] = [];
    for (let d = 0; d < D; d++) {
      w.push([]);
      for (let c = 0; c < C; c++) {
        w[d].push([]);
        for (let i = 0; i < p; i++) w[d][c].push(Array.from({ length: p }, (_, j) => 1000 * d + 100 * c + 10 * i + j));
      }
    }
    const torchW = tf.tensor4d(w);
    const ours = fromTimmLayout('patch_embed.proj.weight', torchW, { patchSize: 2, channels: 2 });
    expect(ours.shape).toEqual([8, 2]);
    // row (i·p + j)·C + c, column d  ↔  w[d][c][i][j]
    const o = ours.arraySync() as number[][];
    for (let d = 0; d < D; d++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) expect(o[(i * p + j) * C + c][d]).toBe(w[d][c][i][j]);
    // semantics: patchify · ours equals a stride-p convolution with the torch weight (HWIO filter)
    const img = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 3);
    const viaPatches = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(patchify(img, 2), [-1, 8]), ours), [1, 2, 2, 2]));
    const viaConv = tf.tidy(() => tf.conv2d(img as tf.Tensor4D, tf.transpose(torchW, [2, 3, 1, 0]) as tf.Tensor4D, 2, 'valid'));
    expectClose(viaPatches.dataSync(), viaConv.dataSync(), 1e-3, 1e-6);
    const back = toTimmLayout('patch_embed.proj.weight', ours, { patchSize: 2, channels: 2 });
    expect(back.arraySync()).toEqual(w);
    tf.dispose([torchW, ours, img, viaPatches, viaConv, back]);
  });

  it('round-trips every variable of a ViT; non-Linear tensors are unchanged', () => {
    const vit = createViT({ imageSize: 8, patchSize: 4, channels: 3, dim: 8, depth: 1, heads: 2 });
    const geometry = { patchSize: 4, channels: 3 };
    const torchShapes: Record<string, number[]> = {
      cls_token: [1, 1, 8],
      pos_embed: [1, 5, 8],
      mask_token: [1, 1, 8],
      'patch_embed.proj.weight': [8, 3, 4, 4],
      'patch_embed.proj.bias': [8],
      'blocks.0.attn.qkv.weight': [24, 8],
      'blocks.0.attn.qkv.bias': [24],
      'blocks.0.mlp.fc1.weight': [32, 8],
      'blocks.0.mlp.fc2.weight': [8, 32],
      'blocks.0.norm1.weight': [8],
      'norm.bias': [8],
    };
    for (const [name, v] of Object.entries(vit.variables)) {
      const t = toTimmLayout(name, v, geometry);
      if (name in torchShapes) expect(t.shape, name).toEqual(torchShapes[name]);
      const back = fromTimmLayout(name, t, geometry);
      expect(back.shape).toEqual(v.shape);
      expect(Array.from(back.dataSync())).toEqual(Array.from(v.dataSync()));
      expect(back).not.toBe(v);
      tf.dispose([t, back]);
    }
    // prefixed names (teacher records) convert the same way; 3 channels are assumed without a config
    const pw = vit.variables['patch_embed.proj.weight'];
    const a = toTimmLayout('backbone.patch_embed.proj.weight', pw);
    expect(a.shape).toEqual([8, 3, 4, 4]);
    expectNoLeak(() => toTimmLayout('blocks.0.attn.proj.weight', vit.variables['blocks.0.attn.proj.weight']));
    expectNoLeak(() => fromTimmLayout('patch_embed.proj.weight', a));
    a.dispose();
    vit.dispose();
  });

  it('rejects inconsistent patch geometry and bad arguments', () => {
    const w = tf.zeros([48, 8]);
    const conv = tf.zeros([8, 3, 4, 4]);
    const odd = tf.zeros([50, 8]);
    expect(() => toTimmLayout('patch_embed.proj.weight', w, { patchSize: 2, channels: 3 })).toThrow(ShapeError);
    expect(() => toTimmLayout('patch_embed.proj.weight', odd)).toThrow(ValueError);
    expect(() => toTimmLayout('patch_embed.proj.weight', odd)).toThrow(/config .* is required/);
    expect(() => fromTimmLayout('patch_embed.proj.weight', w)).toThrow(/must have shape \[D, C, p, p\]/);
    expect(() => fromTimmLayout('patch_embed.proj.weight', conv, { patchSize: 4, channels: 1 })).toThrow(ShapeError);
    expect(() => fromTimmLayout('patch_embed.proj.weight', conv, { patchSize: 0, channels: 3 })).toThrow(/config\.patchSize/);
    expect(() => toTimmLayout(3 as unknown as string, w)).toThrow(/toTimmLayout: name must be a string/);
    expect(() => fromTimmLayout('x', null as unknown as tf.Tensor)).toThrow(/fromTimmLayout: tensor must be a tf\.Tensor/);
    tf.dispose([w, conv, odd]);
  });
});
