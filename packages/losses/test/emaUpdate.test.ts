import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { emaUpdate } from '../src/emaUpdate.js';
import { expectClose, expectNoLeak, randn } from '../../../test-setup/numeric.js';

const SHAPES = [[1], [3, 4], [2, 1, 5], [7]];
let counter = 0;

function makeVars(seed: number, trainable = false): tf.Variable[] {
  return SHAPES.map((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    return tf.variable(tf.tensor(Float32Array.from(randn(seed + i, n, 2)), s), trainable, `ema_test_${seed}_${i}_${counter++}`);
  });
}
function makeTensors(seed: number): tf.Tensor[] {
  return SHAPES.map((s, i) => tf.tensor(Float32Array.from(randn(seed + 50 + i, s.reduce((a, b) => a * b, 1), 2)), s));
}
const values = (ts: tf.Tensor[]) => ts.map((t) => Float64Array.from(t.dataSync()));

/** Float64 reference on the float32 inputs: m·t + (1 − m)·s. */
function refEma(t: Float64Array, s: Float64Array, m: number): Float64Array {
  return t.map((v, i) => m * v + (1 - m) * s[i]);
}

let largestErr = 0;
afterAll(() => console.log(`emaUpdate: largest error vs float64 ${largestErr.toExponential(2)}`));

describe('emaUpdate', () => {
  it('arrays: θt ← m·θt + (1 − m)·θs, i.e. moves by (1 − m) of the difference', () => {
    for (const [seed, m] of [[1, 0.996], [2, 0.9], [3, 0.5], [4, 0.123]] as const) {
      const teacher = makeVars(seed * 10);
      const student = makeTensors(seed * 10);
      const t0 = values(teacher);
      const s0 = values(student);
      emaUpdate(teacher, student, m);
      const t1 = values(teacher);
      for (let i = 0; i < SHAPES.length; i++) {
        // |values| ≲ 8: float32 rounding of two products and a sum, atol 2e-6.
        largestErr = Math.max(largestErr, expectClose(t1[i], refEma(t0[i], s0[i], m), 2e-6));
        const step = t1[i].map((v, k) => v - t0[i][k]);
        const want = s0[i].map((v, k) => (1 - m) * (v - t0[i][k]));
        largestErr = Math.max(largestErr, expectClose(step, want, 2e-6));
      }
      expect(values(student)).toEqual(s0); // the student is only read
      tf.dispose([...teacher, ...student]);
    }
  });

  it('records: matched by name, key order irrelevant', () => {
    const [a, b] = makeVars(70);
    const [sa, sb] = makeTensors(70);
    const ta0 = Float64Array.from(a.dataSync());
    const tb0 = Float64Array.from(b.dataSync());
    emaUpdate({ 'blocks.0.w': a, 'blocks.0.b': b }, { 'blocks.0.b': sb, 'blocks.0.w': sa }, 0.8);
    largestErr = Math.max(
      largestErr,
      expectClose(a.dataSync(), refEma(ta0, Float64Array.from(sa.dataSync()), 0.8), 2e-6),
      expectClose(b.dataSync(), refEma(tb0, Float64Array.from(sb.dataSync()), 0.8), 2e-6),
    );
    tf.dispose([a, b, sa, sb]);
  });

  it('m = 1 leaves the teacher bit-identical; m = 0 copies the student exactly', () => {
    const teacher = makeVars(80);
    const student = makeTensors(80);
    const t0 = values(teacher);
    emaUpdate(teacher, student, 1);
    expect(values(teacher)).toEqual(t0);
    const nan = teacher.map((t) => tf.fill(t.shape, NaN));
    emaUpdate(teacher, nan, 1); // no arithmetic at m = 1
    expect(values(teacher)).toEqual(t0);
    emaUpdate(teacher, student, 0);
    expect(values(teacher)).toEqual(values(student));
    // the copy is independent of the student afterwards
    emaUpdate(teacher, makeTensors(81), 0.5);
    expect(values(student)).not.toEqual(values(teacher));
    tf.dispose([...teacher, ...student, ...nan]);
  });

  it('keeps names, trainability, and accepts Variables as the student', () => {
    const teacher = makeVars(90, false);
    const student = makeVars(91, true);
    const names = teacher.map((v) => v.name);
    emaUpdate(teacher, student, 0.7);
    expect(teacher.map((v) => v.name)).toEqual(names);
    expect(teacher.every((v) => v.trainable === false)).toBe(true);
    expect(student.every((v) => v.trainable === true)).toBe(true);
    const trainableTeacher = makeVars(92, true);
    emaUpdate(trainableTeacher, student, 0.7);
    expect(trainableTeacher.every((v) => v.trainable === true)).toBe(true);
    tf.dispose([...teacher, ...student, ...trainableTeacher]);
  });

  it('leaks no tensors over 10 updates and keeps the student alive', () => {
    const teacher = makeVars(100);
    const student = makeTensors(100);
    expectNoLeak(() => {
      for (let k = 0; k < 10; k++) emaUpdate(teacher, student, 0.9 + k * 0.01);
      emaUpdate(teacher, student, 0);
      emaUpdate(teacher, student, 1);
    });
    expect(student.every((s) => !s.isDisposed)).toBe(true);
    expect(teacher.every((t) => !t.isDisposed)).toBe(true);
    expect(values(teacher)).toEqual(values(student));
    tf.dispose([...teacher, ...student]);
  });

  it('validates everything before writing anything', () => {
    const teacher = makeVars(110);
    const student = makeTensors(110);
    student[2].dispose();
    student[2] = tf.zeros([2, 5]);
    const t0 = values(teacher);
    expect(() => emaUpdate(teacher, student, 0.5)).toThrow(ShapeError);
    expect(values(teacher)).toEqual(t0);
    tf.dispose([...teacher, ...student]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const teacher = makeVars(120);
    const student = makeTensors(120);
    for (const m of [NaN, -0.1, 1.5, Infinity, '0.9' as unknown as number]) {
      expect(() => emaUpdate(teacher, student, m)).toThrow(ValueError);
      expect(() => emaUpdate(teacher, student, m)).toThrow(/emaUpdate: momentum/);
    }
    expect(() => emaUpdate(teacher, student.slice(1), 0.5)).toThrow(ShapeError);
    expect(() => emaUpdate(teacher, student.slice(1), 0.5)).toThrow(/student must have 4 tensors.*got 3/);
    const bad = [...student];
    bad[1] = tf.zeros([4, 3]);
    expect(() => emaUpdate(teacher, bad, 0.5)).toThrow(/student\[1\] must have shape \[3, 4\].*got \[4, 3\]/);
    const t = { w: teacher[0], b: teacher[1] };
    expect(() => emaUpdate(t, { w: student[0], c: student[1] }, 0.5)).toThrow(ShapeError);
    expect(() => emaUpdate(t, { w: student[0], c: student[1] }, 0.5)).toThrow(/missing b; extra c/);
    expect(() => emaUpdate(t, { w: student[0] }, 0.5)).toThrow(/missing b/);
    expect(() => emaUpdate(t, { w: student[0], b: student[1], x: student[2] }, 0.5)).toThrow(/extra x/);
    expect(() => emaUpdate(t, { w: student[0], b: bad[1] }, 0.5)).toThrow(/student\['b'\] must have shape \[3, 4\].*got \[4, 3\]/);
    expect(() => emaUpdate(t, student, 0.5)).toThrow(ValueError);
    expect(() => emaUpdate(student as tf.Variable[], teacher, 0.5)).toThrow(/teacher\[0\] must be a tf.Variable/);
    expect(() => emaUpdate(null as never, student, 0.5)).toThrow(/teacher/);
    expect(() => emaUpdate(teacher, null as never, 0.5)).toThrow(/student/);
    tf.dispose([...teacher, ...student, ...bad]);
  });
});
