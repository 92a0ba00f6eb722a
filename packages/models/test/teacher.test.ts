import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MmcError, ShapeError, ValueError } from '@mmc/core';
import { createTeacher, createViT, mlpHead, pixelDecoder, type ViTConfig } from '@mmc/models';
import { expectClose } from '../../../test-setup/numeric';

const small: ViTConfig = { imageSize: 16, patchSize: 4, dim: 16, depth: 1, heads: 2 };

function snapshot(vars: Record<string, tf.Variable>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
}

/** Moves every student weight by a seeded perturbation so teacher and student differ. */
function perturb(vars: Record<string, tf.Variable>, seed: number): void {
  let s = seed;
  for (const v of Object.values(vars)) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', ++s))));
}

describe('createTeacher', () => {
  it('copies a module: same names and values, new non-trainable variables, same outputs', () => {
    const vit = createViT(small);
    const teacher = createTeacher(vit);
    expect(Object.keys(teacher.variables)).toEqual(Object.keys(vit.variables));
    for (const [k, v] of Object.entries(teacher.variables)) {
      expect(v.trainable, k).toBe(false);
      expect(v).not.toBe(vit.variables[k]);
      expect(Array.from(v.dataSync())).toEqual(Array.from(vit.variables[k].dataSync()));
    }
    expect(teacher.model.trainableVariables()).toHaveLength(0);
    expect(vit.trainableVariables()).toHaveLength(Object.keys(vit.variables).length);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 2);
    const a = vit.apply(x);
    const b = teacher.apply(x);
    expect(Array.from(b.cls.dataSync())).toEqual(Array.from(a.cls.dataSync()));
    // an optimizer without varList trains every trainable variable: the student, never the teacher
    const t0 = snapshot(teacher.variables);
    const s0 = snapshot(vit.variables);
    const sgd = tf.train.sgd(0.5);
    sgd.minimize(() => tf.add(tf.sum(teacher.apply(x).patches.square()), tf.sum(vit.apply(x).patches.square())) as tf.Scalar);
    sgd.dispose();
    for (const [k, v] of Object.entries(teacher.variables)) expect(Array.from(v.dataSync()), k).toEqual(Array.from(t0[k]));
    expect(Array.from(vit.variables['norm.weight'].dataSync())).not.toEqual(Array.from(s0['norm.weight']));
    tf.dispose([x, a, b]);
    teacher.dispose();
    // the student survives the teacher's disposal
    expect(vit.variables.cls_token.isDisposed).toBe(false);
    vit.dispose();
  });

  it('update moves the teacher toward the student by exactly (1 − m) of the difference', () => {
    const vit = createViT(small);
    const teacher = createTeacher(vit);
    perturb(vit.variables, 10);
    for (const m of [0.996, 0.5, 0, 1]) {
      const t0 = snapshot(teacher.variables);
      const s = snapshot(vit.variables);
      teacher.update(vit, m);
      for (const [k, v] of Object.entries(teacher.variables)) {
        const want = Array.from(t0[k], (t, i) => m * t + (1 - m) * s[k][i]);
        expectClose(v.dataSync(), want, 1e-6);
      }
      if (m === 1) for (const [k, v] of Object.entries(teacher.variables)) expect(Array.from(v.dataSync())).toEqual(Array.from(t0[k]));
      if (m === 0) for (const [k, v] of Object.entries(teacher.variables)) expect(Array.from(v.dataSync())).toEqual(Array.from(s[k]));
      perturb(vit.variables, 20);
    }
    expect(Object.values(teacher.variables).every((v) => !v.trainable)).toBe(true);
    teacher.dispose();
    vit.dispose();
  });

  it('copies and updates a record of modules with prefixed names', () => {
    const student = { backbone: createViT(small), head: mlpHead({ inDim: 16, hiddenDim: 8, outDim: 4 }), decoder: pixelDecoder({ inDim: 16, patchSize: 4 }) };
    const teacher = createTeacher(student);
    expect(teacher.apply).toBeUndefined();
    expect(Object.keys(teacher.variables)).toEqual([
      ...Object.keys(student.backbone.variables).map((k) => `backbone.${k}`),
      ...Object.keys(student.head.variables).map((k) => `head.${k}`),
      ...Object.keys(student.decoder.variables).map((k) => `decoder.${k}`),
    ]);
    expect(teacher.variables['head.mlp.0.weight']).toBe(teacher.model.head.variables['mlp.0.weight']);
    perturb(student.head.variables, 30);
    const before = snapshot(teacher.variables);
    teacher.update(student, 0.9);
    const want = Array.from(before['head.mlp.2.bias'], (t, i) => 0.9 * t + 0.1 * student.head.variables['mlp.2.bias'].dataSync()[i]);
    expectClose(teacher.variables['head.mlp.2.bias'].dataSync(), want, 1e-6);
    const x = tf.randomNormal([1, 16, 16, 3]);
    const out = teacher.model.backbone.apply(x);
    const z = teacher.model.head.apply(out.cls);
    expect(z.shape).toEqual([1, 4]);
    tf.dispose([x, out, z]);
    // mismatched students are rejected before any write
    expect(() => teacher.update({ backbone: student.backbone, head: student.head } as typeof student, 0.9)).toThrow(/keys backbone, head, decoder/);
    expect(() => teacher.update(student.backbone as unknown as typeof student, 0.9)).toThrow(ValueError);
    const other = { ...student, head: mlpHead({ inDim: 16, hiddenDim: 8, outDim: 5 }) };
    expect(() => teacher.update(other, 0.9)).toThrow(ShapeError);
    expect(() => teacher.update(student, 1.5)).toThrow(/momentum/);
    other.head.dispose();
    teacher.dispose();
    expect(() => teacher.update(student, 0.9)).toThrow(MmcError);
    Object.values(student).forEach((m) => m.dispose());
  });

  it('rejects a non-module student', () => {
    expect(() => createTeacher({} as never)).toThrow(/createTeacher: student must be a Module or a non-empty record/);
    expect(() => createTeacher({ a: 3 } as never)).toThrow(/student\.a must be a Module/);
    expect(() => createTeacher(null as never)).toThrow(ValueError);
  });

  it('leaks no tensor over 5 Adam steps with teacher updates', () => {
    const vit = createViT(small);
    const head = mlpHead({ inDim: 16, hiddenDim: 16, outDim: 8, normLast: true });
    const student = { backbone: vit, head };
    const teacher = createTeacher(student);
    const opt = tf.train.adam(1e-3);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 4);
    const mask = tf.oneHot([3, 7], 16);
    const varList = [...vit.trainableVariables(), ...head.trainableVariables()];
    const step = () => {
      const loss = opt.minimize(
        () => {
          const s = head.apply(vit.apply(x, { tokenMask: mask }).cls);
          const t = tf.tidy(() => teacher.model.head.apply(teacher.model.backbone.apply(x).cls));
          return tf.neg(tf.mean(tf.sum(tf.mul(s, t), -1))) as tf.Scalar;
        },
        true,
        varList,
      );
      teacher.update(student, 0.99);
      return loss;
    };
    step()!.dispose(); // Adam creates its slots on the first step
    const before = tf.memory().numTensors;
    const t0 = snapshot(teacher.variables);
    for (let i = 0; i < 5; i++) step()!.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(teacher.variables['backbone.blocks.0.attn.qkv.weight'].dataSync())).not.toEqual(Array.from(t0['backbone.blocks.0.attn.qkv.weight']));
    opt.dispose();
    tf.dispose([x, mask]);
    teacher.dispose();
    vit.dispose();
    head.dispose();
  });
});
