import type * as tf from '@tensorflow/tfjs';

/** Options of `Module.clone`. */
export interface CloneOptions {
  /** Whether the copy's variables are trainable (default true; teachers use false). */
  trainable?: boolean;
}

/**
 * The common shape of every model part in @mmc/models (ViT backbone, MLP head, pixel decoder):
 * a bag of named tf.Variables plus a pure forward function over them.
 *
 * - `variables`: every weight by its checkpoint name (`blocks.0.attn.qkv.weight`, `mlp.0.bias`, …),
 *   stored in tfjs' fast layout (Linear weights `[in, out]`, see `toTimmLayout`).
 * - `apply(...)`: the forward pass, tidy (returned tensors belong to the caller).
 * - `trainableVariables()`: the variables an optimizer should update (pass as `varList`).
 * - `clone()`: same configuration, copied weights, new variables (trainable unless told).
 * - `dispose()`: frees the variables; the module cannot be used afterwards.
 *
 * @example
 * ```ts
 * const head: Module = mlpHead({ inDim: 192 });
 * const copy = head.clone({ trainable: false });
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Module<Args extends unknown[] = any[], Out = unknown> {
  readonly variables: Record<string, tf.Variable>;
  apply(...args: Args): Out;
  trainableVariables(): tf.Variable[];
  clone(options?: CloneOptions): Module<Args, Out>;
  dispose(): void;
}
