import * as tf from '@tensorflow/tfjs';
import { MmcError } from '@mmc/core';

/**
 * Variable bookkeeping shared by the modules of this package. tfjs requires globally unique
 * variable names, so each module instance gets a scope (`mmc/vit_3/`) and its variables are
 * registered as `scope + key`; the module's `variables` record is keyed by the plain key
 * (`blocks.0.attn.qkv.weight`), which is the name users and checkpoints see.
 */

let counter = 0;

/** A fresh, process-unique tfjs name scope such as `mmc/vit_3/`. */
export function uniqueScope(kind: string): string {
  counter += 1;
  return `mmc/${kind}_${counter}/`;
}

/** Initial values of a module's variables: shape and float32 data, by key, in creation order. */
export type InitialValues = Record<string, { shape: number[]; data: Float32Array } | tf.Tensor>;

/**
 * Creates one tf.Variable per key (in the record's order), named `scope + key`. Values given as
 * tensors (another module's variables, for `clone`) are copied; the caller keeps ownership of them.
 */
export function makeVariables(kind: string, values: InitialValues, trainable: boolean): Record<string, tf.Variable> {
  const scope = uniqueScope(kind);
  const out: Record<string, tf.Variable> = {};
  for (const [key, v] of Object.entries(values)) {
    if (v instanceof tf.Tensor) {
      out[key] = tf.tidy(() => tf.variable(tf.clone(v), trainable, scope + key, 'float32'));
    } else {
      const t = tf.tensor(v.data, v.shape, 'float32');
      out[key] = tf.variable(t, trainable, scope + key, 'float32');
      t.dispose();
    }
  }
  return out;
}

/** The module's variables whose `trainable` flag is set, in record order. */
export function trainableOf(variables: Record<string, tf.Variable>): tf.Variable[] {
  return Object.values(variables).filter((v) => v.trainable);
}

/** Total element count of the variables. */
export function countParams(variables: Record<string, tf.Variable>): number {
  let n = 0;
  for (const v of Object.values(variables)) n += v.size;
  return n;
}

/** Disposes every variable once; later calls are no-ops. */
export function disposeVariables(variables: Record<string, tf.Variable>): void {
  for (const v of Object.values(variables)) if (!v.isDisposed) v.dispose();
}

/** Throws if the module was disposed (its variables are gone). */
export function assertAlive(fn: string, variables: Record<string, tf.Variable>): void {
  const first = Object.values(variables)[0];
  if (first !== undefined && first.isDisposed) {
    throw new MmcError(`${fn}: this module was disposed; create a new one`, 'E_DISPOSED');
  }
}
