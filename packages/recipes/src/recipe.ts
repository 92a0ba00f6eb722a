import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '@mmc/core';

/** Named scalar losses of one step; `loss` is the one optimised, the others are logged. */
export type LossParts = { loss: tf.Scalar } & Record<string, tf.Scalar>;

/**
 * A self-supervised recipe: the networks and the two functions a training step needs. The trainer
 * calls `views` outside the gradient (masks, crops and noise are made on the host from the rng),
 * then differentiates `losses(views)` with respect to `variables()`, steps the optimizer, and calls
 * `afterStep` (the teacher's EMA update).
 */
export interface Recipe<V extends tf.TensorContainer = tf.TensorContainer> {
  /** Registry name, e.g. `'mmc'`. */
  name: string;
  /** The student backbone (a ViT). */
  student: { variables: Record<string, tf.Variable>; dispose(): void };
  /** Trainable heads by role, e.g. `{ mim, patch, global }`. */
  heads: Record<string, { variables: Record<string, tf.Variable>; dispose(): void }>;
  /** The EMA teacher, if the recipe has one. */
  teacher?: { variables: Record<string, tf.Variable>; dispose(): void };
  /** Every trainable variable (student backbone and heads) by a unique name. */
  variables(): Record<string, tf.Variable>;
  /** Everything a checkpoint must hold beyond `variables()` (teacher weights, centers), by name. */
  state(): Record<string, tf.Variable>;
  /** Builds the step's inputs from a batch `[B, H, W, C]`; the trainer disposes them. */
  views(batch: tf.Tensor4D, rng: Rng): V;
  /** The step's losses from its views, differentiable with respect to `variables()`. */
  losses(views: V): LossParts;
  /** Called after each optimizer step with that step's teacher momentum. */
  afterStep?(ctx: { step: number; momentum: number }): void;
  dispose(): void;
}

/**
 * A source of training images (e.g. `scenes()` or `fashionScenes()` of @mmc/data): `batch` returns
 * NHWC float32 values in [0, 1]; recipes normalise them in `views`.
 */
export interface TrainDataset {
  readonly count: number;
  batch(indices: number[]): { images: Float32Array; shape: [number, number, number, number] };
}
