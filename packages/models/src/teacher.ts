import type * as tf from '@tensorflow/tfjs';
import { describe, ValueError } from '@mmc/core';
import { emaUpdate } from '@mmc/losses';
import type { Module } from './module.js';
import { assertAlive, disposeVariables } from './variableStore.js';

/** Several modules trained together (e.g. `{ backbone, head }`). */
export type ModuleRecord = Record<string, Module>;

/** A frozen EMA copy of a student; see {@link createTeacher}. */
export interface Teacher<S extends Module | ModuleRecord> {
  /** The frozen copy: a module like the student, or a record of copies under the same keys. */
  readonly model: S;
  /**
   * All teacher variables (non-trainable). A single module keeps the student's names; a record
   * prefixes them with the key, `backbone.blocks.0.attn.qkv.weight`, `head.mlp.0.weight` (the
   * names of DINO's / iBOT's `teacher` state dict).
   */
  readonly variables: Record<string, tf.Variable>;
  /** The copy's forward pass, for a single-module teacher (records: `teacher.model[key].apply`). */
  readonly apply: S extends Module<infer A, infer O> ? (...args: A) => O : undefined;
  /** θt ← m·θt + (1 − m)·θs for every variable, in place (`emaUpdate` of @mmc/losses). */
  update(student: S, momentum: number): void;
  /** Frees the teacher's variables (not the student's). */
  dispose(): void;
}

function isModule(x: unknown): x is Module {
  return (
    x != null &&
    typeof x === 'object' &&
    typeof (x as Module).apply === 'function' &&
    typeof (x as Module).clone === 'function' &&
    (x as Module).variables != null &&
    typeof (x as Module).variables === 'object'
  );
}

/** The variables of a module or a record of modules, keyed as in {@link Teacher.variables}. */
function flatten(fn: string, arg: string, s: Module | ModuleRecord, keys: string[] | null): Record<string, tf.Variable> {
  if (isModule(s)) {
    if (keys !== null) throw new ValueError(`${fn}: ${arg} must be a record of modules with keys ${keys.join(', ')} (like the teacher), got a module`);
    return s.variables;
  }
  if (s == null || typeof s !== 'object') throw new ValueError(`${fn}: ${arg} must be a Module or a record of Modules, got ${describe(s)}`);
  const rec = s as ModuleRecord;
  if (keys === null && Object.keys(rec).length > 0 && Object.values(rec).every(isModule)) {
    throw new ValueError(`${fn}: ${arg} must be a single module (like the teacher), got a record of modules`);
  }
  const out: Record<string, tf.Variable> = {};
  const want = keys ?? Object.keys(rec);
  const got = Object.keys(rec);
  if (keys !== null && (got.length !== want.length || !want.every((k) => got.includes(k)))) {
    throw new ValueError(`${fn}: ${arg} must have the keys ${want.join(', ')} (like the teacher), got ${got.join(', ') || 'none'}`);
  }
  for (const key of want) {
    const m = rec[key];
    if (!isModule(m)) throw new ValueError(`${fn}: ${arg}.${key} must be a Module (variables, apply, clone), got ${describe(m)}`);
    for (const [name, v] of Object.entries(m.variables)) out[`${key}.${name}`] = v;
  }
  return out;
}

/**
 * Creates the momentum (EMA) teacher of a student, as DINO / iBOT / SiT / MoCo v3 / MMC: a
 * frozen copy with the same architecture and weights, whose variables are not trainable and
 * keep the student's names, updated after each optimizer step by
 *
 *     θt ← m · θt + (1 − m) · θs      (m from cosineSchedule({ base: 0.996, final: 1, … }))
 *
 * The student may be one module (a ViT) or a record of modules (`{ backbone, head }`, a whole
 * recipe's student side; DINO's `MultiCropWrapper`), copied and updated together.
 *
 * @param student a {@link Module} or a record of them
 * @returns a {@link Teacher}: `model` (the copy), `variables`, `apply` (single module),
 *   `update(student, momentum)`, `dispose()`
 * @example
 * ```ts
 * const student = { backbone: createViT(vitTiny({ imageSize: 32, patchSize: 4 })), head: mlpHead({ inDim: 192 }) };
 * const teacher = createTeacher(student);
 * const { cls } = teacher.model.backbone.apply(images);
 * // after optimizer.minimize(...):
 * teacher.update(student, 0.996);
 * ```
 */
export function createTeacher<S extends Module | ModuleRecord>(student: S): Teacher<S> {
  const fn = 'createTeacher';
  let model: Module | ModuleRecord;
  let keys: string[] | null = null;
  if (isModule(student)) {
    model = student.clone({ trainable: false });
  } else {
    if (student == null || typeof student !== 'object' || Object.keys(student).length === 0) {
      throw new ValueError(`${fn}: student must be a Module or a non-empty record of Modules, got ${describe(student)}`);
    }
    const rec = student as ModuleRecord;
    keys = Object.keys(rec);
    for (const k of keys) {
      if (!isModule(rec[k])) throw new ValueError(`${fn}: student.${k} must be a Module (variables, apply, clone), got ${describe(rec[k])}`);
    }
    const copies: ModuleRecord = {};
    for (const k of keys) copies[k] = rec[k].clone({ trainable: false });
    model = copies;
  }
  const variables = flatten(fn, 'student', model as S, keys);
  const single = isModule(model);
  const apply = single ? (model as Module).apply.bind(model) : undefined;
  return {
    model: model as S,
    variables,
    apply: apply as Teacher<S>['apply'],
    update(s: S, momentum: number): void {
      const ufn = 'Teacher.update';
      assertAlive(ufn, variables);
      emaUpdate(variables, flatten(ufn, 'student', s, keys), momentum);
    },
    dispose(): void {
      if (single) (model as Module).dispose();
      else for (const m of Object.values(model as ModuleRecord)) m.dispose();
      disposeVariables(variables);
    },
  };
}
